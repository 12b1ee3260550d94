// Command kassed is the register daemon: it wires the keys, the customer
// display, the receipt printer, the bbolt store and the Vipps MobilePay client
// to the till, and serves the control socket kassectl talks to. Wiring only:
// the behaviour lives in the packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"kasse/cmd/internal/config"
	"kasse/cmd/internal/control"
	"kasse/cmd/internal/service"
	"kasse/display"
	"kasse/display/displaytest"
	"kasse/hq"
	"kasse/journal/saft"
	"kasse/payment"
	"kasse/payment/vipps"
	"kasse/printer"
	"kasse/printer/receipt"
	"kasse/store"
	"kasse/till"
)

func main() {
	log.SetFlags(log.LstdFlags | log.Lmsgprefix)
	log.SetPrefix("kassed: ")
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "kassed: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("kassed", flag.ContinueOnError)
	cfgPath := fs.String("config", "/etc/kasse/kassed.toml", "config file")
	sim := fs.Bool("sim", false, "simulated hardware: in-memory display, keys from the control socket, receipts to a file when no printer port is set")
	dataOverride := fs.String("data", "", "data directory (overrides data_dir in the config)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	if *dataOverride != "" {
		cfg.DataDir = *dataOverride
	}
	secrets, err := config.LoadSecrets(cfg.Vipps.SecretsFile)
	if err != nil {
		return err
	}
	crash, err := crashHook(os.Getenv("KASSE_CRASHPOINTS"), os.Getenv("KASSE_CRASH_SEED"))
	if err != nil {
		return err
	}
	reg, err := openRegister(cfg, secrets, *sim, log.Printf)
	if err != nil {
		return err
	}
	reg.engine.SetCrash(crash)
	defer reg.close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return reg.run(ctx)
}

// register is one wired kassed: everything run needs, built by openRegister.
type register struct {
	cfg    config.Config
	db     *store.DB
	hw     *hardware
	engine *payment.Engine
	till   *till.Till
	rep    *reports
	sup    *supervisor
	logf   func(string, ...any)
	inputs inputs // key hardware; tests swap in fakes before run
	sim    bool
}

func openRegister(cfg config.Config, secrets config.Secrets, sim bool, logf func(string, ...any)) (*register, error) {
	if cfg.Display.Kind == config.DisplaySim && !sim {
		return nil, errSimDisplay // before anything is created
	}
	if err := control.MakeDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	notifier, err := service.FromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	version := buildVersion()
	client, err := vipps.New(vipps.Config{
		BaseURL: cfg.Vipps.BaseURL,
		MSN:     cfg.Vipps.MSN,
		Credentials: vipps.Credentials{
			ClientID: secrets.ClientID, ClientSecret: secrets.ClientSecret, SubscriptionKey: secrets.SubscriptionKey,
		},
		System: vipps.System{Name: "kasse", Version: version, PluginName: "kassed", PluginVersion: version},
		HTTP:   &http.Client{Timeout: cfg.Vipps.Timeout.Duration},
	})
	if err != nil {
		return nil, err
	}
	central, err := openCentral(cfg)
	if err != nil {
		return nil, err
	}
	signer, err := openSigner(cfg.Journal.SigningKey)
	if err != nil {
		return nil, err
	}
	// The rate is journaled with each cash transaction (its VAT, the
	// SAF-T export's VAT code).
	db, err := store.Open(filepath.Join(cfg.DataDir, "kasse.db"), store.Options{Signer: signer, TaxRate: cfg.Store.TaxRate})
	if err != nil {
		return nil, err
	}
	if db.Created() {
		// Only a missing file is created; say so, in case it was not the first start.
		logf("created a new database %s (instance tag %s): the journal starts empty", db.Path(), db.InstanceTag())
	} else {
		logf("database %s: %s", db.Path(), db.StartCheck())
	}
	if err := journalStart(db, cfg, version); err != nil {
		db.Close()
		return nil, err
	}
	hw, err := openHardware(cfg, sim, logf)
	if err != nil {
		db.Close()
		return nil, err
	}
	eng := payment.New(payment.Config{
		Store: cfg.Store.Prefix, Lane: cfg.Store.Lane, StoreName: cfg.Store.Name, StoreLines: cfg.Store.Lines,
		OrgNumber: cfg.Store.OrgNumber,
		Currency:  cfg.Vipps.Currency, Description: cfg.Vipps.PaymentDescription, TaxRate: cfg.Store.TaxRate,
		ChainStores: cfg.Chain.Stores, ChainMSN: cfg.Chain.MSN, Central: central,
		Flow: strings.Replace(cfg.Vipps.Flow, "ecom-image", "ecom", 1), QRSize: hw.panel.QRArea().Dx(),
		ECommMSN: cfg.Vipps.MSN, ECommCallback: cfg.Vipps.CallbackPrefix, ECommFallBack: cfg.Vipps.FallBack,
		ECommImage:   cfg.Vipps.Flow == "ecom-image",
		KeepPhone:    cfg.Vipps.KeepPhoneNumbers,
		Remote:       payment.RemoteRule{Capture: cfg.Remote.Capture, Hold: cfg.Remote.Hold.Duration},
		PollInterval: cfg.Vipps.PollInterval.Duration,
		Logf:         logf,
		PrinterState: func() (string, string) { c := hw.printer.Condition(); return c.State, c.Detail },
	}, client, hw.printer, db)
	pins, err := cashiers(cfg.Keys)
	if err != nil {
		hw.close()
		db.Close()
		return nil, err
	}
	events := eventJournal{db: db, store: cfg.Store.Prefix, lane: cfg.Store.Lane}
	// A simulated register takes the machine's clock as set; a real one
	// waits for the kernel to say NTP set it.
	var clock func() (service.ClockState, error)
	if !sim {
		clock = service.KernelClock{}.State
	}
	sup := newSupervisor(notifier, clock, logf)
	sup.record = events.Record
	sup.ready = readyLine(cfg.Store.Prefix, cfg.Store.Lane)
	rep := newReports(cfg, db, hw.printer, logf)
	t := till.New(till.Config{Store: cfg.Store.Prefix, Lane: cfg.Store.Lane, StoreName: cfg.Store.Name,
		Currency: cfg.Vipps.Currency, CountryCode: cfg.Vipps.CountryCode, PushOnly: cfg.Vipps.Flow == "push", Logf: logf,
		PINs: pins, Journal: events, LockAfter: cfg.Keys.LockAfter.Duration, Chain: cfg.Chain.Stores,
		ClockSynced: sup.clockSynced, Alive: sup.alive, Reports: tillReports{rep},
		System: systemInfo(version, cfg.Display.Kind, cfg.Printer.Port, strings.Join(cfg.Keys.Sources, ","), sup)},
		eng, hw.display)
	if !pins.Login() {
		logf("no [[keys.cashiers]]: nobody logs in, and refunds are refused (they need a supervisor's PIN)")
	}
	return &register{cfg: cfg, db: db, hw: hw, engine: eng, till: t, rep: rep, sup: sup, logf: logf, inputs: realInputs(), sim: sim}, nil
}

// openCentral connects to kassehq when refund.via is "central" (option B);
// nil otherwise, and other stores' sales are refunded straight at Vipps.
func openCentral(cfg config.Config) (payment.Central, error) {
	if !cfg.Refund.Central() {
		return nil, nil
	}
	files, err := config.LoadHQFiles(cfg.Refund)
	if err != nil {
		return nil, err
	}
	conf, err := hq.ClientTLS(files.Cert, files.Key, files.CA)
	if err != nil {
		return nil, err
	}
	return hq.NewClient(cfg.Refund.HQURL, conf, cfg.Vipps.Timeout.Duration)
}

func (r *register) close() {
	r.hw.close()
	if err := r.db.Close(); err != nil {
		r.logf("%v", err)
	}
}

// run serves the control socket and runs the till until ctx ends.
func (r *register) run(ctx context.Context) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	sock := filepath.Join(r.cfg.DataDir, "kassed.sock")
	l, err := control.Listen(sock)
	if err != nil {
		return err
	}
	defer os.Remove(sock)
	if g := r.cfg.Control.Group; g != "" {
		if err := control.GiveToGroup(sock, r.cfg.DataDir, g); err != nil {
			return err
		}
	}
	if err := control.Reachable(sock); err != nil {
		r.logf("warning: %v", err) // root and kassed's user still get in
	}
	// The renderer owns the panel: the till hands it screens and never
	// waits for the bus; a quarter-second tick keeps the countdown true.
	ticks := time.NewTicker(250 * time.Millisecond)
	defer ticks.Stop()
	rendered := make(chan struct{})
	go func() {
		defer close(rendered)
		r.hw.display.Run(ctx, ticks.C)
	}()
	// The renderer stops before close halts the panel: a driver is not
	// drawn on and halted at once.
	defer func() { stop(); <-rendered }()
	api := control.WithReports(control.Handler(r.till, r.hw.panel, r.db, filepath.Join(r.cfg.DataDir, "archive"),
		control.WithSAFT(saftCompany(r.cfg))), r.rep)
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.logf("control socket: %v", err)
			stop()
		}
	}()
	srcs, err := keySources(r.cfg.Keys, r.inputs, r.sim, r.logf)
	if err != nil {
		return err
	}
	for _, s := range srcs {
		go r.till.Listen(ctx, s)
	}
	c := r.cfg
	r.logf("ready: store %s lane %s, MSN %s, Vipps %s, control socket %s", c.Store.Prefix, c.Store.Lane, c.Vipps.MSN, c.Vipps.BaseURL, sock)
	err = r.till.Run(ctx)
	r.sup.stopping()
	// § 2-7 (1): the shutdown is journaled (a power cut leaves none: the
	// next start's 13001 follows the last entry without a 13002).
	if r.db.ChangedByOthers() {
		r.logf("the database was changed by another process: the shutdown is not journaled; the next start checks every page")
	} else if _, jerr := r.db.Record(store.Entry{Code: store.EventShutdown, Store: c.Store.Prefix, Lane: c.Store.Lane,
		Text: "kassed stopped"}); jerr != nil {
		r.logf("journaling the shutdown: %v", jerr)
	}
	shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(shut)
	r.logf("stopped")
	return err
}

// hardware is the register's display and printer, real or simulated.
type hardware struct {
	panel   *display.Panel           // its last frame is kassectl screen's PNG, for every kind
	display *display.Async           // what the till shows screens on
	fb      *displaytest.Framebuffer // the simulated panel, nil on real hardware
	printer *printer.Printer
	closers []io.Closer
}

func (h *hardware) close() {
	for _, c := range h.closers {
		c.Close()
	}
}

func openHardware(cfg config.Config, sim bool, logf func(string, ...any)) (_ *hardware, err error) {
	h := &hardware{}
	defer func() {
		if err != nil {
			h.close() // a half-opened register leaves no port held
		}
	}()
	ph, err := openDisplay(cfg.Display, sim, logf)
	if err != nil {
		return nil, err
	}
	h.panel, h.fb = ph.panel, ph.fb
	h.closers = append(h.closers, closerFunc(ph.close))
	h.display = display.NewAsync(h.panel, logf)

	pc := printer.Config{
		Receipt: receipt.Options{Columns: cfg.Printer.Columns, Language: cfg.Printer.Language},
		Status:  cfg.Printer.Status, ASB: cfg.Printer.ASB, PaperCheck: cfg.Printer.PaperCheck,
		Timeout: cfg.Printer.StatusTimeout.Duration, Name: cfg.Printer.Port, Logf: logf,
	}
	var open printer.Opener
	switch {
	case cfg.Printer.Port != "":
		s := printer.Serial{Path: cfg.Printer.Port, Baud: cfg.Printer.Baud, Parity: cfg.Printer.Parity, Flow: cfg.Printer.Flow}
		if err := s.Check(); err != nil {
			return nil, err
		}
		open = s.Open
	case sim:
		path := filepath.Join(cfg.DataDir, "receipt.escpos")
		open, pc.Status, pc.Name = printer.File(path), printer.StatusOff, path
		logf("simulated printer: receipts go to %s", path)
	default:
		return nil, errors.New("printer.port is empty: set it to the printer's serial device (e.g. /dev/ttyUSB0), or run kassed --sim")
	}
	// A printer that is off or unplugged at start is no reason to stop:
	// the receipts wait in the queue and the cashier is told.
	h.printer = printer.New(open, pc)
	h.closers = append(h.closers, h.printer)
	go h.printer.Run()
	return h, nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// buildVersion is the module version for the Vipps-System-Version header.
func buildVersion() string {
	v := "dev"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 7 {
				v += "+" + s.Value[:7]
			}
		}
	}
	if len(v) > 30 {
		v = v[:30]
	}
	return v
}

// saftCompany is the SAF-T export's header facts from the config.
func saftCompany(cfg config.Config) saft.Company {
	return saft.Company{OrgNumber: cfg.Store.OrgNumber, Name: cfg.Store.Name, Lines: cfg.Store.Lines,
		Store: cfg.Store.Prefix, Lane: cfg.Store.Lane, Currency: cfg.Vipps.Currency,
		ArticleDesc: cfg.Vipps.PaymentDescription, SoftwareVersion: buildVersion()}
}
