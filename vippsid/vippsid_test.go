package vippsid

import (
	"regexp"
	"strings"
	"testing"
)

// The hand-written checks agree with the documented patterns.
func TestAgreesWithThePatterns(t *testing.T) {
	ref, msn := regexp.MustCompile(ReferencePattern), regexp.MustCompile(MSNPattern)
	for _, s := range []string{"", "1234", "12345", "123456", "1234567", "12a4", "OSLO1-2-k7f3-17", "short-1",
		"exactly8", strings.Repeat("a", 50), strings.Repeat("a", 51), "with space-1", "æøå-1234", "OSLO1_2_k7f3"} {
		if Reference(s) != ref.MatchString(s) {
			t.Errorf("Reference(%q) = %v, the pattern says %v", s, Reference(s), ref.MatchString(s))
		}
		if MSN(s) != msn.MatchString(s) {
			t.Errorf("MSN(%q) = %v, the pattern says %v", s, MSN(s), msn.MatchString(s))
		}
	}
}

func FuzzAgreesWithThePatterns(f *testing.F) {
	ref, msn := regexp.MustCompile(ReferencePattern), regexp.MustCompile(MSNPattern)
	f.Add("OSLO1-2-k7f3-17")
	f.Add("123456")
	f.Fuzz(func(t *testing.T, s string) {
		if Reference(s) != ref.MatchString(s) || MSN(s) != msn.MatchString(s) {
			t.Fatalf("%q: Reference %v MSN %v, the patterns say %v %v", s, Reference(s), MSN(s), ref.MatchString(s), msn.MatchString(s))
		}
	})
}
