package store

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// adviseSequential tells the kernel f is read from start to end: larger
// readahead, the way a cold SD card reads fastest.
func adviseSequential(f *os.File, size int64) {
	_ = unix.Fadvise(int(f.Fd()), 0, size, unix.FADV_SEQUENTIAL)
}

// fileIdentity is what, besides size and mtime, tells one file (and one
// state of it) from another: device and inode (a file put in its place),
// and the change time, which every write, chmod or link changes and no
// tool can set back.
func fileIdentity(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return fmt.Sprintf("dev %d\nino %d\nctime %d.%09d\n", st.Dev, st.Ino, st.Ctim.Sec, st.Ctim.Nsec)
}

// changedSince reports whether fi's inode changed (a write, chmod, link)
// after t: the kernel stamps the change time from the same clock, and a
// little coarser, so kassed's own writes never look later than its record
// of them.
func changedSince(fi fs.FileInfo, t time.Time) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && time.Unix(int64(st.Ctim.Sec), int64(st.Ctim.Nsec)).After(t) // int32 fields on 32-bit ARM
}

// releaseMapped drops the pages of bbolt's mapping [data, data+size) from
// this process's page tables (MADV_DONTNEED). The mapping is a shared,
// read-only map of the file, so nothing is lost: the pages stay in the page
// cache and the next read maps them again. Without it every page a long
// read touches stays in kassed's RSS until the process ends.
func releaseMapped(data uintptr, size int64) {
	if data == 0 || size <= 0 {
		return
	}
	// Not Go memory: the GC neither moves nor frees it.
	p := *(*unsafe.Pointer)(unsafe.Pointer(&data))
	_ = unix.Madvise(unsafe.Slice((*byte)(p), size), unix.MADV_DONTNEED)
}
