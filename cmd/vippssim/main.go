// Command vippssim serves the Vipps MobilePay simulator (access token and
// ePayment v1) for make demo and for trying the register without the
// provider's test environment.
//
//	vippssim --listen 127.0.0.1:8089 --msn 123456 --auto-approve 8s
//
// Credentials default to demo values; VIPPSSIM_CLIENT_ID,
// VIPPSSIM_CLIENT_SECRET and VIPPSSIM_SUBSCRIPTION_KEY override the defaults
// so that secrets need not appear on a command line.
//
// Further sales units (option B: a store per unit, each with its own keys)
// come with --unit MSN, once per unit; their keys are read from
// VIPPSSIM_UNIT_<MSN>_CLIENT_ID, _CLIENT_SECRET and _SUBSCRIPTION_KEY, or
// default to demo-client-id-<MSN> and so on:
//
//	vippssim --msn 123456 --unit 222222 --unit 333333
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"kasse/payment/vipps/vippssim"
	"kasse/vippsid"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "vippssim:", err)
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// units collects --unit MSN, one per further sales unit.
type units []string

func (u *units) String() string { return strings.Join(*u, ",") }

func (u *units) Set(msn string) error {
	if !vippsid.MSN(msn) {
		return fmt.Errorf("%q is not a merchant serial number: use 4 to 6 digits", msn)
	}
	*u = append(*u, msn)
	return nil
}

// salesUnits gives each --unit its keys: from the environment, so secrets
// need not be on a command line, else demo values named after the MSN.
func salesUnits(msns []string, getenv func(string) string) []vippssim.SalesUnit {
	var out []vippssim.SalesUnit
	for _, m := range msns {
		key := func(name, def string) string {
			if v := getenv("VIPPSSIM_UNIT_" + m + "_" + name); v != "" {
				return v
			}
			return def + "-" + m
		}
		out = append(out, vippssim.SalesUnit{MSN: m, ClientID: key("CLIENT_ID", "demo-client-id"),
			ClientSecret: key("CLIENT_SECRET", "demo-client-secret"), SubscriptionKey: key("SUBSCRIPTION_KEY", "demo-subscription-key")})
	}
	return out
}

func run(args []string) error {
	fs := flag.NewFlagSet("vippssim", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8089", "address to listen on")
	msn := fs.String("msn", envOr("VIPPSSIM_MSN", "123456"), "merchant serial number (4-6 digits)")
	clientID := fs.String("client-id", envOr("VIPPSSIM_CLIENT_ID", "demo-client-id"), "client_id (env VIPPSSIM_CLIENT_ID)")
	clientSecret := fs.String("client-secret", envOr("VIPPSSIM_CLIENT_SECRET", "demo-client-secret"), "client_secret (env VIPPSSIM_CLIENT_SECRET)")
	subKey := fs.String("subscription-key", envOr("VIPPSSIM_SUBSCRIPTION_KEY", "demo-subscription-key"), "Ocp-Apim-Subscription-Key (env VIPPSSIM_SUBSCRIPTION_KEY)")
	autoApprove := fs.Duration("auto-approve", 0, "approve QR and push payments this long after creation, as if a shopper paid (0: never)")
	tokenTTL := fs.Duration("token-ttl", time.Hour, "access token lifetime")
	partners := fs.String("partner-msns", "", "comma-separated further MSNs the keys may act for (partner keys, option A)")
	noLimits := fs.Bool("no-rate-limits", false, "turn off the provider's per-reference rate limits (for load tests)")
	var extra units
	fs.Var(&extra, "unit", "a further sales unit's MSN, repeatable (option B); keys from env VIPPSSIM_UNIT_<MSN>_CLIENT_ID, _CLIENT_SECRET, _SUBSCRIPTION_KEY")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: all settings are flags, see -h", fs.Args())
	}
	if !vippsid.MSN(*msn) {
		return fmt.Errorf("--msn %q is not a merchant serial number: use 4 to 6 digits", *msn)
	}
	var partnerMSNs []string
	for _, m := range strings.Split(*partners, ",") {
		if m = strings.TrimSpace(m); m == "" {
			continue
		}
		if !vippsid.MSN(m) {
			return fmt.Errorf("--partner-msns: %q is not a merchant serial number: use 4 to 6 digits", m)
		}
		partnerMSNs = append(partnerMSNs, m)
	}
	seen := map[string]bool{*msn: true}
	for _, m := range append(partnerMSNs, extra...) {
		if seen[m] {
			return fmt.Errorf("MSN %s is given twice (--msn, --partner-msns, --unit): every sales unit has its own", m)
		}
		seen[m] = true
	}

	sim := vippssim.New(vippssim.Config{
		MSN:             *msn,
		ClientID:        *clientID,
		ClientSecret:    *clientSecret,
		SubscriptionKey: *subKey,
		TokenTTL:        *tokenTTL,
		AutoApprove:     *autoApprove,
		PartnerMSNs:     partnerMSNs,
		NoRateLimits:    *noLimits,
		Units:           salesUnits(extra, os.Getenv),
	})
	defer sim.Close()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listening on %s (is another vippssim running? pick another --listen): %w", *listen, err)
	}
	logger := log.New(os.Stderr, "", log.LstdFlags)
	srv := &http.Server{
		Handler:           logRequests(logger, sim),
		ReadHeaderTimeout: 10 * time.Second,
	}
	fmt.Printf("vippssim listening on http://%s (MSN %s)\n", ln.Addr(), *msn)
	for _, m := range extra {
		fmt.Printf("vippssim: sales unit MSN %s\n", m)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Print("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// logRequests writes one line per request: method, path and status only,
// never headers, so no secret reaches the log.
func logRequests(logger *log.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		logger.Printf("%s %s %d", r.Method, r.URL.Path, sw.status)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(p)
}
