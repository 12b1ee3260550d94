package escpos

import (
	"slices"
	"testing"
)

func TestWrap(t *testing.T) {
	got := Wrap("ab cd efghijk l OSLO1-2-k7f3", 6)
	want := []string{"ab cd", "efghij", "k l", "OSLO1-", "2-k7f3"}
	if !slices.Equal(got, want) {
		t.Errorf("wrap = %q, want %q", got, want)
	}
	if got := Wrap("", 10); len(got) != 1 || got[0] != "" {
		t.Errorf("Wrap(\"\") = %q", got)
	}
}
