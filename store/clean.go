package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// The clean-shutdown mark: a full Tx.Check reads every page (10 s cold and
// hundreds of MB of page cache at 1M sales on an SD card), so Open runs it
// only when it cannot tell that the file is exactly as a clean Close left
// it. Close writes PATH.clean after bbolt has closed and synced the file:
// the file's size, mtime, device, inode and change time, and the txid and
// checksum of both meta pages. Open removes the mark (and syncs the
// directory) before it opens the file for writing, so a crash or power cut
// while kassed runs always leads to the full check. Anything done to the
// file behind kassed's back (a restored backup, a copy, a tool, junk
// written into it) changes the change time at least, and usually the
// mtime, size or txid: the mark no longer matches, and the full check runs.
//
// Why a sidecar and not a flag inside the file: setting a flag in bbolt
// costs a commit (two fdatasyncs) at every start and stop, and a flag
// inside a file that was then restored from a backup would still say
// "clean". bbolt itself keeps no clean-shutdown signal: its meta pages are
// the same after a clean stop and after a crash between transactions.
//
// What the mark cannot see: damage that changes neither the file's
// metadata nor its meta pages (a card's bit rot). The light check reads the
// pages every start needs; kassectl check reads them all.

// markVersion is the first line of a mark; a mark of another version is
// not trusted (full check).
const markVersion = "kasse clean-shutdown mark 1\n"

// maxMark bounds how much of a mark is read: a junk file is not a mark.
const maxMark = 1024

func markPath(path string) string { return path + ".clean" }

// cleanMark is what the mark of the file fi (with its meta pages) says.
func cleanMark(fi fs.FileInfo, metas []bboltMeta) []byte {
	var b bytes.Buffer
	b.WriteString(markVersion)
	fmt.Fprintf(&b, "size %d\nmtime %d\n", fi.Size(), fi.ModTime().UnixNano())
	b.WriteString(fileIdentity(fi))
	for _, m := range metas {
		fmt.Fprintf(&b, "meta %d %d %016x\n", m.pages, m.txid, m.checksum)
	}
	return b.Bytes()
}

// StartCheck says which check Open ran on an existing file, why, and how
// long it took, for kassed's log.
type StartCheck struct {
	Full   bool          // every page (bbolt's Tx.Check), or only what a start reads
	Reason string        // why
	Took   time.Duration // the check alone
}

func (c StartCheck) String() string {
	kind := "light check (meta pages, freelist, bucket roots and ends, schema)"
	if c.Full {
		kind = "full check of every page"
	}
	return fmt.Sprintf("%s in %s: %s", kind, c.Took.Round(time.Millisecond), c.Reason)
}

// closedCleanly reports whether path's mark matches the file as it is now,
// and why not.
func closedCleanly(path string, fi fs.FileInfo, metas []bboltMeta) (bool, string) {
	f, err := os.Open(markPath(path))
	if errors.Is(err, fs.ErrNotExist) {
		return false, "no clean-shutdown mark: the last run did not stop cleanly (a crash or power cut), or this file was put in place"
	}
	if err != nil {
		return false, fmt.Sprintf("the clean-shutdown mark is unreadable (%v)", err)
	}
	defer f.Close()
	got, err := io.ReadAll(io.LimitReader(f, maxMark))
	if err != nil {
		return false, fmt.Sprintf("the clean-shutdown mark is unreadable (%v)", err)
	}
	if len(metas) == 0 || !bytes.Equal(got, cleanMark(fi, metas)) {
		return false, "the clean-shutdown mark does not match the file: it was changed or replaced after the last clean stop"
	}
	return true, "the file is as the last clean stop left it"
}

// writeMark records that path was closed cleanly: written under a temporary
// name, synced, renamed into place, and the directory synced, so a mark
// that exists is a whole one.
func writeMark(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	metas, err := inspect(path, fi)
	if err != nil {
		return err
	}
	tmp := markPath(path) + ".new"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(cleanMark(fi, metas))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, markPath(path))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// dropMark removes path's mark, durably, before the file is opened for
// writing: from here on only a clean Close may say the file is whole.
func dropMark(path string) error {
	err := os.Remove(markPath(path))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}
