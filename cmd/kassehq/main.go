// Command kassehq is the chain's refund service for option B (every store
// its own Vipps MobilePay sales unit with its own keys): it holds each
// store's keys, and registers whose refund.via is "central" ask it, over
// HTTPS with a client certificate each, to refund another store's sale.
//
//	kassehq --dir /etc/kassehq init --host hq.example.no,10.0.0.5
//	kassehq --dir /etc/kassehq register BERGEN-7 --store BERGEN --out ./BERGEN-7
//	kassehq --dir /etc/kassehq revoke BERGEN-7
//	kassehq --dir /etc/kassehq --data /var/lib/kassehq serve --listen :8443 --vipps https://api.vipps.no
//	kassehq --data /var/lib/kassehq journal --format csv
//
// --dir holds the CA, the server certificate, the list of registers and
// the revocation list, and stores/PREFIX.toml per store (msn, client_id,
// client_secret, subscription_key; mode 0600). --data holds the journal
// (kassehq.db) and the local socket kassehq journal reads it through.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"kasse/cmd/internal/config"
	"kasse/hq"
	"kasse/payment/vipps"
	"kasse/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	logger := log.New(os.Stderr, "kassehq: ", log.LstdFlags|log.Lmsgprefix)
	if err := run(ctx, os.Args[1:], os.Stdout, logger.Printf, nil); err != nil {
		fmt.Fprintf(os.Stderr, "kassehq: %v\n", err)
		os.Exit(1)
	}
}

const usage = `usage: kassehq [--dir DIR] [--data DIR] COMMAND
commands:
  init --host NAMES          make the CA and the server certificate for NAMES
  register NAME --store P    issue register NAME of store P a client certificate
  revoke NAME                refuse register NAME's certificates from now on
  serve --listen ADDR --vipps URL   serve registers
  journal [--format csv|json]       export every refund request`

// run is kassehq; ready, when set, hears serve's address once it listens.
func run(ctx context.Context, args []string, stdout io.Writer, logf func(string, ...any), ready func(addr string)) error {
	fs := flag.NewFlagSet("kassehq", flag.ContinueOnError)
	dir := fs.String("dir", "/etc/kassehq", "root-owned directory of the CA, certificates and stores/ (the stores' keys)")
	data := fs.String("data", "/var/lib/kassehq", "directory of the journal (kassehq.db) and the local socket")
	fs.Usage = func() { fmt.Fprintln(fs.Output(), usage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("no command: use init, register, revoke, serve or journal (see -h)")
	}
	pki := hq.PKI{Dir: *dir}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	switch cmd {
	case "init":
		return initCmd(pki, rest, stdout)
	case "register":
		return registerCmd(pki, rest, stdout)
	case "revoke":
		return revokeCmd(pki, rest, stdout)
	case "serve":
		return serve(ctx, pki, *data, rest, logf, ready)
	case "journal":
		return journal(*data, rest, stdout)
	}
	return fmt.Errorf("unknown command %q: use init, register, revoke, serve or journal", cmd)
}

func initCmd(pki hq.PKI, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("kassehq init", flag.ContinueOnError)
	hosts := fs.String("host", "", "comma-separated names and addresses registers use to reach kassehq")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var names []string
	for _, h := range strings.Split(*hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			names = append(names, h)
		}
	}
	if err := pki.Init(names); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "CA and server certificate for %s in %s (keys mode 0600)\nnext: put each store's keys in %s/PREFIX.toml, then kassehq register NAME --store PREFIX per register\n",
		strings.Join(names, ", "), pki.Dir, filepath.Join(pki.Dir, "stores"))
	return nil
}

func registerCmd(pki hq.PKI, args []string, stdout io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return errors.New("register needs a name first: kassehq register NAME --store PREFIX [--out DIR]")
	}
	name := args[0]
	fs := flag.NewFlagSet("kassehq register", flag.ContinueOnError)
	storePrefix := fs.String("store", "", "the register's store (its reference prefix, e.g. BERGEN)")
	out := fs.String("out", name, "directory for the register's files")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *storePrefix == "" {
		return errors.New("--store is missing: give the register's store prefix, e.g. --store BERGEN")
	}
	is, err := pki.Issue(name, *storePrefix)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return err
	}
	files := map[string][]byte{"register.pem": is.Cert, "register.key": is.Key, "ca.pem": is.CA}
	for f, b := range files {
		if err := os.WriteFile(filepath.Join(*out, f), b, 0o600); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "register %s of store %s: certificate %s, valid until %s\n", name, is.Store, is.Serial, is.Expires.Format(time.DateOnly))
	fmt.Fprintf(stdout, "copy %s/{register.pem,register.key,ca.pem} to the register (mode 0600, owned by the kassed user) and set in its config:\n", *out)
	fmt.Fprintf(stdout, "  [refund]\n  via = \"central\"\n  hq_url = \"https://HOST:PORT\"\n  hq_cert = \"/etc/kasse/hq/register.pem\"\n  hq_key = \"/etc/kasse/hq/register.key\"\n  hq_ca = \"/etc/kasse/hq/ca.pem\"\n")
	return nil
}

func revokeCmd(pki hq.PKI, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("revoke needs one register name: kassehq revoke NAME")
	}
	revoked, err := pki.Revoke(args[0])
	if err != nil {
		return err
	}
	for _, r := range revoked {
		fmt.Fprintf(stdout, "revoked certificate %s of register %s: refused from its next connection\n", r.Serial, r.Name)
	}
	return nil
}

// loadUnits reads stores/*.toml: one sales unit per store, its prefix the
// file's name.
func loadUnits(dir, base string, timeout time.Duration) (map[string]hq.Unit, []string, error) {
	storesDir := filepath.Join(dir, "stores")
	for _, d := range []string{dir, storesDir} {
		if err := config.CheckPrivateDir(d, os.Geteuid()); err != nil {
			return nil, nil, err
		}
	}
	files, err := filepath.Glob(filepath.Join(storesDir, "*.toml"))
	if err != nil {
		return nil, nil, err
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("%s has no store: put one file per store there, PREFIX.toml with msn, client_id, client_secret and subscription_key (mode 0600)", storesDir)
	}
	version := "dev"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		version = bi.Main.Version
	}
	units := map[string]hq.Unit{}
	var errs []error
	var names []string
	for _, f := range files {
		prefix := strings.TrimSuffix(filepath.Base(f), ".toml")
		if err := store.CheckPrefix(prefix); err != nil {
			errs = append(errs, fmt.Errorf("%s: the file's name is the store: %w", f, err))
			continue
		}
		s, err := config.LoadStoreSecrets(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c, err := vipps.New(vipps.Config{BaseURL: base, MSN: s.MSN,
			Credentials: vipps.Credentials{ClientID: s.ClientID, ClientSecret: s.ClientSecret, SubscriptionKey: s.SubscriptionKey},
			System:      vipps.System{Name: "kasse", Version: version, PluginName: "kassehq", PluginVersion: version},
			HTTP:        &http.Client{Timeout: timeout}})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
			continue
		}
		units[prefix] = hq.Unit{MSN: s.MSN, Vipps: c}
		names = append(names, prefix+" (MSN "+s.MSN+")")
	}
	return units, names, errors.Join(errs...)
}

func serve(ctx context.Context, pki hq.PKI, data string, args []string, logf func(string, ...any), ready func(string)) error {
	fs := flag.NewFlagSet("kassehq serve", flag.ContinueOnError)
	listen := fs.String("listen", ":8443", "address registers connect to")
	base := fs.String("vipps", "https://api.vipps.no", "Vipps MobilePay API: https://api.vipps.no, https://apitest.vipps.no or the simulator")
	timeout := fs.Duration("timeout", 15*time.Second, "limit per request to Vipps")
	if err := fs.Parse(args); err != nil {
		return err
	}
	units, names, err := loadUnits(pki.Dir, *base, *timeout)
	if err != nil {
		return err
	}
	conf, err := pki.ServerTLS(logf)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	j, err := hq.OpenJournal(filepath.Join(data, "kassehq.db"), time.Now, time.Second, false)
	if err != nil {
		return err
	}
	defer j.Close()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listening on %s (is another kassehq running? pick another --listen): %w", *listen, err)
	}
	sock := filepath.Join(data, "kassehq.sock")
	os.Remove(sock) // a socket left by a killed kassehq
	adm, err := net.Listen("unix", sock)
	if err != nil {
		ln.Close()
		return fmt.Errorf("local socket %s: %w", sock, err)
	}
	defer os.Remove(sock)
	os.Chmod(sock, 0o600)

	errLog := log.New(logWriter(logf), "", 0)
	api := &http.Server{Handler: hq.Handler(hq.NewService(units, j, logf), pki.CheckRevoked), TLSConfig: conf,
		ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog}
	local := &http.Server{Handler: hq.JournalHandler(j), ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog}
	errc := make(chan error, 2)
	go func() { errc <- api.ServeTLS(ln, "", "") }()
	go func() { errc <- local.Serve(adm) }()
	logf("serving registers on https://%s for stores %s; Vipps %s; journal %s", ln.Addr(), strings.Join(names, ", "), *base, filepath.Join(data, "kassehq.db"))
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	// Requests in flight finish (each is journaled anyway); new ones wait
	// for the next start.
	logf("shutting down")
	shut, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	api.Shutdown(shut)
	local.Shutdown(shut)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// logWriter sends the HTTP server's own lines (refused handshakes) to logf.
type logWriter func(string, ...any)

func (l logWriter) Write(p []byte) (int, error) {
	l("%s", strings.TrimSpace(string(p)))
	return len(p), nil
}

// journal exports through serve's socket, or from the file when kassehq
// is not running.
func journal(data string, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("kassehq journal", flag.ContinueOnError)
	format := fs.String("format", "csv", "csv or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *format != "csv" && *format != "json" {
		return fmt.Errorf("--format %q: use csv or json", *format)
	}
	sock := filepath.Join(data, "kassehq.sock")
	if _, err := os.Stat(sock); err == nil {
		c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
		resp, err := c.Get("http://kassehq/journal?format=" + *format)
		if err == nil {
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
				return fmt.Errorf("kassehq serve: %s", strings.TrimSpace(string(b)))
			}
			_, err = io.Copy(stdout, resp.Body)
			return err
		}
		// A socket nobody answers on: a stopped kassehq; read the file.
	}
	path := filepath.Join(data, "kassehq.db")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no journal at %s: pass kassehq's --data", path)
	}
	j, err := hq.OpenJournal(path, time.Now, time.Second, true)
	if err != nil {
		return err
	}
	defer j.Close()
	return j.Export(stdout, *format)
}
