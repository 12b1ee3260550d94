// Command vippssim serves the Vipps MobilePay simulator (access token and
// ePayment v1) for make demo and for trying the register without the
// provider's test environment.
//
//	vippssim --listen 127.0.0.1:8089 --msn 123456 --auto-approve 8s
//
// Credentials default to demo values; VIPPSSIM_CLIENT_ID,
// VIPPSSIM_CLIENT_SECRET and VIPPSSIM_SUBSCRIPTION_KEY override the defaults
// so that secrets need not appear on a command line.
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

	sim := vippssim.New(vippssim.Config{
		MSN:             *msn,
		ClientID:        *clientID,
		ClientSecret:    *clientSecret,
		SubscriptionKey: *subKey,
		TokenTTL:        *tokenTTL,
		AutoApprove:     *autoApprove,
		PartnerMSNs:     partnerMSNs,
		NoRateLimits:    *noLimits,
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
