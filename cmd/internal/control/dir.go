package control

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// DataDirMode is the mode of a data directory kassed or kassectl init
// creates: the control socket's group (kassed's group) may traverse it to
// reach the socket (0660), others may not. The database file in it stays
// 0600, the archives 0700.
const DataDirMode fs.FileMode = 0o750

// MakeDataDir creates dir (and missing parents) with DataDirMode, whatever
// the umask. An existing directory is left as it is: Reachable says when
// its mode keeps the socket's group out.
func MakeDataDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("data directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, DataDirMode); err != nil {
		return fmt.Errorf("data directory %s: %w: check data_dir, and that its parent exists and kassed may write it", dir, err)
	}
	if err := os.Chmod(dir, DataDirMode); err != nil {
		return fmt.Errorf("data directory %s: %w", dir, err)
	}
	return nil
}

// Reachable reports whether a member of the socket's group can connect to
// the socket at path: the socket lets the group read and write, and every
// directory from / down to it lets that group (or everyone) through. It
// names the first obstacle and the command that removes it.
func Reachable(path string) error {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	if st.Mode&0o060 != 0o060 {
		return fmt.Errorf("control socket %s is mode %04o: its group cannot use it: run \"chmod 660 %s\"", path, st.Mode&0o777, path)
	}
	gid := st.Gid
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		var d syscall.Stat_t
		if err := syscall.Stat(dir, &d); err != nil {
			return fmt.Errorf("control socket %s: %s: %w", path, dir, err)
		}
		if !(d.Gid == gid && d.Mode&0o010 != 0) && d.Mode&0o001 == 0 {
			fix := fmt.Sprintf("chmod 750 %s", dir)
			if d.Gid != gid {
				fix = fmt.Sprintf("chgrp %d %s && chmod 750 %s", gid, dir, dir)
			}
			return fmt.Errorf("control socket %s: directory %s (mode %04o, group %d) keeps the socket's group %d out, "+
				"so kassectl works only as root or kassed's user: run \"%s\"", path, dir, d.Mode&0o777, d.Gid, gid, fix)
		}
		if dir == filepath.Dir(dir) {
			return nil
		}
	}
}

// GiveToGroup hands the socket and the data directory to group (the fleet
// managers' admin group), so its members reach the socket over SSH with
// kassectl, while the modes (0660, 0750) keep everyone else out. kassed's
// user must be in the group (SupplementaryGroups= in kassed.service).
func GiveToGroup(sock, dataDir, group string) error {
	g, err := user.LookupGroup(group)
	if err != nil {
		return fmt.Errorf("control.group %q: %w: create it (groupadd %s) or fix control.group", group, err, group)
	}
	gid, err := strconv.Atoi(g.Gid)
	if err != nil {
		return fmt.Errorf("control.group %q has gid %q: %w", group, g.Gid, err)
	}
	for _, p := range []string{dataDir, sock} {
		if err := os.Chown(p, -1, gid); err != nil {
			return fmt.Errorf("giving %s to group %s: %w: add kassed's user to the group (SupplementaryGroups=%s in kassed.service)", p, group, err, group)
		}
	}
	return nil
}
