package money

import (
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	for _, c := range []struct {
		a    Amount
		want string
	}{
		{Amount{12500, "NOK"}, "125,00 kr"},
		{Amount{5, "DKK"}, "0,05 kr."},
		{Amount{123456789, "EUR"}, "1 234 567,89 €"},
		{Amount{-100050, "NOK"}, "-1 000,50 kr"},
		{Amount{0, "NOK"}, "0,00 kr"},
	} {
		if got := c.a.String(); got != c.want {
			t.Errorf("%+v = %q, want %q", c.a, got, c.want)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		a    Amount
		want string // "" = valid
	}{
		{Amount{1, "NOK"}, ""},
		{Amount{MaxValue, "EUR"}, ""},
		{Amount{0, "NOK"}, "is zero"},
		{Amount{-5, "NOK"}, "is zero"},
		{Amount{MaxValue + 1, "NOK"}, "above the maximum"},
		{Amount{100, "SEK"}, "not supported"},
	} {
		err := c.a.Check()
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: %v, want %q", c.a, err, c.want)
		}
	}
}

func TestVAT(t *testing.T) {
	tests := []struct {
		gross int64
		rate  int
		want  int64
	}{
		{12500, 2500, 2500},
		{5500, 1500, 717}, // 717.39
		{100, 2500, 20},   // exact
		{115, 1500, 15},   // 15.0
		{7, 1500, 1},      // 0.913
		{1, 2500, 0},      // 0.2
		{3, 2000, 1},      // 0.5 rounds up
		{-3, 2000, -1},    // and away from zero
		{-5500, 1500, -717},
		{1000, 0, 0},
		{1000, 10000, 500},
	}
	for _, tt := range tests {
		if got := VAT(tt.gross, tt.rate); got != tt.want {
			t.Errorf("VAT(%d, %d) = %d, want %d", tt.gross, tt.rate, got, tt.want)
		}
	}
}
