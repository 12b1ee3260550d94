package printer

import (
	"os"

	"golang.org/x/sys/unix"
)

func openControl(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
}

// setFlow turns on hardware (CRTSCTS) or software (IXON: the printer's XOFF
// pauses our output; IXOFF: ours pauses its answers) flow control.
func setFlow(f *os.File, flow string) error {
	fd := int(f.Fd())
	tio, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	switch flow {
	case FlowRTSCTS:
		tio.Cflag |= unix.CRTSCTS
	case FlowXONXOFF:
		tio.Iflag |= unix.IXON | unix.IXOFF
		tio.Cc[unix.VSTART], tio.Cc[unix.VSTOP] = 0x11, 0x13
	}
	return unix.IoctlSetTermios(fd, unix.TCSETS, tio)
}
