package config

import (
	"errors"
	"fmt"
	"io/fs"
)

// trusted checks the config file kassed is about to read: it decides the
// MSN, the store prefix and where the secrets are, so only root and the user
// kassed runs as (uid) may be able to change it. fi is the opened file's
// (not whatever is at the path by now), dir its directory's.
//
// The directory matters too: whoever may write it can rename another file
// (or a link to one) into the config's place, and the relative secrets_file
// and data_dir are resolved against it. A sticky directory (like /tmp) is
// the exception: there nobody can replace another user's file. Directories
// further up are not checked: on a register they are root's /etc.
func trusted(path string, fi fs.FileInfo, dir string, di fs.FileInfo, uid int) error {
	var errs []error
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("config file %s is not a regular file: pass the TOML file with --config", path)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		errs = append(errs, fmt.Errorf("config file %s is writable by group or others (mode %04o), and it decides the MSN "+
			"and the store: run \"chmod 644 %s\"", path, perm, path))
	}
	if owner, ok := ownerOf(fi); ok && owner != 0 && owner != uid {
		errs = append(errs, fmt.Errorf("config file %s is owned by uid %d, neither root nor the user kassed runs as (uid %d): "+
			"run \"chown root %s\"", path, owner, uid, path))
	}
	if perm := di.Mode().Perm(); perm&0o022 != 0 && di.Mode()&fs.ModeSticky == 0 {
		errs = append(errs, fmt.Errorf("directory %s of config file %s is writable by group or others (mode %04o), "+
			"so anyone could put another file in its place: run \"chmod 755 %s\"", dir, path, perm, dir))
	}
	if owner, ok := ownerOf(di); ok && owner != 0 && owner != uid {
		errs = append(errs, fmt.Errorf("directory %s of config file %s is owned by uid %d, neither root nor the user kassed "+
			"runs as (uid %d): run \"chown root %s\"", dir, path, owner, uid, dir))
	}
	return errors.Join(errs...)
}
