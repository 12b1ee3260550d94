package escpos

import "fmt"

// The status a printer reports, as Epson's ESC/POS reference defines it
// (DLE EOT n for real-time answers, GS a for Automatic Status Back, GS r for
// a status sent once the data before it is processed). Every answer carries
// fixed bits; a byte whose fixed bits are wrong is noise, a wrong baud rate
// or a stray byte of another packet, and is refused rather than guessed at.
//
// Real-time answers (DLE EOT 1..4): bits 1 and 4 set, 0 and 7 clear.
// ASB, first byte: bit 4 set, bits 0, 1 and 7 clear; three more bytes follow
// with bits 4 and 7 clear. GS r answers: bits 4 and 7 clear. So a reader
// tells them apart by the first byte alone, and an ASB packet by its length.

// State is what the printer said about itself, merged from its answers.
type State struct {
	Offline   bool // DLE EOT 1 bit 3: it prints nothing until it is online again
	Waiting   bool // DLE EOT 1 bit 5: waiting for online recovery (after an error)
	CoverOpen bool // DLE EOT 2 bit 2
	PaperStop bool // DLE EOT 2 bit 5: printing stopped at paper end
	Error     bool // DLE EOT 2 bit 6: an error occurred; DLE EOT 3 says which
	// DLE EOT 3, the error causes.
	Mechanical      bool // bit 2: a recoverable (mechanical) error
	Cutter          bool // bit 3: autocutter error
	Unrecoverable   bool // bit 5: the printer needs service or a power cycle
	AutoRecoverable bool // bit 6: e.g. head too hot; clears by itself
	// DLE EOT 4, the roll paper sensor.
	PaperNearEnd bool
	PaperOut     bool
}

// Ready reports whether the printer would print a job now. Paper near end
// still prints.
func (s State) Ready() bool {
	return !s.Offline && !s.CoverOpen && !s.PaperOut && !s.PaperStop && !s.Error &&
		!s.Mechanical && !s.Cutter && !s.Unrecoverable && !s.AutoRecoverable
}

func (s State) String() string {
	switch {
	case s.CoverOpen:
		return "cover open"
	case s.PaperOut || s.PaperStop:
		return "out of paper"
	case s.Unrecoverable:
		return "unrecoverable error"
	case s.Cutter:
		return "cutter error"
	case s.Mechanical:
		return "mechanical error"
	case s.AutoRecoverable:
		return "recovering from an error (e.g. head too hot)"
	case s.Error:
		return "error"
	case s.Offline:
		return "offline"
	case s.PaperNearEnd:
		return "paper near end"
	}
	return "ready"
}

// Fixed bits of each answer.
const (
	rtFixedMask  = 0x93
	rtFixed      = 0x12
	asbHeadFixed = 0x10
	asbTailMask  = 0x90
)

// IsRealTime reports whether b has the fixed bits of a DLE EOT answer.
func IsRealTime(b byte) bool { return b&rtFixedMask == rtFixed }

// IsASBHead reports whether b can start an Automatic Status Back packet.
func IsASBHead(b byte) bool { return b&rtFixedMask == asbHeadFixed }

// IsTail reports whether b has the fixed bits of an ASB packet's 2nd to 4th
// byte or of a GS r answer.
func IsTail(b byte) bool { return b&asbTailMask == 0 }

func bit(b byte, n uint) bool { return b&(1<<n) != 0 }

func set(on bool, n uint) byte {
	if on {
		return 1 << n
	}
	return 0
}

// ApplyRealTime merges the answer b to DLE EOT n into s.
func (s *State) ApplyRealTime(n, b byte) error {
	if !IsRealTime(b) {
		return fmt.Errorf("escpos: %#02x is not an answer to DLE EOT %d (fixed bits 1,4 set and 0,7 clear): check the printer's baud rate and parity", b, n)
	}
	switch n {
	case StatusPrinter:
		s.Offline, s.Waiting = bit(b, 3), bit(b, 5)
	case StatusOffline:
		s.CoverOpen, s.PaperStop, s.Error = bit(b, 2), bit(b, 5), bit(b, 6)
	case StatusError:
		s.Mechanical, s.Cutter, s.Unrecoverable, s.AutoRecoverable = bit(b, 2), bit(b, 3), bit(b, 5), bit(b, 6)
	case StatusPaper:
		p, err := ParsePaperStatus(b)
		if err != nil {
			return err
		}
		s.PaperNearEnd, s.PaperOut = p >= PaperNearEnd, p == PaperOut
	default:
		return fmt.Errorf("escpos: DLE EOT %d is not a status this package reads", n)
	}
	return nil
}

// RealTime is the answer a printer in state s gives to DLE EOT n.
func (s State) RealTime(n byte) byte {
	b := byte(rtFixed)
	switch n {
	case StatusPrinter:
		b |= set(s.Offline || !s.Ready(), 3) | set(s.Waiting, 5)
	case StatusOffline:
		b |= set(s.CoverOpen, 2) | set(s.PaperStop || s.PaperOut, 5) | set(s.Error || s.errorCause(), 6)
	case StatusError:
		b |= set(s.Mechanical, 2) | set(s.Cutter, 3) | set(s.Unrecoverable, 5) | set(s.AutoRecoverable, 6)
	case StatusPaper:
		b = s.paper().Byte()
	}
	return b
}

func (s State) errorCause() bool {
	return s.Mechanical || s.Cutter || s.Unrecoverable || s.AutoRecoverable
}

func (s State) paper() PaperStatus {
	switch {
	case s.PaperOut:
		return PaperOut
	case s.PaperNearEnd:
		return PaperNearEnd
	}
	return PaperOK
}

// ASB is the Automatic Status Back packet a printer in state s sends.
func (s State) ASB() [4]byte {
	return [4]byte{
		asbHeadFixed | set(s.Offline || !s.Ready(), 3) | set(s.CoverOpen, 5),
		set(s.Mechanical, 2) | set(s.Cutter, 3) | set(s.Unrecoverable, 5) | set(s.AutoRecoverable, 6),
		set(s.PaperNearEnd || s.PaperOut, 0) | set(s.PaperNearEnd || s.PaperOut, 1) | set(s.PaperOut, 2) | set(s.PaperOut, 3),
		0,
	}
}

// ParseASB reads an Automatic Status Back packet.
func ParseASB(p [4]byte) (State, error) {
	if !IsASBHead(p[0]) || !IsTail(p[1]) || !IsTail(p[2]) || !IsTail(p[3]) {
		return State{}, fmt.Errorf("escpos: % x is not an Automatic Status Back packet: check the printer's baud rate and parity", p)
	}
	s := State{
		Offline: bit(p[0], 3), CoverOpen: bit(p[0], 5),
		Mechanical: bit(p[1], 2), Cutter: bit(p[1], 3), Unrecoverable: bit(p[1], 5), AutoRecoverable: bit(p[1], 6),
		// Either bit of a pair counts: some printers set only one.
		PaperNearEnd: p[2]&0x03 != 0, PaperOut: p[2]&0x0C != 0,
	}
	s.PaperStop = s.PaperOut
	s.Error = s.errorCause()
	return s, nil
}

// ASB status kinds GS a n asks for: drawer, online/offline, error, paper.
const ASBAll = 0x0F

// EnableASB returns GS a n: the printer sends an ASB packet now and at every
// change of the statuses n selects.
func EnableASB(n byte) []byte { return []byte{GS, 'a', n} }

// ProcessedRequest returns GS r 1: the printer answers with its paper
// sensor status once it has processed every byte sent before it, so the
// answer means the receipt before it is printed (or stuck: then no answer
// comes until the printer recovers and prints it).
func ProcessedRequest() []byte { return []byte{GS, 'r', 1} }

// ProcessedAnswer is the GS r 1 answer of a printer in state s.
func (s State) ProcessedAnswer() byte {
	return set(s.PaperNearEnd || s.PaperOut, 0) | set(s.PaperNearEnd || s.PaperOut, 1) | set(s.PaperOut, 2) | set(s.PaperOut, 3)
}
