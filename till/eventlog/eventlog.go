// Package eventlog is the till's small append-only event record: one JSON
// line per login, logout, lock, approved refund and refused PIN, synced
// before the till goes on. It is not the electronic journal the cash
// register rules ask for (SAF-T events 13xxx), which is its own piece of
// work; a PIN never reaches it.
package eventlog

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"kasse/till"
)

// File appends events to one file.
type File struct {
	mu sync.Mutex
	f  *os.File
}

// Open opens (or creates, mode 0600) the record at path for appending.
func Open(path string) (*File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("event record: %w: check that kassed may write its data directory", err)
	}
	return &File{f: f}, nil
}

// Record appends ev and syncs it.
func (l *File) Record(ev till.Event) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("event record %s: %w", l.f.Name(), err)
	}
	return l.f.Sync()
}

// Close closes the file.
func (l *File) Close() error { return l.f.Close() }
