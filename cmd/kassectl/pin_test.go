package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"kasse/till/pin"
)

func TestPinHash(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString("4711\n")
	w.Close()
	var out, prompt bytes.Buffer
	if err := pinHash([]string{"hash"}, r, &out, &prompt); err != nil {
		t.Fatal(err)
	}
	h := strings.TrimSpace(out.String())
	if !strings.HasPrefix(h, "$argon2id$") || !pin.Verify(h, "4711") || strings.Contains(out.String()+prompt.String(), "4711") {
		t.Fatalf("output %q, prompt %q", out.String(), prompt.String())
	}
	r, w, _ = os.Pipe()
	w.WriteString("12\n")
	w.Close()
	if err := pinHash([]string{"hash"}, r, &out, &prompt); err == nil || !strings.Contains(err.Error(), "4 to 12 digits") {
		t.Fatalf("a 2-digit PIN: %v", err)
	}
	if err := pinHash(nil, r, &out, &prompt); err == nil {
		t.Fatal("pin with no command")
	}
}
