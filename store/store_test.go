package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"kasse/clock"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"kasse/money"
)

var vippsRef = regexp.MustCompile(`^[a-zA-Z0-9-]{8,50}$`)

// seeded returns a deterministic random source, so tags are reproducible.
func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return rand.NewChaCha8(s)
}

// newClock is the module's manual clock, stepping a second at every
// reading so that successive records differ.
func newClock() *clock.Manual {
	return clock.NewManual(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)).Step(time.Second)
}

func openT(t *testing.T, path string, o Options) *DB {
	t.Helper()
	if o.Rand == nil {
		o.Rand = seeded(1)
	}
	db, err := Open(path, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func sale(ref string, created time.Time) Sale {
	return Sale{
		Reference: ref, Store: "OSLO1", Lane: "2",
		Amount:  money.Amount{Value: 12500, Currency: "NOK"},
		State:   StateWaiting,
		Created: created,
	}
}

func TestCreateReopenKeepsDataAndTag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	db := openT(t, path, Options{Now: newClock().Now})
	tag := db.InstanceTag()
	if !validTag(tag) {
		t.Fatalf("instance tag %q is not 4 of [a-z0-9]", tag)
	}
	if db.Path() != path {
		t.Errorf("Path() = %q, want %q", db.Path(), path)
	}
	ref, err := db.NextReference("OSLO1", "2")
	if err != nil {
		t.Fatal(err)
	}
	want := sale(ref, time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC))
	want.Authorized = want.Created.Add(5 * time.Second)
	if err := db.PutSale(want); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
	}

	// A different random source must not change the tag of an existing file.
	db2 := openT(t, path, Options{Rand: seeded(99)})
	if db2.InstanceTag() != tag {
		t.Errorf("tag after reopen %q, want %q", db2.InstanceTag(), tag)
	}
	got, err := db2.Sale(ref)
	if err != nil {
		t.Fatal(err)
	}
	if got.Reference != ref || got.Amount != want.Amount || got.State != want.State ||
		!got.Created.Equal(want.Created) || !got.Authorized.Equal(want.Authorized) || !got.Captured.IsZero() {
		t.Errorf("after reopen got %+v, want %+v", got, want)
	}
}

func TestReferencesSequentialUniqueAndSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	db := openT(t, path, Options{})
	seen := map[string]bool{}
	digits := regexp.MustCompile(`^[0-9]+$`)
	for i := uint64(1); i <= 50; i++ {
		ref, err := db.NextReference("OSLO1", "2")
		if err != nil {
			t.Fatal(err)
		}
		if !vippsRef.MatchString(ref) || digits.MatchString(ref) || ref[0] == '0' {
			t.Fatalf("reference %q breaks the Vipps rules", ref)
		}
		if seen[ref] {
			t.Fatalf("reference %q issued twice", ref)
		}
		seen[ref] = true
		r, err := ParseReference(ref)
		if err != nil {
			t.Fatal(err)
		}
		if r != (Reference{"OSLO1", "2", db.SeriesTag(), i}) {
			t.Fatalf("reference %d parsed as %+v", i, r)
		}
	}
	// Another lane counts on its own.
	other, err := db.NextReference("OSLO1", "3")
	if err != nil {
		t.Fatal(err)
	}
	if want := "OSLO1-3-" + db.SeriesTag() + "-1"; other != want {
		t.Errorf("first reference on lane 3 = %q, want %q", other, want)
	}
	db.Close()

	db = openT(t, path, Options{})
	ref, err := db.NextReference("OSLO1", "2")
	if err != nil {
		t.Fatal(err)
	}
	if want := "OSLO1-2-" + db.SeriesTag() + "-51"; ref != want {
		t.Errorf("after reopen got %q, want %q", ref, want)
	}
}

func TestLongestReferenceFits(t *testing.T) {
	r := Reference{Prefix: "ABCDEFGHIJKL", Lane: "ZZZZ", Tag: "zzzz", N: ^uint64(0)}
	if s := r.String(); !vippsRef.MatchString(s) {
		t.Errorf("longest reference %q (%d chars) breaks ^[a-zA-Z0-9-]{8,50}$", s, len(s))
	}
}

func TestSecondDatabaseHasDifferentTag(t *testing.T) {
	dir := t.TempDir()
	a := openT(t, filepath.Join(dir, "a.db"), Options{Rand: seeded(1)})
	b := openT(t, filepath.Join(dir, "b.db"), Options{Rand: seeded(2)})
	if a.InstanceTag() == b.InstanceTag() {
		t.Fatalf("both databases have tag %q", a.InstanceTag())
	}
	ra, _ := a.NextReference("OSLO1", "2")
	rb, _ := b.NextReference("OSLO1", "2")
	if ra == rb {
		t.Errorf("a replacement database repeated reference %q", ra)
	}
	// The tag comes from the injected source, not from somewhere else.
	c := openT(t, filepath.Join(dir, "c.db"), Options{Rand: seeded(1)})
	if c.InstanceTag() != a.InstanceTag() {
		t.Errorf("same seed gave tags %q and %q", a.InstanceTag(), c.InstanceTag())
	}
}

func TestOpenFailsWhenRandomFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	_, err := Open(path, Options{Rand: bytes.NewReader([]byte{1, 2})})
	if err == nil || !strings.Contains(err.Error(), "instance tag") {
		t.Fatalf("Open with a short random source: %v", err)
	}
}

func TestNextReferenceRejectsBadPrefixAndLane(t *testing.T) {
	db := openT(t, filepath.Join(t.TempDir(), "kasse.db"), Options{})
	for _, c := range []struct{ prefix, lane, want string }{
		{"1OSLO", "2", "prefix"},
		{"O", "2", "prefix"},
		{"OSLO-1", "2", "prefix"},
		{"ABCDEFGHIJKLM", "2", "prefix"},
		{"OSLO1", "", "lane"},
		{"OSLO1", "12345", "lane"},
		{"OSLO1", "2-3", "lane"},
		{"ØSLO1", "2", "prefix"},
	} {
		_, err := db.NextReference(c.prefix, c.lane)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NextReference(%q, %q) = %v, want an error about the %s", c.prefix, c.lane, err, c.want)
		}
	}
	if db.Commits() != 1 { // provisioning only
		t.Errorf("rejected references committed: Commits() = %d", db.Commits())
	}
}

func TestParseReference(t *testing.T) {
	r, err := ParseReference("OSLO1-2-k7f3-17")
	if err != nil {
		t.Fatal(err)
	}
	if r != (Reference{"OSLO1", "2", "k7f3", 17}) {
		t.Errorf("got %+v", r)
	}
	if r.String() != "OSLO1-2-k7f3-17" {
		t.Errorf("String() = %q", r.String())
	}
	for _, bad := range []string{
		"", "OSLO1-2-k7f3", "OSLO1-2-k7f3-17-1", "OSLO1-2-k7f3-017", "OSLO1-2-k7f3-0",
		"OSLO1-2-k7f3-+17", "OSLO1-2-K7F3-17", "OSLO1-2-k7f-17", "1OSLO-2-k7f3-17",
		"OSLO1--k7f3-17", "OSLO1-2-k7f3-18446744073709551616", "OSLO1-2-k7f3-1a",
	} {
		if _, err := ParseReference(bad); err == nil {
			t.Errorf("ParseReference(%q) accepted it", bad)
		}
	}
}

// writeSales fills a database with n sales and returns the sales bucket's
// root page, which is a real page once the bucket outgrows inlining.
func writeSales(t *testing.T, path string, n int) {
	t.Helper()
	db, err := Open(path, Options{Rand: seeded(1), Now: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range n {
		ref, err := db.NextReference("OSLO1", "2")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.PutSale(sale(ref, base.Add(time.Duration(i)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func salesRootPage(t *testing.T, path string) (page uint64, pageSize int) {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	err = bdb.View(func(tx *bolt.Tx) error {
		page = uint64(tx.Bucket(bucketSales).Root())
		return nil
	})
	if err != nil || page == 0 {
		t.Fatalf("sales bucket has no page of its own (root %d): %v", page, err)
	}
	return page, bdb.Info().PageSize
}

func TestDamagedFileIsReportedAndLeftAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	writeSales(t, path, 40)
	page, size := salesRootPage(t, path)

	garbage := make([]byte, size)
	_, _ = seeded(7).Read(garbage)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(garbage, int64(page)*int64(size)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	before, _ := os.ReadFile(path)

	_, err = Open(path, Options{Rand: seeded(2)})
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("Open of a damaged file: %v, want ErrDamaged", err)
	}
	msg := err.Error()
	t.Log(msg)
	for _, want := range []string{path, "damaged", "nothing was changed", "stop kassed", "move kasse.db aside",
		"restore the latest backup", "instance tag changes"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("Open changed the damaged file")
	}
}

func TestNotADatabase(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string][]byte{
		"short.db": []byte("data_dir = \"/var/lib/kasse\"\n"),
		"long.db":  bytes.Repeat([]byte("not a database\n"), 2000),
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Open(path, Options{})
		if !errors.Is(err, ErrNotDatabase) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: Open = %v, want ErrNotDatabase naming the path", name, err)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, content) {
			t.Errorf("%s: Open changed a file that is not a database", name)
		}
	}
}

func TestForeignBboltFileIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	bdb, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = bdb.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("widgets")); return err })
	bdb.Close()
	if _, err := Open(path, Options{}); !errors.Is(err, ErrNotDatabase) {
		t.Fatalf("Open of another program's bbolt file: %v, want ErrNotDatabase", err)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	openT(t, path, Options{}).Close()
	bdb, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = bdb.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, []byte{0, 0, 0, 0, 0, 0, 0, SchemaVersion + 1})
	})
	bdb.Close()
	_, err = Open(path, Options{})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("schema version %d", SchemaVersion+1)) {
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

func TestLockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	openT(t, path, Options{})
	_, err := Open(path, Options{Timeout: 20 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "already running") {
		t.Errorf("error %q should name the file and suggest another kassed", msg)
	}
}

func TestSaleNotFound(t *testing.T) {
	db := openT(t, filepath.Join(t.TempDir(), "kasse.db"), Options{})
	_, err := db.Sale("OSLO1-2-abcd-9")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "OSLO1-2-abcd-9") {
		t.Fatalf("Sale of a missing reference: %v", err)
	}
}

func TestPutSaleStampsAndValidates(t *testing.T) {
	clk := newClock()
	db := openT(t, filepath.Join(t.TempDir(), "kasse.db"), Options{Now: clk.Now})
	s := sale("OSLO1-2-abcd-1", time.Time{})
	if err := db.PutSale(s); err != nil {
		t.Fatal(err)
	}
	got, _ := db.Sale(s.Reference)
	created := clk.Peek()
	if !got.Created.Equal(created) || !got.Updated.Equal(created) {
		t.Errorf("new sale: created %v updated %v, want both %v", got.Created, got.Updated, created)
	}
	s.State = StateCaptured
	if err := db.PutSale(s); err != nil { // Created zero again: must be kept
		t.Fatal(err)
	}
	got, _ = db.Sale(s.Reference)
	if !got.Created.Equal(created) || !got.Updated.Equal(clk.Peek()) || got.State != StateCaptured {
		t.Errorf("updated sale: %+v", got)
	}

	before := db.Commits()
	bad := s
	bad.State = "paid"
	if err := db.PutSale(bad); err == nil || !strings.Contains(err.Error(), `"paid"`) {
		t.Errorf("PutSale with state paid: %v", err)
	}
	bad = s
	bad.Reference = "short"
	if err := db.PutSale(bad); err == nil {
		t.Error("PutSale accepted a 5-character reference")
	}
	if db.Commits() != before {
		t.Error("a rejected sale was committed")
	}
}

func TestSalesInCreationOrder(t *testing.T) {
	db := openT(t, filepath.Join(t.TempDir(), "kasse.db"), Options{})
	base := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	// References spelled so their byte order is the reverse of creation.
	const n = 2*salesBatch + 7 // crosses batch boundaries
	for i := range n {
		ref := fmt.Sprintf("OSLO1-2-abcd-%d", 100000-i)
		if err := db.PutSale(sale(ref, base.Add(time.Duration(i)*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	// Moving a sale's creation time moves it in the order, without a duplicate.
	moved := sale("OSLO1-2-abcd-100000", base.Add(time.Hour))
	if err := db.PutSale(moved); err != nil {
		t.Fatal(err)
	}
	// A sale before 1970 sorts first.
	if err := db.PutSale(sale("OSLO1-2-abcd-1", time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}

	var got []Sale
	err := db.Sales(func(s Sale) error {
		got = append(got, s)
		if len(got) == 1 { // writing during the walk must not deadlock
			s.Printed = true
			return db.PutSale(s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n+1 {
		t.Fatalf("Sales returned %d sales, want %d", len(got), n+1)
	}
	if got[0].Reference != "OSLO1-2-abcd-1" || got[n].Reference != moved.Reference {
		t.Errorf("first %s last %s", got[0].Reference, got[n].Reference)
	}
	for i := 1; i < len(got); i++ {
		if !got[i].Created.After(got[i-1].Created) {
			t.Fatalf("sale %d (%s, %v) is not after %s (%v)", i, got[i].Reference, got[i].Created,
				got[i-1].Reference, got[i-1].Created)
		}
	}

	stop := errors.New("stop")
	calls := 0
	if err := db.Sales(func(Sale) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("Sales with a failing fn: err %v after %d calls, want stop after 1", err, calls)
	}
}

func TestCommitsCountsWriteTransactions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	db := openT(t, path, Options{})
	if db.Commits() != 1 {
		t.Errorf("new database: Commits() = %d, want 1 (provisioning)", db.Commits())
	}
	ref, _ := db.NextReference("OSLO1", "2")
	_ = db.PutSale(sale(ref, time.Time{}))
	_, _ = db.Sale(ref)
	_ = db.Sales(func(Sale) error { return nil })
	if db.Commits() != 3 {
		t.Errorf("after one reference and one sale: Commits() = %d, want 3", db.Commits())
	}
	db.Close()
	if db = openT(t, path, Options{}); db.Commits() != 0 {
		t.Errorf("reopened database: Commits() = %d, want 0", db.Commits())
	}
}

// Archives hold sales as JSON (and schemas 1 and 2 did): no empty fields.
func TestSaleJSONIsTidy(t *testing.T) {
	s := sale("OSLO1-2-abcd-1", time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	rec, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"authorized", "captured", "ended", "vippsState", "error"} {
		if bytes.Contains(rec, []byte(`"`+absent+`"`)) {
			t.Errorf("JSON %s has empty field %s", rec, absent)
		}
	}
	s.Captured = s.Created.Add(time.Minute)
	rec, _ = json.Marshal(s)
	if !bytes.Contains(rec, []byte(`"captured":"2025-03-01T09:01:00Z"`)) {
		t.Errorf("JSON %s lacks the capture time", rec)
	}
	rec, _ = encodeSale(s)
	if _, err := decodeSale(saleKey(s.Reference), append([]byte{99}, rec[1:]...)); !errors.Is(err, ErrDamaged) {
		t.Errorf("unknown record format decoded: %v", err)
	}
}

func FuzzParseReference(f *testing.F) {
	for _, s := range []string{"OSLO1-2-k7f3-17", "ab-1-0000-1", "OSLO1-2-k7f3-017", "", "----", "A-b-c-d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReference(s)
		if err != nil {
			return
		}
		if r.String() != s {
			t.Fatalf("ParseReference(%q).String() = %q", s, r.String())
		}
		if !vippsRef.MatchString(s) || s[0] == '0' {
			t.Fatalf("accepted %q, which Vipps would refuse", s)
		}
	})
}

// The file grows a MiB past its last page at a time, so its size says
// what it holds (bbolt's default step is 16 MiB).
func TestFileGrowsInSmallSteps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	db := openT(t, path, Options{NoSync: true, InitialMmapSize: 64 << 10})
	// Past 16 MiB of mapping, where bbolt's own step would show.
	for batch := range 6 {
		err := db.update(func(tx *bolt.Tx) error {
			for i := range 5000 {
				s := sale(fmt.Sprintf("OSLO1-2-abcd-%d", batch*5000+i+1), t0.Add(time.Duration(batch*5000+i)*time.Second))
				s.Error = strings.Repeat("a long story ", 70)
				if _, err := putSale(tx, s, t0); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		size, err := db.Size()
		if err != nil {
			t.Fatal(err)
		}
		var used int64
		if err := db.bolt.View(func(tx *bolt.Tx) error { used = tx.Size(); return nil }); err != nil {
			t.Fatal(err)
		}
		if size-used > allocStep+4096 { // bbolt grows from its high-water mark's next page
			t.Errorf("after %d sales the file is %d bytes for %d in pages: %d past its last page", (batch+1)*5000, size, used, size-used)
		}
	}
}
