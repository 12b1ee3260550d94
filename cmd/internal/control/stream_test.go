package control

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kasse/store"
)

// endless is a journal of as many rows as a reader takes, or of failAfter
// rows and then an error; it counts what it produced and says when its read
// ended.
type endless struct {
	failAfter int
	produced  atomic.Int64
	ended     chan error
}

func (e *endless) row(i int) store.Row {
	return store.Row{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano),
		Type: store.RowSale, Reference: fmt.Sprintf("OSLO1-2-k7f3-%d", i+1), Store: "OSLO1", Lane: "2",
		Amount: "125.00", Currency: "NOK", State: store.StateCaptured}
}

func (e *endless) Rows(f store.Filter, fn func(store.Row) error) error {
	var err error
	for i := 0; err == nil; i++ {
		if e.failAfter > 0 && i == e.failAfter {
			err = errors.New("database kasse.db: page 4711 is damaged")
			break
		}
		e.produced.Add(1)
		err = fn(e.row(i))
	}
	select {
	case e.ended <- err:
	default: // a later read; the test watches the first
	}
	return err
}

func (e *endless) Journal(f store.Filter, fn func(store.Sale) error) error { return nil }
func (e *endless) Archive(time.Time, io.Writer) (int, error)               { return 0, nil }

// serve runs the control handler on a real unix socket.
func serve(t *testing.T, j Journal) *Client {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "kassed.sock")
	l, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: Handler(nil, nil, j, "")}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return NewClient(sock)
}

// A client that goes away ends kassed's read of the journal: the stream
// stops at the next write, and the read transaction with it.
func TestStreamEndsWhenTheClientGoesAway(t *testing.T) {
	j := &endless{ended: make(chan error, 1)}
	c := serve(t, j)
	ctx, cancel := context.WithCancel(context.Background())
	taken := 0
	err := c.Rows(ctx, JournalQuery{}, func(store.Row) error {
		if taken++; taken == 1000 {
			cancel() // the client goes away mid-stream
			return errors.New("enough")
		}
		return nil
	})
	if err == nil {
		t.Fatal("an abandoned stream reported success")
	}
	select {
	case rerr := <-j.ended:
		if rerr == nil {
			t.Fatal("the journal read ended without an error")
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("kassed still reads the journal (%d rows produced) after the client left", j.produced.Load())
	}
	// What was produced beyond what was taken is what the socket buffers
	// held: bounded, not the whole log.
	if extra := j.produced.Load() - int64(taken); extra > 20000 {
		t.Fatalf("%d rows produced after the client stopped at %d", extra, taken)
	}
}

// A stream that kassed cuts short (a damaged page mid-read) is reported as
// incomplete, in every format, never taken for the whole log.
func TestCutStreamIsIncomplete(t *testing.T) {
	j := &endless{failAfter: 300, ended: make(chan error, 1)}
	c := serve(t, j)
	n := 0
	err := c.Rows(context.Background(), JournalQuery{}, func(store.Row) error { n++; return nil })
	if err == nil || !strings.Contains(err.Error(), "incomplete") || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("after %d rows: %v, want the sale log reported incomplete with kassed's error", n, err)
	}
	for _, format := range []string{"json", "csv"} {
		if err := c.Export(context.Background(), JournalQuery{}, format, io.Discard); err == nil || !strings.Contains(err.Error(), "incomplete") {
			t.Fatalf("--format %s of a cut stream: %v", format, err)
		}
	}
}
