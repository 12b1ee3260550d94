package escpos

import "fmt"

// Real-time status requests: DLE EOT n. The printer answers each with one byte
// at once, even in the middle of printing.
const (
	StatusPrinter byte = 1 // printer status
	StatusOffline byte = 2 // offline cause
	StatusError   byte = 3 // error cause
	StatusPaper   byte = 4 // roll paper sensor
)

// StatusRequest returns the DLE EOT n command asking for status n.
func StatusRequest(n byte) []byte { return []byte{DLE, EOT, n} }

// PaperStatus is what the roll paper sensor reports.
type PaperStatus int

// Paper states, from best to worst.
const (
	PaperOK      PaperStatus = iota
	PaperNearEnd             // a few metres left: print, but ask for a new roll
	PaperOut                 // nothing prints until a roll is loaded
)

func (s PaperStatus) String() string {
	switch s {
	case PaperOK:
		return "paper ok"
	case PaperNearEnd:
		return "paper near end"
	case PaperOut:
		return "out of paper"
	}
	return fmt.Sprintf("PaperStatus(%d)", int(s))
}

// Bits of the DLE EOT 4 answer.
const (
	paperFixedMask = 0x93 // bits 0, 1, 4, 7
	paperFixed     = 0x12 // bits 1 and 4 set, 0 and 7 clear
	paperNearEnd   = 0x0C // bits 2, 3
	paperOut       = 0x60 // bits 5, 6
)

// Byte is the DLE EOT 4 answer a printer sends in state s.
func (s PaperStatus) Byte() byte {
	switch s {
	case PaperNearEnd:
		return paperFixed | paperNearEnd
	case PaperOut:
		// A printer that ran out has passed the near-end mark too.
		return paperFixed | paperNearEnd | paperOut
	}
	return paperFixed
}

// ParsePaperStatus reads the answer to DLE EOT 4. A byte whose fixed bits are
// wrong is not a status answer (line noise, a wrong baud rate, an
// auto-status packet) and is refused rather than guessed at.
func ParsePaperStatus(b byte) (PaperStatus, error) {
	if b&paperFixedMask != paperFixed {
		return PaperOK, fmt.Errorf("escpos: %#02x is not a roll paper status (fixed bits 1,4 set and 0,7 clear): check the printer's baud rate", b)
	}
	// Either bit of a pair counts: some printers set only one of the two.
	switch {
	case b&paperOut != 0:
		return PaperOut, nil
	case b&paperNearEnd != 0:
		return PaperNearEnd, nil
	}
	return PaperOK, nil
}
