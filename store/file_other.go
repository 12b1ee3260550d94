//go:build !linux

package store

import (
	"io/fs"
	"os"
	"time"
)

func adviseSequential(*os.File, int64) {}

// fileIdentity has only size and mtime to go on here (see file_linux.go).
func fileIdentity(fs.FileInfo) string { return "" }

func changedSince(fs.FileInfo, time.Time) bool { return false }

func releaseMapped(uintptr, int64) {}
