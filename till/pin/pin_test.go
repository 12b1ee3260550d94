package pin

import (
	"crypto/rand"
	"strings"
	"testing"
)

// Cheap costs for tests; the default's are checked once.
var fast = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashAndVerify(t *testing.T) {
	h, err := Hash("4711", Default, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "4711") {
		t.Fatalf("hash %s", h)
	}
	if !Verify(h, "4711") || Verify(h, "4712") || Verify(h, "") {
		t.Fatal("verify")
	}
	h2, _ := Hash("4711", fast, rand.Reader)
	if h2 == h || !Verify(h2, "4711") {
		t.Fatal("a fresh salt each time, and the costs come from the hash")
	}
	for _, bad := range []string{"123", "1234567890123", "12a4", ""} {
		if _, err := Hash(bad, fast, rand.Reader); err == nil {
			t.Errorf("PIN %q accepted", bad)
		}
	}
}

func TestParseRefusesJunk(t *testing.T) {
	good, _ := Hash("1234", fast, rand.Reader)
	for _, bad := range []string{
		"", "1234", "$2b$10$abcdefghijklmnopqrstuv", strings.Replace(good, "argon2id", "argon2i", 1),
		strings.Replace(good, "m=64", "m=4194304", 1), // 4 GiB
		strings.Replace(good, "t=1", "t=1000", 1),
		good[:len(good)-30],
	} {
		if err := Parse(bad); err == nil || !strings.Contains(err.Error(), "kassectl pin hash") {
			t.Errorf("Parse(%q) = %v", bad, err)
		}
		if Verify(bad, "1234") {
			t.Errorf("Verify(%q) matched", bad)
		}
	}
}

func TestSet(t *testing.T) {
	h := func(p string) string { s, _ := Hash(p, fast, rand.Reader); return s }
	s, err := NewSet([]Cashier{{ID: "1", Hash: h("1111")}, {ID: "9", Hash: h("9999"), Supervisor: true}, {ID: "8", Hash: h("8888"), Supervisor: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Login() || !s.Supervisors() || !s.Check("1", "1111") || s.Check("1", "9999") || s.Check("2", "1111") {
		t.Fatal("check")
	}
	if id, ok := s.Supervisor("8888"); !ok || id != "8" {
		t.Fatalf("supervisor %q %v", id, ok)
	}
	if _, ok := s.Supervisor("1111"); ok {
		t.Fatal("a cashier's PIN approved a refund")
	}
	if _, err := NewSet([]Cashier{{ID: "1", Hash: h("1111")}, {ID: "1", Hash: h("2222")}}); err == nil {
		t.Fatal("a duplicate id accepted")
	}
	if _, err := NewSet([]Cashier{{ID: "1", Hash: "1111"}}); err == nil {
		t.Fatal("a plain PIN accepted as a hash")
	}
	empty, _ := NewSet(nil)
	if empty.Login() || empty.Supervisors() {
		t.Fatal("an empty set asks for a login")
	}
}
