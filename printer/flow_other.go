//go:build !linux

package printer

import (
	"errors"
	"os"
)

func openControl(path string) (*os.File, error) { return os.OpenFile(path, os.O_RDWR, 0) }

func setFlow(*os.File, string) error {
	return errors.New("flow control is only supported on Linux")
}
