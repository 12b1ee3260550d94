// Package config reads kassed's configuration file and its secrets file.
// Both are strict TOML: an unknown key is an error, so a misspelt setting is
// never silently ignored on a till.
package config

import (
	"bytes"
	"cmp"
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

	"kasse/device"
	"kasse/device/evdev"
	"kasse/money"
	"kasse/printer/receipt"
	"kasse/store"
	"kasse/till/pin"
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
	Control Control `toml:"control,omitempty,omitzero"`
	Refund  Refund  `toml:"refund,omitempty,omitzero"`
	Remote  Remote  `toml:"remote,omitempty,omitzero"`
	Journal Journal `toml:"journal,omitempty,omitzero"`

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

// Control is the [control] table: who may use the control socket.
type Control struct {
	// Group gets the socket (0660) and the data directory (0750): the
	// fleet managers' admin group, e.g. "kasseadm". Empty: kassed's own
	// group.
	Group string `toml:"group,omitempty,omitzero"`
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

// Refund is the [refund] table: where refunds of other stores' sales go.
type Refund struct {
	// Via is "vipps" (the default: straight to Vipps with this register's
	// keys, options A and C) or "central" (option B: each store is its own
	// sales unit, and kassehq at head office refunds other stores' sales
	// with their keys, which this register never holds).
	Via string `toml:"via,omitempty,omitzero"`
	// HQURL is kassehq's https address; HQCert and HQKey the client
	// certificate and key kassehq register issued for this register, HQCA
	// kassehq's CA. The files are held to the secrets file's rules.
	HQURL  string `toml:"hq_url,omitempty,omitzero"`
	HQCert string `toml:"hq_cert,omitempty,omitzero"`
	HQKey  string `toml:"hq_key,omitempty,omitzero"`
	HQCA   string `toml:"hq_ca,omitempty,omitzero"`
}

// Central reports whether other stores' sales are refunded through kassehq.
func (r Refund) Central() bool { return r.Via == "central" }

// Remote is the [remote] table: the shop's rule for remote orders
// (distance selling: the till's remote key, the customer not in the shop).
type Remote struct {
	// Capture is "dispatch" (default: the money stays reserved until
	// kassectl capture REF says the order was sent) or "now" (captured at
	// approval, for goods handed over at once, e.g. digital ones).
	Capture string `toml:"capture,omitempty,omitzero"`
	// Hold is how long a reservation waits for dispatch before kassed
	// cancels it; default 72h. At most 14 days (the capture deadline in
	// Denmark and Finland; 180 days in Norway, but card reservations may
	// lapse far sooner).
	Hold Duration `toml:"hold,omitempty,omitzero"`
}

// maxHold is the shortest capture deadline of Vipps MobilePay (Denmark and
// Finland); a longer hold would promise the journal a reservation Vipps
// may already have cancelled.
const maxHold = 14 * 24 * time.Hour

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

// Journal is the [journal] table: the electronic journal the Norwegian
// cash register rules ask for.
type Journal struct {
	// SigningKey is the private key that signs every sale and return
	// (kassasystemforskriften § 2-7 (1) and the signature guidance), made by "kassectl keygen"; default
	// signing-key.pem beside vipps.secrets_file, in the root-owned
	// secrets directory.
	SigningKey string `toml:"signing_key,omitempty,omitzero"`
}

// Display is the [display] table: the customer display showing the QR code.
type Display struct {
	// Kind is the panel: st7789 or ili9341 (colour TFT), ssd1306 (128×64
	// OLED: no QR, so vipps.flow must be push), epd2in13 (Waveshare 2.13"
	// e-paper, V2), or sim (in memory; only with kassed --sim).
	Kind string `toml:"kind,omitempty,omitzero"`
	// Driver is the older name of Kind, still read (not in example.toml).
	Driver string `toml:"driver,omitempty,omitzero" deprecated:"kind"`
	// SPI is the port the panel is wired to: "/dev/spidev0.0" or periph's
	// "SPI0.0".
	SPI string `toml:"spi,omitempty,omitzero"`
	// SpeedHz is the SPI clock of the colour TFTs, 1–80 MHz; default 32 MHz.
	// The OLED and e-paper drivers choose their own.
	SpeedHz int `toml:"speed_hz,omitempty,omitzero"`
	// DC, RST, Backlight, CS and Busy are GPIO names as periph knows them,
	// e.g. "GPIO25" (BCM numbering). DC is required on every panel; RST
	// on the e-paper (and recommended on the TFTs); CS and Busy on the
	// e-paper only; Backlight where it is wired to a GPIO.
	DC        string `toml:"dc,omitempty,omitzero"`
	RST       string `toml:"rst,omitempty,omitzero"`
	Backlight string `toml:"backlight,omitempty,omitzero"`
	CS        string `toml:"cs,omitempty,omitzero"`
	Busy      string `toml:"busy,omitempty,omitzero"`
	// Rotation turns the picture clockwise: 0, 90, 180 or 270 (the OLED: 0
	// or 180).
	Rotation int `toml:"rotation,omitempty,omitzero"`
	// Width and Height are the glass's pixels in its native orientation;
	// default 240×320, 128×64 for ssd1306, 122×250 for epd2in13.
	Width  int `toml:"width,omitempty,omitzero"`
	Height int `toml:"height,omitempty,omitzero"`
	// XOffset and YOffset place a smaller glass in the controller's
	// memory (ST7789 135×240 modules: 52 and 40); rotation moves them.
	XOffset int `toml:"x_offset,omitempty,omitzero"`
	YOffset int `toml:"y_offset,omitempty,omitzero"`
	// Language of the screens: nb (Norwegian, default), da, fi or en.
	Language string `toml:"language,omitempty,omitzero"`
}

// The panel kinds.
const (
	DisplaySim      = "sim"
	DisplayST7789   = "st7789"
	DisplayILI9341  = "ili9341"
	DisplaySSD1306  = "ssd1306"
	DisplayEPD2in13 = "epd2in13"
)

// kindSize is each panel's default glass, native orientation.
func kindSize(kind string) (w, h int, ok bool) {
	switch kind {
	case DisplaySim, DisplayST7789, DisplayILI9341:
		return 240, 320, true
	case DisplaySSD1306:
		return 128, 64, true
	case DisplayEPD2in13:
		return 122, 250, true
	}
	return 0, 0, false
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

// Keys is the [keys] table: where the cashier's key presses come from,
// and who may log in and approve refunds.
type Keys struct {
	// Sources are the key hardware kassed reads, any of "gpio",
	// "matrix" and "evdev", several at once; "socket" (kassectl key and
	// scan) is always on. Default ["socket"].
	Sources []string `toml:"sources,omitempty,omitzero"`
	// Source is the one-source form of Sources, from older configs.
	Source string `toml:"source,omitempty,omitzero"`
	// LockAfter locks the till after that long without a key while no
	// payment runs; the cashier's PIN opens it. "0s" never. Default 5m.
	LockAfter Duration   `toml:"lock_after,omitempty,omitzero"`
	GPIO      GPIOKeys   `toml:"gpio,omitempty,omitzero"`
	Matrix    MatrixKeys `toml:"matrix,omitempty,omitzero"`
	// Evdev lists USB keypads and barcode scanners ([[keys.evdev]]).
	Evdev []EvdevKeys `toml:"evdev,omitempty,omitzero"`
	// Cashiers may log in ([[keys.cashiers]]); with none, nobody logs in,
	// and no refund can be made (a refund needs a supervisor's PIN).
	Cashiers []Cashier `toml:"cashiers,omitempty,omitzero"`
}

// GPIOKeys is [keys.gpio]: push buttons, one GPIO pin each.
type GPIOKeys struct {
	// Pull is "up" (the button connects the pin to ground; default) or
	// "down" (to 3.3 V).
	Pull string `toml:"pull,omitempty,omitzero"`
	// Debounce is how long a pin must be quiet before it counts; default 20ms.
	Debounce Duration `toml:"debounce,omitempty,omitzero"`
	// Map gives each pin (by its name, e.g. GPIO17) a key's function.
	Map map[string]string `toml:"map,omitempty,omitzero"`
}

// MatrixKeys is [keys.matrix]: a keypad wired as rows and columns.
type MatrixKeys struct {
	Rows []string `toml:"rows,omitempty,omitzero"` // driven, e.g. ["GPIO5", "GPIO6", "GPIO13", "GPIO19"]
	Cols []string `toml:"cols,omitempty,omitzero"` // read, pulled up
	// Layout is each row's functions, one per column ("" for none).
	Layout [][]string `toml:"layout,omitempty,omitzero"`
	// Period is the scan beat; default 5ms. Stable is how many scans a
	// key must hold; default 4.
	Period Duration `toml:"period,omitempty,omitzero"`
	Stable int      `toml:"stable,omitempty,omitzero"`
}

// EvdevKeys is one [[keys.evdev]]: a USB keypad or barcode scanner.
type EvdevKeys struct {
	// Path (best a /dev/input/by-id/… link) or Name (the kernel's name
	// for the device) finds it.
	Path string `toml:"path,omitempty,omitzero"`
	Name string `toml:"name,omitempty,omitzero"`
	// Role is "keypad" (keys are functions by Map) or "scanner" (codes
	// typed through Layout, Enter-terminated).
	Role string `toml:"role,omitempty,omitzero"`
	// Layout is the keyboard layout the scanner is set to: us, no, da,
	// sv or de. Default us.
	Layout string `toml:"layout,omitempty,omitzero"`
	// ScanGap is the longest pause inside one scan; default 300ms.
	ScanGap Duration `toml:"scan_gap,omitempty,omitzero"`
	// Map gives a keypad's key codes ("KEY_KP1") their functions; empty:
	// a standard numeric keypad's (see README).
	Map map[string]string `toml:"map,omitempty,omitzero"`
}

// Cashier is one [[keys.cashiers]] entry.
type Cashier struct {
	// ID is what the cashier keys to log in, 1–8 digits; it goes into the
	// journal with each sale and onto the receipt.
	ID string `toml:"id,omitempty,omitzero"`
	// Name is for people reading the config.
	Name string `toml:"name,omitempty,omitzero"`
	// PINHash is the PIN's argon2id hash from "kassectl pin hash"; never
	// the PIN itself.
	PINHash string `toml:"pin_hash,omitempty,omitzero"`
	// Supervisor may approve refunds with their PIN.
	Supervisor bool `toml:"supervisor,omitempty,omitzero"`
}

// KeySources are the sources kassed can read.
var keySources = []string{"socket", "gpio", "matrix", "evdev"}

// SourceOn reports whether source is configured.
func (k Keys) SourceOn(source string) bool {
	for _, s := range k.Sources {
		if s == source {
			return true
		}
	}
	return false
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
		Display: Display{Kind: DisplaySim, Width: 240, Height: 320, SpeedHz: 32_000_000, Language: "nb"},
		Printer: Printer{Baud: 19200, Parity: "none", Flow: "none", Columns: 42, Language: "nb", Status: "required",
			StatusTimeout: Duration{500 * time.Millisecond}, ASB: true, PaperCheck: true},
		Keys: Keys{LockAfter: Duration{5 * time.Minute}},
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
	if err := c.Display.settle(md); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	if len(c.Keys.Sources) == 0 {
		c.Keys.Sources = []string{cmp.Or(c.Keys.Source, "socket")}
	}
	if len(c.Keys.Cashiers) > 0 && fi.Mode().Perm()&0o004 != 0 {
		// A PIN is a few digits: its hash can be guessed offline by
		// anyone who reads it.
		return Config{}, fmt.Errorf("config file %s holds PIN hashes ([[keys.cashiers]]) and is readable by others (mode %04o): run \"chmod 640 %s\" (group: kassed's)", path, fi.Mode().Perm(), path)
	}

	// Paths are relative to the file, not to wherever kassed was started.
	c.DataDir = resolve(dir, c.DataDir)
	c.Vipps.SecretsFile = resolve(dir, c.Vipps.SecretsFile)
	c.Refund.HQCert, c.Refund.HQKey, c.Refund.HQCA = resolve(dir, c.Refund.HQCert), resolve(dir, c.Refund.HQKey), resolve(dir, c.Refund.HQCA)
	if c.Journal.SigningKey == "" && c.Vipps.SecretsFile != "" {
		c.Journal.SigningKey = filepath.Join(filepath.Dir(c.Vipps.SecretsFile), "signing-key.pem")
	}
	c.Journal.SigningKey = resolve(dir, c.Journal.SigningKey)

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

var groupName = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)

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

	if g := c.Control.Group; g != "" && !groupName.MatchString(g) {
		bad("control.group %q is not a group name: use a Unix group, e.g. \"kasseadm\"", g)
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

	switch rf := c.Refund; rf.Via {
	case "", "vipps":
	case "central":
		if u, err := url.Parse(rf.HQURL); rf.HQURL == "" || err != nil || u.Scheme != "https" || u.Host == "" {
			bad("refund.hq_url %q: refund.via = \"central\" needs kassehq's https address, e.g. https://hq.example.no:8443", rf.HQURL)
		}
		for key, f := range map[string]string{"hq_cert": rf.HQCert, "hq_key": rf.HQKey, "hq_ca": rf.HQCA} {
			if f == "" {
				bad("refund.%s is missing: set it to the file kassehq register wrote for this register (refund.via = \"central\" needs it)", key)
			}
		}
	default:
		bad("refund.via %q is not known: use \"vipps\" (default) or \"central\" (kassehq, option B)", rf.Via)
	}

	switch rm := c.Remote; {
	case rm.Capture != "" && rm.Capture != "dispatch" && rm.Capture != "now":
		bad("remote.capture %q is not known: use \"dispatch\" (default: capture when the order is sent) or \"now\" (at approval)", rm.Capture)
	case rm.Hold.Duration < 0 || rm.Hold.Duration > maxHold:
		bad("remote.hold %q: use up to 336h (14 days, the shortest capture deadline), e.g. \"72h\"", rm.Hold)
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

	c.Display.validate(bad, c.Vipps.Flow)

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

	c.Keys.validate(bad)
	return errors.Join(errs...)
}

var cashierID = regexp.MustCompile(`^[0-9]{1,8}$`)

func (k Keys) validate(bad func(string, ...any)) {
	sources := k.Sources
	if len(sources) == 0 && k.Source != "" {
		sources = []string{k.Source}
	}
	for _, s := range sources {
		if !slices.Contains(keySources, s) {
			bad("keys.sources: %q is not a key source: use any of gpio, matrix, evdev (socket, kassectl key, is always on)", s)
		}
	}
	if k.LockAfter.Duration < 0 {
		bad("keys.lock_after %q is negative: use e.g. \"5m\", or \"0s\" never to lock", k.LockAfter)
	}
	on := func(s string) bool { return slices.Contains(sources, s) }
	if on("gpio") {
		g := k.GPIO
		if len(g.Map) == 0 {
			bad("keys.gpio.map is empty: map each button's pin to a key, e.g. GPIO17 = \"pay\"")
		}
		if _, err := device.ParseKeyMap("keys.gpio", g.Map); err != nil {
			bad("%v", err)
		}
		if g.Pull != "" && g.Pull != "up" && g.Pull != "down" {
			bad("keys.gpio.pull %q: use \"up\" (button to ground) or \"down\" (button to 3.3 V)", g.Pull)
		}
		if g.Debounce.Duration < 0 || g.Debounce.Duration > time.Second {
			bad("keys.gpio.debounce %q is out of range: use 0 to 1s, e.g. \"20ms\"", g.Debounce)
		}
	}
	if on("matrix") {
		m := k.Matrix
		if len(m.Rows) == 0 || len(m.Cols) == 0 {
			bad("keys.matrix needs rows and cols: list the GPIO pins, e.g. rows = [\"GPIO5\", \"GPIO6\", \"GPIO13\", \"GPIO19\"]")
		}
		if len(m.Layout) != len(m.Rows) {
			bad("keys.matrix.layout has %d rows, keys.matrix.rows %d pins: give one row of functions per row pin", len(m.Layout), len(m.Rows))
		}
		for i, row := range m.Layout {
			if len(row) != len(m.Cols) {
				bad("keys.matrix.layout row %d has %d keys, keys.matrix.cols %d pins: give one function per column (\"\" for none)", i+1, len(row), len(m.Cols))
			}
			for _, fn := range row {
				if _, err := device.ParseKey(fn); fn != "" && err != nil {
					bad("keys.matrix.layout row %d: %v", i+1, err)
				}
			}
		}
		if m.Stable < 0 || m.Period.Duration < 0 || m.Period.Duration > 100*time.Millisecond {
			bad("keys.matrix.period %q or stable %d is out of range: use a period up to 100ms, e.g. \"5ms\", and stable 1 or more", m.Period, m.Stable)
		}
	}
	if on("evdev") && len(k.Evdev) == 0 {
		bad("keys.sources has evdev but there is no [[keys.evdev]]: add one per USB keypad or scanner")
	}
	for i, e := range k.Evdev {
		where := fmt.Sprintf("keys.evdev[%d]", i+1)
		if e.Path == "" && e.Name == "" {
			bad("%s: set path (a /dev/input/by-id/… link) or name (cat /sys/class/input/event*/device/name)", where)
		}
		if e.Role != evdev.RoleKeypad && e.Role != evdev.RoleScanner {
			bad("%s.role %q: use \"keypad\" or \"scanner\"", where, e.Role)
		}
		if e.Layout != "" {
			if err := evdev.CheckLayout(e.Layout); err != nil {
				bad("%s.layout: %v", where, err)
			}
		}
		if _, err := device.ParseKeyMap(where, e.Map); err != nil {
			bad("%v", err)
		}
		for code := range e.Map {
			if _, err := evdev.Code(code); err != nil {
				bad("%s.map: %v", where, err)
			}
		}
		if e.ScanGap.Duration < 0 || e.ScanGap.Duration > 5*time.Second {
			bad("%s.scan_gap %q is out of range: use up to 5s, e.g. \"300ms\"", where, e.ScanGap)
		}
	}
	seen := map[string]bool{}
	for i, c := range k.Cashiers {
		where := fmt.Sprintf("keys.cashiers[%d]", i+1)
		if !cashierID.MatchString(c.ID) {
			bad("%s.id %q: use 1 to 8 digits, what the cashier keys to log in", where, c.ID)
		} else if seen[c.ID] {
			bad("%s.id %q is used twice: give each cashier their own", where, c.ID)
		}
		seen[c.ID] = true
		if err := pin.Parse(c.PINHash); err != nil {
			bad("%s (id %s): %v", where, c.ID, err)
		}
	}
}
