package eventlog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kasse/till"
)

func TestAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	for i := range 2 {
		l, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Record(till.Event{Time: time.Date(2026, 11, 21, 9, i, 0, 0, time.UTC), Kind: till.EventRefundPINRefused, Cashier: "1"}); err != nil {
			t.Fatal(err)
		}
		l.Close()
	}
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], `"kind":"refund-pin-refused","cashier":"1"`) {
		t.Fatalf("record:\n%s", b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
}
