package escpos

import "testing"

func TestParsePaperStatus(t *testing.T) {
	tests := []struct {
		b       byte
		want    PaperStatus
		wantErr bool
	}{
		{0x12, PaperOK, false},
		{0x1E, PaperNearEnd, false},
		{0x16, PaperNearEnd, false}, // one near-end bit only
		{0x1A, PaperNearEnd, false},
		{0x72, PaperOut, false},
		{0x7E, PaperOut, false},
		{0x32, PaperOut, false},
		{0x00, 0, true}, // fixed bits 1 and 4 clear
		{0x02, 0, true}, // bit 4 clear
		{0x10, 0, true}, // bit 1 clear
		{0x13, 0, true}, // bit 0 set
		{0x92, 0, true}, // bit 7 set
		{0xFF, 0, true},
	}
	for _, tt := range tests {
		got, err := ParsePaperStatus(tt.b)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParsePaperStatus(%#02x) error = %v, want error %v", tt.b, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && got != tt.want {
			t.Errorf("ParsePaperStatus(%#02x) = %v, want %v", tt.b, got, tt.want)
		}
	}
}

func TestPaperStatusByteRoundTrip(t *testing.T) {
	for _, s := range []PaperStatus{PaperOK, PaperNearEnd, PaperOut} {
		got, err := ParsePaperStatus(s.Byte())
		if err != nil || got != s {
			t.Errorf("%v: byte %#02x parses as %v, %v", s, s.Byte(), got, err)
		}
	}
	if got := StatusRequest(StatusPaper); string(got) != "\x10\x04\x04" {
		t.Errorf("StatusRequest(4) = % x", got)
	}
}
