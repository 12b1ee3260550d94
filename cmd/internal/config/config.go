// Package config reads kassed's configuration file and its secrets file.
// Both are strict TOML: an unknown key is an error, so a misspelt setting is
// never silently ignored on a till.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"kasse/money"
	"kasse/printer/receipt"
	"kasse/store"
	"kasse/vippsid"
)

// Config is kassed.toml. example.toml in this directory shows every key.
type Config struct {
	// DataDir holds the bbolt database, the control socket (kassed.sock)
	// and, in --sim, the printer output. A relative path is resolved against
	// the config file's directory.
	DataDir string  `toml:"data_dir,omitempty,omitzero"`
	Vipps   Vipps   `toml:"vipps,omitempty,omitzero"`
	Store   Store   `toml:"store,omitempty,omitzero"`
	Display Display `toml:"display,omitempty,omitzero"`
	Printer Printer `toml:"printer,omitempty,omitzero"`
	Keys    Keys    `toml:"keys,omitempty,omitzero"`
	Chain   Chain   `toml:"chain,omitempty,omitzero"`

	file string // named in errors; empty for a Config built in code
}

// Vipps is the [vipps] table: how to reach the Vipps MobilePay ePayment API.
type Vipps struct {
	// BaseURL is the test or production API, or the simulator, e.g.
	// https://apitest.vipps.no.
	BaseURL string `toml:"base_url,omitempty,omitzero"`
	// MSN is the merchant serial number, 4–6 digits, one for the whole chain.
	MSN string `toml:"msn,omitempty,omitzero"`
	// Currency of every sale: NOK (default), DKK or EUR.
	Currency string `toml:"currency,omitempty,omitzero"`
	// SecretsFile holds client_id, client_secret and subscription_key, mode
	// 0600. A relative path is resolved against the config file's directory.
	SecretsFile string `toml:"secrets_file,omitempty,omitzero"`
	// PaymentDescription is shown in the app, 3–100 characters; default
	// "Purchase".
	PaymentDescription string `toml:"payment_description,omitempty,omitzero"`
	// PollInterval is how often a pending payment is read; at least 1s
	// (Vipps allows 120 reads per minute per payment); default 1s.
	PollInterval Duration `toml:"poll_interval,omitempty,omitzero"`
	// Timeout bounds each HTTP request, 1s to 2m; default 10s.
	Timeout Duration `toml:"timeout,omitempty,omitzero"`
	// Flow is how the shopper reaches the payment: "qr" (a QR drawn from
	// TEXT/TARGETURL, the default), "qr-image" (Vipps's IMAGE/PNG, fetched
	// and drawn 1:1) or "push" (the cashier keys the shopper's phone
	// number; the phone key does that in any flow).
	Flow string `toml:"flow,omitempty,omitzero"`
	// CallbackPrefix and FallBack are the eCom flow's merchantInfo: where
	// the provider posts updates (the register polls, but eCom requires
	// one), and the merchant's website the shopper's phone shows after
	// paying (a register has no page of its own to return to).
	CallbackPrefix string `toml:"callback_prefix,omitempty,omitzero"`
	FallBack       string `toml:"fallback,omitempty,omitzero"`
	// CountryCode is put before a keyed phone number: 47 (NO), 45 (DK), 358 (FI).
	CountryCode string `toml:"country_code,omitempty,omitzero"`
	// KeepPhoneNumbers stores keyed phone numbers with the sale; default
	// false: a number is used for its one request and never stored,
	// logged or printed. Turning it on makes the merchant a controller of
	// that personal data under the GDPR (see README).
	KeepPhoneNumbers bool `toml:"keep_phone_numbers,omitempty,omitzero"`
}

// Chain is the [chain] table: the other stores whose sales this register
// may refund.
type Chain struct {
	// Stores are the reference prefixes of the chain's stores (this
	// store's own prefix is always included). A refund of a reference with
	// any other prefix is refused.
	Stores []string `toml:"stores,omitempty,omitzero"`
	// MSN maps a store prefix to that store's merchant serial number, for
	// chains on partner keys (option A); a refund then carries the MSN of
	// the store that made the sale. Empty: one MSN, vipps.msn (option C).
	MSN map[string]string `toml:"msn,omitempty,omitzero"`
}

// Store is the [store] table: who the register belongs to.
type Store struct {
	// Prefix starts every payment reference and tells the chain's shops
	// apart under one MSN: a letter, then 1–11 letters or digits.
	Prefix string `toml:"prefix,omitempty,omitzero"`
	// Lane is this register within the shop: 1–4 letters or digits.
	Lane string `toml:"lane,omitempty,omitzero"`
	// Name is printed at the top of every receipt.
	Name string `toml:"name,omitempty,omitzero"`
	// Lines are printed under the name: the address.
	Lines []string `toml:"lines,omitempty,omitzero"`
	// OrgNumber is the seller's organisation number (9 digits, spaces
	// allowed), printed on every receipt with "MVA" after it.
	OrgNumber string `toml:"org_number,omitempty,omitzero"`
	// TaxRate is the VAT included in keyed amounts, in basis points
	// (2500 = 25 %), for the receipt's VAT line; 0 prints no VAT line.
	TaxRate int `toml:"tax_rate,omitempty,omitzero"`
}

// Display is the [display] table: the customer display showing the QR code.
type Display struct {
	// Driver is "sim" (in memory, the only one in this build).
	Driver string `toml:"driver,omitempty,omitzero"`
	// Width and Height in pixels, 64–1024; default 240×320.
	Width  int `toml:"width,omitempty,omitzero"`
	Height int `toml:"height,omitempty,omitzero"`
}

// Printer is the [printer] table: the ESC/POS receipt printer.
type Printer struct {
	// Port is the serial device, e.g. /dev/ttyUSB0; empty in --sim writes
	// receipt.escpos in data_dir.
	Port string `toml:"port,omitempty,omitzero"`
	// Baud is the serial speed, a standard rate; default 19200.
	Baud int `toml:"baud,omitempty,omitzero"`
	// Parity is none (default), even or odd; 8 data bits, 1 stop bit.
	Parity string `toml:"parity,omitempty,omitzero"`
	// Flow is the flow control: none (default), rtscts or xonxoff.
	Flow string `toml:"flow,omitempty,omitzero"`
	// Columns is the characters per line, 24–64; default 42 (80 mm paper).
	Columns int `toml:"columns,omitempty,omitzero"`
	// Status is what the printer must answer before a receipt counts:
	// "required" (default: a printer that does not answer gets nothing and
	// the receipts wait), "optional" (an old printer that never answers is
	// printed to blind) or "off".
	Status string `toml:"status,omitempty,omitzero"`
	// StatusTimeout bounds the wait for one status answer, 50ms–5s;
	// default 500ms.
	StatusTimeout Duration `toml:"status_timeout,omitempty,omitzero"`
	// ASB asks the printer to report paper end, an open cover and errors
	// by itself (Automatic Status Back); default true.
	ASB bool `toml:"asb"`
	// Language of the receipts: nb (default), da, fi or en.
	Language string `toml:"language,omitempty,omitzero"`
	// PaperCheck reads the roll sensor (paper near end); default true.
	// Turn it off for a printer without one: paper end still stops it.
	PaperCheck bool `toml:"paper_check"`
}

// Keys is the [keys] table: where the cashier's key presses come from.
type Keys struct {
	// Source is "socket" (kassectl key), the only one in this build.
	Source string `toml:"source,omitempty,omitzero"`
}

// Duration is a time.Duration written as a string with a unit, "1s".
type Duration struct{ time.Duration }

// UnmarshalText reads "1s", "500ms".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration: write a number with a unit, e.g. \"1s\" or \"500ms\"", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration the way UnmarshalText reads it.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func defaults() Config {
	return Config{
		Vipps: Vipps{
			Currency:           "NOK",
			PaymentDescription: "Purchase",
			PollInterval:       Duration{time.Second},
			Timeout:            Duration{10 * time.Second},
			Flow:               "qr",
			CountryCode:        "47",
		},
		Display: Display{Driver: "sim", Width: 240, Height: 320},
		Printer: Printer{Baud: 19200, Parity: "none", Flow: "none", Columns: 42, Language: "nb", Status: "required",
			StatusTimeout: Duration{500 * time.Millisecond}, ASB: true, PaperCheck: true},
		Keys: Keys{Source: "socket"},
	}
}

// maxConfigSize bounds the read; example.toml, every key with its comment,
// is a few kB.
const maxConfigSize = 1 << 20

// Load reads the config file at path, strictly: unknown keys are errors.
// Keys left out take their defaults; the result is validated. The file must
// be writable by nobody but root and the user kassed runs as (see trusted).
func Load(path string) (Config, error) { return load(path, os.Geteuid()) }

// load is Load for a kassed running as uid.
func load(path string, uid int) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w: pass the right file with --config, or copy example.toml there", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	dir := filepath.Dir(abs)
	di, err := os.Stat(dir)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: its directory: %w", path, err)
	}
	if err := trusted(path, fi, dir, di, uid); err != nil {
		return Config{}, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	if len(data) > maxConfigSize {
		return Config{}, fmt.Errorf("config %s: larger than %d bytes: pass kassed's TOML config with --config", path, maxConfigSize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return Config{}, fmt.Errorf("config %s: the file is empty: copy example.toml there and fill it in", path)
	}
	c := defaults()
	md, err := toml.Decode(string(data), &c)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w: fix the file (see example.toml)", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		errs := make([]error, len(und))
		for i, k := range und {
			errs[i] = fmt.Errorf("config %s: unknown key %q: check its spelling and table against example.toml, or remove it", path, k.String())
		}
		return Config{}, errors.Join(errs...)
	}
	c.file = path

	// Paths are relative to the file, not to wherever kassed was started.
	c.DataDir = resolve(dir, c.DataDir)
	c.Vipps.SecretsFile = resolve(dir, c.Vipps.SecretsFile)

	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func resolve(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

var countryCode = regexp.MustCompile(`^[1-9][0-9]{0,2}$`)

// Standard serial rates; anything else is almost certainly a typo.
var bauds = map[int]bool{1200: true, 2400: true, 4800: true, 9600: true, 19200: true, 38400: true, 57600: true, 115200: true}

// Validate reports every invalid or missing key at once, one line each,
// naming the key and what a valid value looks like.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		prefix := "config: "
		if c.file != "" {
			prefix = "config " + c.file + ": "
		}
		errs = append(errs, fmt.Errorf(prefix+format, a...))
	}

	if c.DataDir == "" {
		bad("data_dir is missing: set it to the directory for the database and control socket, e.g. /var/lib/kasse")
	}

	v := c.Vipps
	if v.BaseURL == "" {
		bad("vipps.base_url is missing: set it to https://apitest.vipps.no (test), https://api.vipps.no (production) or the simulator's address")
	} else if u, err := url.Parse(v.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("vipps.base_url %q is not an absolute http or https URL: use e.g. https://apitest.vipps.no", v.BaseURL)
	}
	switch {
	case v.MSN == "":
		bad("vipps.msn is missing: set it to the merchant serial number (4–6 digits) from the Vipps MobilePay portal")
	case !vippsid.MSN(v.MSN):
		bad("vipps.msn %q is not valid: set it to the merchant serial number (4–6 digits) from the Vipps MobilePay portal", v.MSN)
	}
	if !money.ValidCurrency(v.Currency) {
		bad("vipps.currency %q is not supported: use NOK, DKK or EUR", v.Currency)
	}
	if v.SecretsFile == "" {
		bad("vipps.secrets_file is missing: set it to the file holding client_id, client_secret and subscription_key, e.g. /etc/kasse/secrets.toml")
	}
	if n := utf8.RuneCountInString(v.PaymentDescription); n < 3 || n > 100 {
		bad("vipps.payment_description %q has %d characters: use 3 to 100, e.g. \"Kjøp i butikk\"", v.PaymentDescription, n)
	}
	if v.PollInterval.Duration < time.Second {
		bad("vipps.poll_interval %q is too short: use 1s or more (at most one read a second per payment, as the provider asks), e.g. \"1s\"", v.PollInterval)
	}
	switch v.Flow {
	case "qr", "qr-image", "push":
	case "ecom", "ecom-image":
		for key, u := range map[string]string{"callback_prefix": v.CallbackPrefix, "fallback": v.FallBack} {
			if p, err := url.Parse(u); u == "" || err != nil || p.Scheme != "https" || p.Host == "" {
				bad("vipps.%s %q: the ecom flow needs an https URL, e.g. https://butikken.no/vipps", key, u)
			}
		}
	default:
		bad("vipps.flow %q is not known: use qr (default), qr-image, push, ecom or ecom-image", v.Flow)
	}
	if !countryCode.MatchString(v.CountryCode) {
		bad("vipps.country_code %q is not valid: use digits without +, e.g. 47 (NO), 45 (DK) or 358 (FI)", v.CountryCode)
	}
	if v.Timeout.Duration < time.Second || v.Timeout.Duration > 2*time.Minute {
		bad("vipps.timeout %q is out of range: use 1s to 2m, e.g. \"10s\"", v.Timeout)
	}

	for _, p := range c.Chain.Stores {
		if err := store.CheckPrefix(p); err != nil {
			bad("chain.stores: %v", err)
		}
	}
	for p, m := range c.Chain.MSN {
		if err := store.CheckPrefix(p); err != nil {
			bad("chain.msn: %v", err)
		}
		if !vippsid.MSN(m) {
			bad("chain.msn.%s %q is not valid: use that store's merchant serial number (4–6 digits)", p, m)
		}
	}

	s := c.Store
	if s.Prefix == "" {
		bad("store.prefix is missing: set it to the shop's reference prefix, a letter then 1–11 letters or digits, e.g. OSLO1")
	} else if err := store.CheckPrefix(s.Prefix); err != nil {
		bad("store.prefix: %v", err)
	}
	if s.Lane == "" {
		bad("store.lane is missing: set it to this register's lane, 1–4 letters or digits, e.g. \"2\"")
	} else if err := store.CheckLane(s.Lane); err != nil {
		bad("store.lane: %v", err)
	}
	if strings.TrimSpace(s.Name) == "" {
		bad("store.name is missing: set it to the shop name printed on receipts")
	}
	if s.OrgNumber == "" {
		bad("store.org_number is missing: set it to the seller's organisation number (9 digits, from Enhetsregisteret): every receipt must show it")
	} else if err := receipt.CheckOrgNumber(s.OrgNumber); err != nil {
		bad("store.%v", strings.TrimPrefix(err.Error(), "store."))
	}
	if s.TaxRate < 0 || s.TaxRate > 10000 {
		bad("store.tax_rate %d is out of range: use basis points from 0 to 10000, e.g. 2500 for 25 %% VAT", s.TaxRate)
	}

	d := c.Display
	if d.Driver != "sim" {
		bad("display.driver %q is not supported by this build: use \"sim\"", d.Driver)
	}
	if d.Width < 64 || d.Width > 1024 {
		bad("display.width %d is out of range: use 64 to 1024 pixels, e.g. 240", d.Width)
	}
	if d.Height < 64 || d.Height > 1024 {
		bad("display.height %d is out of range: use 64 to 1024 pixels, e.g. 320", d.Height)
	}

	p := c.Printer
	if !bauds[p.Baud] {
		bad("printer.baud %d is not a standard rate: use the printer's setting, e.g. 9600, 19200, 38400 or 115200", p.Baud)
	}
	if p.Columns < 24 || p.Columns > 64 {
		bad("printer.columns %d is out of range: use 24 to 64, e.g. 42 for 80 mm paper or 32 for 58 mm", p.Columns)
	}
	if !slices.Contains(receipt.Languages, p.Language) {
		bad("printer.language %q is not known: use nb (Norwegian, the default), da, fi or en", p.Language)
	}
	switch p.Parity {
	case "none", "even", "odd":
	default:
		bad("printer.parity %q is not known: use the printer's setting, none (most printers), even or odd", p.Parity)
	}
	switch p.Flow {
	case "none", "rtscts", "xonxoff":
	default:
		bad("printer.flow %q is not known: use the printer's setting, none, rtscts (hardware) or xonxoff (software)", p.Flow)
	}
	switch p.Status {
	case "required", "optional", "off":
	default:
		bad("printer.status %q is not known: use required (the printer must say it printed), optional (for an old printer that never answers) or off", p.Status)
	}
	if p.StatusTimeout.Duration < 50*time.Millisecond || p.StatusTimeout.Duration > 5*time.Second {
		bad("printer.status_timeout %q is out of range: use 50ms to 5s, e.g. \"500ms\"", p.StatusTimeout)
	}

	if c.Keys.Source != "socket" {
		bad("keys.source %q is not supported by this build: use \"socket\" (kassectl key)", c.Keys.Source)
	}
	return errors.Join(errs...)
}
