package matrix

import (
	"slices"
	"strings"
	"testing"

	"kasse/device"
	"kasse/device/matrix/matrixtest"
)

var layout4x4 = [][]device.Key{
	{"1", "2", "3", "back"},
	{"4", "5", "6", "clear"},
	{"7", "8", "9", "cancel"},
	{"00", "0", "refund", "pay"},
}

func keypad(t *testing.T, fake *matrixtest.Keypad, keys [][]device.Key) *Keypad {
	t.Helper()
	var rows []RowPin
	var cols []ColPin
	for _, r := range fake.Rows() {
		rows = append(rows, r)
	}
	for _, c := range fake.Cols() {
		cols = append(cols, c)
	}
	k, err := New(Config{Rows: rows, Cols: cols, Keys: keys, Stable: 3})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// scans runs n scans and returns the keys they pressed.
func scans(t *testing.T, k *Keypad, n int) []device.Key {
	t.Helper()
	var got []device.Key
	for range n {
		evs, err := k.Scan()
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Source != "matrix" {
				t.Fatalf("event %+v", ev)
			}
			got = append(got, ev.Key)
		}
	}
	return got
}

func TestPressIsDebounced(t *testing.T) {
	fake := matrixtest.New(4, 4)
	k := keypad(t, fake, layout4x4)
	fake.Press(1, 1) // 5
	if got := scans(t, k, 2); len(got) != 0 {
		t.Fatalf("pressed after 2 scans: %v (stable is 3)", got)
	}
	if got := scans(t, k, 1); !slices.Equal(got, []device.Key{"5"}) {
		t.Fatalf("got %v, want 5", got)
	}
	if got := scans(t, k, 10); len(got) != 0 {
		t.Fatalf("a held key repeated: %v", got)
	}
	// Bounce on release and press again: open, closed, open, … never
	// three scans alike until it settles.
	for _, down := range []bool{false, true, false, true, false, true} {
		if down {
			fake.Press(1, 1)
		} else {
			fake.Release(1, 1)
		}
		if got := scans(t, k, 1); len(got) != 0 {
			t.Fatalf("bounce made a key: %v", got)
		}
	}
	fake.Release(1, 1)
	scans(t, k, 3)
	fake.Press(1, 1)
	if got := scans(t, k, 3); !slices.Equal(got, []device.Key{"5"}) {
		t.Fatalf("second press: %v", got)
	}
}

// A key held while the next is pressed: the next one counts (two-key
// rollover), as when a cashier keys 1 2 fast.
func TestTwoKeyRollover(t *testing.T) {
	fake := matrixtest.New(4, 4)
	k := keypad(t, fake, layout4x4)
	fake.Press(0, 0)
	scans(t, k, 3)
	fake.Press(0, 1) // same row
	if got := scans(t, k, 3); !slices.Equal(got, []device.Key{"2"}) {
		t.Fatalf("rollover on one row: %v", got)
	}
	fake.Release(0, 0)
	fake.Release(0, 1)
	scans(t, k, 3)
	fake.Press(0, 0)
	scans(t, k, 3)
	fake.Press(1, 0) // same column
	if got := scans(t, k, 3); !slices.Equal(got, []device.Key{"4"}) {
		t.Fatalf("rollover on one column: %v", got)
	}
}

// Three keys on three corners of a rectangle: the fourth reads pressed
// too. No ghost key is reported, and nothing of the rectangle changes
// until it breaks.
func TestGhostIsIgnored(t *testing.T) {
	fake := matrixtest.New(4, 4)
	k := keypad(t, fake, layout4x4)
	fake.Press(0, 0) // 1
	fake.Press(0, 1) // 2
	if got := scans(t, k, 3); !slices.Equal(got, []device.Key{"1", "2"}) {
		t.Fatalf("got %v", got)
	}
	fake.Press(1, 0) // 4; (1,1) = 5 now reads pressed too
	if got := scans(t, k, 10); len(got) != 0 {
		t.Fatalf("ghosting: %v", got)
	}
	fake.Release(0, 1) // the rectangle breaks: 4 is real, 5 was a ghost
	if got := scans(t, k, 3); !slices.Equal(got, []device.Key{"4"}) {
		t.Fatalf("after the rectangle broke: %v", got)
	}
}

// 4×5 keypads and keys without a function.
func TestFourByFive(t *testing.T) {
	fake := matrixtest.New(4, 5)
	k := keypad(t, fake, [][]device.Key{
		{"1", "2", "3", "back", "logout"},
		{"4", "5", "6", "clear", "copy"},
		{"7", "8", "9", "cancel", ""},
		{"00", "0", "refund", "pay", "phone"},
	})
	fake.Press(1, 4)
	fake.Press(2, 4)
	if got := scans(t, k, 3); !slices.Equal(got, []device.Key{"copy"}) {
		t.Fatalf("got %v", got)
	}
	if fake.Reads() != 3*4*5 {
		t.Fatalf("%d column reads in 3 scans, want every column on every row", fake.Reads())
	}
}

func TestWiringErrorsSayWhatToFix(t *testing.T) {
	fake := matrixtest.New(4, 4)
	var rows []RowPin
	var cols []ColPin
	for _, r := range fake.Rows() {
		rows = append(rows, r)
	}
	for _, c := range fake.Cols() {
		cols = append(cols, c)
	}
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "needs rows and cols"},
		{Config{Rows: rows, Cols: cols, Keys: layout4x4[:3]}, "has 3 rows"},
		{Config{Rows: rows, Cols: cols, Keys: [][]device.Key{{"1"}, {"2"}, {"3"}, {"4"}}}, "row 1 has 1 keys"},
	} {
		if _, err := New(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err %v, want %q", err, c.want)
		}
	}
}
