package main

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"kasse/till/pin"
)

// pinHash reads a PIN from in (twice, unechoed, on a terminal; one line
// otherwise) and prints its argon2id hash for [[keys.cashiers]] pin_hash.
// The PIN is never an argument: arguments land in shell history and ps.
func pinHash(args []string, in *os.File, out, prompt io.Writer) error {
	if len(args) != 1 || args[0] != "hash" {
		return errors.New("pin takes one command: kassectl pin hash (then key the PIN; it is not echoed)")
	}
	r := bufio.NewReader(in)
	read := func(ask string) (string, error) {
		if isTerminal(in) {
			fmt.Fprint(prompt, ask)
			defer fmt.Fprintln(prompt)
			restore, err := noEcho(in)
			if err != nil {
				return "", err
			}
			defer restore()
		}
		line, err := r.ReadString('\n')
		if err != nil && (err != io.EOF || line == "") {
			return "", fmt.Errorf("reading the PIN: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	p, err := read("PIN (4–12 digits): ")
	if err != nil {
		return err
	}
	if err := pin.Check(p); err != nil {
		return err
	}
	if isTerminal(in) {
		again, err := read("the same PIN again: ")
		if err != nil {
			return err
		}
		if again != p {
			return errors.New("the two PINs differ: nothing was hashed, run kassectl pin hash again")
		}
	}
	h, err := pin.Hash(p, pin.Default, rand.Reader)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, h)
	return nil
}

// noEcho turns the terminal's echo off until restore.
func noEcho(f *os.File) (restore func(), err error) {
	fd := int(f.Fd())
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	quiet := *t
	quiet.Lflag &^= unix.ECHO
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &quiet); err != nil {
		return nil, err
	}
	return func() { unix.IoctlSetTermios(fd, unix.TCSETS, t) }, nil
}
