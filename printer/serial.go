package printer

import (
	"fmt"
	"os"

	"go.bug.st/serial"
)

// Serial is how to reach a printer on a serial line.
type Serial struct {
	Path   string // e.g. /dev/ttyUSB0 or a udev link in /dev/serial/by-id
	Baud   int
	Parity string // "none" (default), "even" or "odd"
	// Flow is "none" (default), "rtscts" (hardware) or "xonxoff" (the
	// printer sends XOFF when its buffer fills).
	Flow string
}

// Flow control settings.
const (
	FlowNone    = "none"
	FlowRTSCTS  = "rtscts"
	FlowXONXOFF = "xonxoff"
)

// Check reports the first setting Open would refuse.
func (s Serial) Check() error {
	if s.Baud <= 0 {
		return fmt.Errorf("baud rate %d is not valid: set printer.baud in the config (most printers use 9600, 19200 or 38400)", s.Baud)
	}
	if _, err := s.parity(); err != nil {
		return err
	}
	switch s.Flow {
	case "", FlowNone, FlowRTSCTS, FlowXONXOFF:
	default:
		return fmt.Errorf("flow control %q is not known: set printer.flow to none, rtscts or xonxoff", s.Flow)
	}
	return nil
}

func (s Serial) parity() (serial.Parity, error) {
	switch s.Parity {
	case "", "none":
		return serial.NoParity, nil
	case "even":
		return serial.EvenParity, nil
	case "odd":
		return serial.OddParity, nil
	}
	return 0, fmt.Errorf("parity %q is not known: set printer.parity to none, even or odd", s.Parity)
}

// Open opens the port 8 data bits, 1 stop bit, without touching the modem
// lines: ptys and many USB adaptors have none, and a printer needs none
// unless flow is rtscts (then the kernel drives RTS and watches CTS).
func (s Serial) Open() (Port, error) {
	if err := s.Check(); err != nil {
		return nil, fmt.Errorf("cannot open printer port %s: %w", s.Path, err)
	}
	par, _ := s.parity()
	// The flow control flags are set on a second descriptor opened first:
	// go.bug.st/serial has no setting for them and locks the device
	// (TIOCEXCL) against later opens, but termios belongs to the device, so
	// a change made through either descriptor applies to both.
	var ctl *os.File
	if s.Flow == FlowRTSCTS || s.Flow == FlowXONXOFF {
		var err error
		if ctl, err = openControl(s.Path); err != nil {
			return nil, fmt.Errorf("cannot open printer port %s: %w: check printer.port in the config, that the printer is plugged in, and that kassed may use the port (group dialout)", s.Path, err)
		}
		defer ctl.Close()
	}
	p, err := serial.Open(s.Path, &serial.Mode{BaudRate: s.Baud, DataBits: 8, Parity: par, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("cannot open printer port %s: %w: check printer.port in the config, that the printer is plugged in, and that kassed may use the port (group dialout)", s.Path, err)
	}
	if ctl != nil {
		if err := setFlow(ctl, s.Flow); err != nil {
			p.Close()
			return nil, fmt.Errorf("printer port %s: setting flow control %s: %w: set printer.flow to none if the adaptor cannot do it", s.Path, s.Flow, err)
		}
	}
	return &serialPort{Port: p, path: s.Path}, nil
}

// serialPort tells Printer its device name for messages.
type serialPort struct {
	serial.Port
	path string
}

func (s *serialPort) Name() string { return s.path }
