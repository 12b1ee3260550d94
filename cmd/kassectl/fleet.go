package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"kasse/cmd/internal/config"
	"kasse/cmd/internal/control"
	"kasse/till"
)

// Exit statuses, stable for scripts and Ansible (README, "kassectl").
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
	exitBusy   = 3 // try again later: a sale is in flight
)

// usageError is a command line kassectl cannot run (exit 2).
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// busyError is a refusal for now (exit 3).
type busyError struct{ error }

func (e busyError) Unwrap() error  { return e.error }
func (e usageError) Unwrap() error { return e.error }

// exitCode maps an error to the exit status.
func exitCode(err error) int {
	var u usageError
	var b busyError
	var nc notChecked
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &u):
		return exitUsage
	case errors.As(err, &b), errors.As(err, &nc), errors.Is(err, control.ErrBusy):
		return exitBusy
	}
	return exitFailed
}

// fleet holds what the update commands run: RAUC, the reboot, the socket.
type fleet struct {
	c      *control.Client
	out    io.Writer
	rauc   string   // the rauc command; $KASSE_RAUC or "rauc"
	reboot []string // $KASSE_REBOOT or "systemctl reboot"
	sleep  func(time.Duration)
	now    func() time.Time
}

func newFleet(c *control.Client, out io.Writer) *fleet {
	f := &fleet{c: c, out: out, rauc: "rauc", reboot: []string{"systemctl", "reboot"}, sleep: time.Sleep, now: time.Now}
	if v := os.Getenv("KASSE_RAUC"); v != "" {
		f.rauc = v
	}
	if v := strings.Fields(os.Getenv("KASSE_REBOOT")); len(v) > 0 {
		f.reboot = v
	}
	return f
}

// runCmd runs name with args and returns its stdout; a failure carries what
// the command said on stderr.
func runCmd(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("%s is not installed: updates need RAUC on the register (set KASSE_RAUC to its path)", name)
		}
		return out, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// bundleInfo is what rauc info says of a bundle.
type bundleInfo struct {
	Compatible string `json:"compatible"`
	Version    string `json:"version"`
}

// UpdateResult is kassectl update install's --json.
type UpdateResult struct {
	Bundle     string `json:"bundle"`
	Compatible string `json:"compatible"`
	Version    string `json:"version"`
	Installed  bool   `json:"installed"`
	Rebooting  bool   `json:"rebooting"`
	Waited     string `json:"waited"` // how long the till took to be free
}

// install verifies bundle's signature, waits (at most wait) until no sale
// is in flight and locks the till, installs the bundle into the other slot
// with RAUC and reboots into it. The till stays locked until the reboot; a
// failed install unlocks it.
func (f *fleet) install(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("update install", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	keyring := fs.String("keyring", "/etc/rauc/keyring.pem", "the keyring bundles must be signed for")
	wait := fs.Duration("wait", 15*time.Minute, "how long to wait for the till to be free of sales")
	noReboot := fs.Bool("no-reboot", false, "install, but leave the reboot to the caller")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		return usagef("update install needs one bundle: kassectl update install [--keyring FILE] [--wait 15m] [--no-reboot] [--json] BUNDLE.raucb")
	}
	bundle := fs.Arg(0)
	res := UpdateResult{Bundle: bundle}
	// The signature first: nothing is locked for a bundle we would refuse.
	raw, err := runCmd(ctx, f.rauc, "info", "--keyring", *keyring, "--output-format=json", bundle)
	if err != nil {
		return fmt.Errorf("bundle %s is not signed for this register's keyring %s, or is damaged: nothing was changed: %w", bundle, *keyring, err)
	}
	var info bundleInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return fmt.Errorf("reading rauc info of %s: %w", bundle, err)
	}
	res.Compatible, res.Version = info.Compatible, info.Version

	start := f.now()
	for {
		err := f.c.Lock(ctx, "update to "+info.Version)
		if err == nil {
			break
		}
		if !errors.Is(err, control.ErrBusy) {
			return fmt.Errorf("locking the till for the update: %w", err)
		}
		if f.now().Sub(start) >= *wait {
			return busyError{fmt.Errorf("the till was busy with sales for %s (%v): nothing was installed; try again later", *wait, err)}
		}
		f.sleep(2 * time.Second)
	}
	res.Waited = f.now().Sub(start).Round(time.Second).String()
	if _, err := runCmd(ctx, f.rauc, "install", bundle); err != nil {
		if uerr := f.c.Unlock(context.WithoutCancel(ctx)); uerr != nil {
			err = errors.Join(err, fmt.Errorf("unlocking the till: %w", uerr))
		}
		return fmt.Errorf("installing %s failed; the till takes sales again: %w", bundle, err)
	}
	res.Installed = true
	if !*noReboot {
		// The till is locked, so no sale starts before the reboot.
		if _, err := runCmd(ctx, f.reboot[0], f.reboot[1:]...); err != nil {
			return fmt.Errorf("%s is installed but the reboot failed: reboot the register: %w", info.Version, err)
		}
		res.Rebooting = true
	}
	if *asJSON {
		return writeJSON(f.out, res)
	}
	fmt.Fprintf(f.out, "installed %s (%s) after waiting %s for the till", info.Version, info.Compatible, res.Waited)
	if res.Rebooting {
		fmt.Fprint(f.out, "; rebooting into it")
	}
	fmt.Fprintln(f.out)
	return nil
}

// slotStatus is the part of rauc status --output-format=json we read.
type slotStatus struct {
	Compatible  string                      `json:"compatible"`
	Booted      string                      `json:"booted"`
	BootPrimary string                      `json:"boot_primary"`
	Slots       []map[string]map[string]any `json:"slots"`
}

// status prints the slots: which one booted, which one boots next, and
// whether each is marked good.
func (f *fleet) status(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("update status", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "print RAUC's status as JSON")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return usagef("update status takes only --json")
	}
	raw, err := runCmd(ctx, f.rauc, "status", "--detailed", "--output-format=json")
	if err != nil {
		return fmt.Errorf("reading the update slots: %w", err)
	}
	var st slotStatus
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("reading rauc status: %w", err)
	}
	if *asJSON {
		return writeJSON(f.out, st)
	}
	fmt.Fprintf(f.out, "compatible %s, booted %s, next boot %s\n", st.Compatible, st.Booted, st.BootPrimary)
	for _, m := range st.Slots {
		for name, s := range m {
			fmt.Fprintf(f.out, "  %s: %v, boot status %v\n", name, s["state"], s["boot_status"])
		}
	}
	return nil
}

// markGood marks the booted slot good when kassed is healthy: it answers on
// its socket and its till is not starting or stuck. Run by the boot service
// after an update; an unhealthy register is not marked, so the bootloader
// falls back to the other slot.
func (f *fleet) markGood(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("mark-good", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	wait := fs.Duration("wait", 2*time.Minute, "how long kassed may take to become healthy")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return usagef("mark-good takes only --wait and --json")
	}
	var st till.Status
	var err error
	for start := f.now(); ; f.sleep(2 * time.Second) {
		st, err = f.c.Status(ctx)
		if err == nil && st.State != till.StateStarting {
			break
		}
		if f.now().Sub(start) >= *wait {
			if err == nil {
				err = fmt.Errorf("the till is still %s", st.State)
			}
			return fmt.Errorf("kassed is not healthy after %s (%v): the slot is NOT marked good, so a reboot returns to the previous one", *wait, err)
		}
	}
	if _, err := runCmd(ctx, f.rauc, "status", "mark-good"); err != nil {
		return fmt.Errorf("kassed is healthy but marking the slot good failed: %w", err)
	}
	if *asJSON {
		return writeJSON(f.out, map[string]any{"marked": "good", "till": st.State})
	}
	fmt.Fprintf(f.out, "kassed is healthy (till %s): the booted slot is marked good\n", st.State)
	return nil
}

// ConfigReport is kassectl config check's --json.
type ConfigReport struct {
	Config  string   `json:"config"`
	Secrets string   `json:"secrets,omitempty"`
	OK      bool     `json:"ok"`
	Store   string   `json:"store,omitempty"`
	Lane    string   `json:"lane,omitempty"`
	MSN     string   `json:"msn,omitempty"`
	Flow    string   `json:"flow,omitempty"`
	Display string   `json:"display,omitempty"`
	Printer string   `json:"printer,omitempty"`
	Errors  []string `json:"errors,omitempty"`
}

// configCheck validates kassed's config and secrets as kassed's start
// does (syntax, values, ownership and modes of both files) without
// starting anything; the secrets' values are never printed.
func configCheck(args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		return usagef("config needs check: kassectl config check [--config FILE] [--json]")
	}
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := fs.String("config", "/etc/kasse/kassed.toml", "kassed's config file")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
		return usagef("config check takes only --config FILE and --json")
	}
	rep := ConfigReport{Config: *path}
	cfg, err := config.Load(*path)
	if err == nil {
		rep.Secrets = cfg.Vipps.SecretsFile
		rep.Store, rep.Lane, rep.MSN, rep.Flow = cfg.Store.Prefix, cfg.Store.Lane, cfg.Vipps.MSN, cfg.Vipps.Flow
		rep.Display, rep.Printer = cfg.Display.Kind, cfg.Printer.Port
		_, err = config.LoadSecrets(cfg.Vipps.SecretsFile)
	}
	if err != nil {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				rep.Errors = append(rep.Errors, e.Error())
			}
		} else {
			rep.Errors = []string{err.Error()}
		}
	}
	rep.OK = err == nil
	if *asJSON {
		if werr := writeJSON(out, rep); werr != nil {
			return werr
		}
	} else if rep.OK {
		fmt.Fprintf(out, "config %s and secrets %s: ok (store %s lane %s, MSN %s, flow %s, display %s, printer %q)\n",
			rep.Config, rep.Secrets, rep.Store, rep.Lane, rep.MSN, rep.Flow, rep.Display, rep.Printer)
	}
	if err != nil {
		return fmt.Errorf("%d problem(s), kassed would refuse to start:\n%s", len(rep.Errors), strings.Join(rep.Errors, "\n"))
	}
	return nil
}
