package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// minimal holds only the keys without defaults.
const minimal = `
data_dir = "/var/lib/kasse"
[vipps]
base_url = "https://apitest.vipps.no"
msn = "123456"
secrets_file = "/etc/kasse/secrets.toml"
[store]
prefix = "OSLO1"
lane = "2"
org_number = "987654325"
name = "Butikken"
`

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kassed.toml")
	if err := os.WriteFile(path, []byte(text), 0o640); err != nil {
		t.Fatal(err)
	}
	return path
}

// PIN hashes are short PINs guessed offline by whoever reads them: a
// config holding them must not be readable by others.
func TestPINHashesNeedAPrivateConfig(t *testing.T) {
	text, err := os.ReadFile("example.toml")
	if err != nil {
		t.Fatal(err)
	}
	path := writeConfig(t, string(text))
	os.Chmod(path, 0o644)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "chmod 640") {
		t.Fatalf("a world-readable config with PIN hashes: %v", err)
	}
	c, err := Load(writeConfig(t, minimal))
	os.Chmod(path, 0o644)
	if err != nil || len(c.Keys.Cashiers) != 0 {
		t.Fatalf("minimal: %v", err)
	}
}

func TestExampleLoads(t *testing.T) {
	// A copy: the checkout's mode follows the umask (0664 under 0002), and
	// Load refuses a config that others may write.
	text, err := os.ReadFile("example.toml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(writeConfig(t, string(text)))
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/var/lib/kasse" || c.Vipps.MSN != "123456" || c.Vipps.PaymentDescription != "Kjøp i butikk" ||
		c.Store.Prefix != "OSLO1" || c.Store.TaxRate != 2500 || len(c.Store.Lines) != 1 || c.Store.OrgNumber != "987 654 325" ||
		c.Vipps.PollInterval.Duration != time.Second || c.Vipps.Timeout.Duration != 10*time.Second {
		t.Errorf("example.toml loaded as %+v", c)
	}
}

// TestExampleDocumentsEveryKey keeps example.toml complete as keys are added.
func TestExampleDocumentsEveryKey(t *testing.T) {
	var c Config
	md, err := toml.DecodeFile("example.toml", &c)
	if err != nil {
		t.Fatal(err)
	}
	var walk func(typ reflect.Type, prefix []string)
	walk = func(typ reflect.Type, prefix []string) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if tag == "" || f.Tag.Get("deprecated") != "" {
				continue
			}
			key := append(append([]string(nil), prefix...), tag)
			if strings.Join(key, ".") == "keys.source" {
				continue // the old one-source form of keys.sources
			}
			if !md.IsDefined(key...) {
				t.Errorf("example.toml does not show %s", strings.Join(key, "."))
			}
			if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(Duration{}) {
				walk(f.Type, key)
			}
		}
	}
	walk(reflect.TypeOf(Config{}), nil)
}

func TestDefaultsAndRelativePaths(t *testing.T) {
	text := strings.Replace(minimal, `"/var/lib/kasse"`, `"data"`, 1)
	text = strings.Replace(text, `"/etc/kasse/secrets.toml"`, `"../etc/secrets.toml"`, 1)
	path := writeConfig(t, text)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(path)
	if want := filepath.Join(dir, "data"); c.DataDir != want {
		t.Errorf("data_dir = %q, want %q", c.DataDir, want)
	}
	if want := filepath.Join(filepath.Dir(dir), "etc", "secrets.toml"); c.Vipps.SecretsFile != want {
		t.Errorf("secrets_file = %q, want %q", c.Vipps.SecretsFile, want)
	}
	want := defaults()
	if c.Vipps.Currency != want.Vipps.Currency || c.Vipps.PaymentDescription != "Purchase" ||
		c.Vipps.PollInterval != want.Vipps.PollInterval || c.Vipps.Timeout != want.Vipps.Timeout ||
		c.Display != want.Display || c.Printer != want.Printer || c.Keys.LockAfter != want.Keys.LockAfter ||
		!slices.Equal(c.Keys.Sources, []string{"socket"}) {
		t.Errorf("defaults not applied: %+v", c)
	}
}

// The printer keys an older kassed refused (paper_check) and the new ones
// load as written.
func TestPrinterKeys(t *testing.T) {
	path := writeConfig(t, minimal+"[printer]\nport = \"/dev/ttyUSB0\"\nparity = \"even\"\nflow = \"rtscts\"\n"+
		"status = \"optional\"\nstatus_timeout = \"200ms\"\nasb = false\npaper_check = false\n")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Printer
	if p.Parity != "even" || p.Flow != "rtscts" || p.Status != "optional" || p.StatusTimeout.Duration != 200*time.Millisecond ||
		p.ASB || p.PaperCheck || p.Baud != 19200 {
		t.Errorf("printer = %+v", p)
	}
}

func TestMissingMSN(t *testing.T) {
	path := writeConfig(t, strings.Replace(minimal, `msn = "123456"`, "", 1))
	_, err := Load(path)
	want := "config " + path + ": vipps.msn is missing: set it to the merchant serial number (4–6 digits) from the Vipps MobilePay portal"
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
}

func TestInvalidValuesNameTheKey(t *testing.T) {
	for _, c := range []struct{ old, new, key string }{
		{`data_dir = "/var/lib/kasse"`, ``, "data_dir is missing"},
		{`base_url = "https://apitest.vipps.no"`, `base_url = "apitest.vipps.no"`, "vipps.base_url"},
		{`base_url = "https://apitest.vipps.no"`, `base_url = "ftp://apitest.vipps.no"`, "vipps.base_url"},
		{`msn = "123456"`, `msn = "12a456"`, "vipps.msn"},
		{`msn = "123456"`, `msn = "1234567"`, "vipps.msn"},
		{`msn = "123456"`, "msn = \"123456\"\ncurrency = \"SEK\"", "vipps.currency"},
		{`secrets_file = "/etc/kasse/secrets.toml"`, ``, "vipps.secrets_file is missing"},
		{`msn = "123456"`, "msn = \"123456\"\npayment_description = \"ab\"", "vipps.payment_description"},
		{`msn = "123456"`, "msn = \"123456\"\npayment_description = \"" + strings.Repeat("ø", 101) + "\"", "vipps.payment_description"},
		{`msn = "123456"`, "msn = \"123456\"\npoll_interval = \"499ms\"", "vipps.poll_interval"},
		{`msn = "123456"`, "msn = \"123456\"\npoll_interval = \"-1s\"", "vipps.poll_interval"},
		{`msn = "123456"`, "msn = \"123456\"\ntimeout = \"0s\"", "vipps.timeout"},
		{`prefix = "OSLO1"`, `prefix = "1OSLO"`, "store.prefix"},
		{`prefix = "OSLO1"`, ``, "store.prefix is missing"},
		{`lane = "2"`, `lane = "2-1"`, "store.lane"},
		{`name = "Butikken"`, `name = " "`, "store.name"},
		{`name = "Butikken"`, "name = \"B\"\ntax_rate = 10001", "store.tax_rate"},
		{`name = "Butikken"`, "name = \"B\"\n[display]\nkind = \"st7735\"", "display.kind"},
		{`name = "Butikken"`, "name = \"B\"\n[display]\ndriver = \"st7789\"\ndc = \"GPIO25\"", "display.spi is missing"},
		{`org_number = "987654325"`, ``, "store.org_number is missing"},
		{`org_number = "987654325"`, `org_number = "987654321"`, "store.org_number"},
		{`org_number = "987654325"`, `org_number = "98765432"`, "store.org_number"},
		{`name = "Butikken"`, "name = \"B\"\n[printer]\nlanguage = \"sv\"", "printer.language"},
		{`name = "Butikken"`, "name = \"B\"\n[display]\nwidth = 63", "display.width"},
		{`name = "Butikken"`, "name = \"B\"\n[display]\nheight = 1025", "display.height"},
		{`name = "Butikken"`, "name = \"B\"\n[printer]\nbaud = 19201", "printer.baud"},
		{`name = "Butikken"`, "name = \"B\"\n[printer]\ncolumns = 23", "printer.columns"},
		{`name = "Butikken"`, "name = \"B\"\n[keys]\nsource = \"bluetooth\"", "keys.sources"},
		{`name = "Butikken"`, "name = \"B\"\n[keys]\nsources = [\"gpio\"]", "keys.gpio.map is empty"},
		{`name = "Butikken"`, "name = \"B\"\n[keys]\nsources = [\"gpio\"]\n[keys.gpio]\nmap = {GPIO17 = \"paz\"}", "keys.gpio key map: unknown function in GPIO17"},
		{`name = "Butikken"`, "name = \"B\"\n[keys]\nsources = [\"gpio\"]\n[keys.gpio]\npull = \"sideways\"\nmap = {GPIO17 = \"pay\"}", "keys.gpio.pull"},
		{`name = "Butikken"`, "name = \"B\"\n[keys]\nsources = [\"matrix\"]\n[keys.matrix]\nrows = [\"GPIO5\"]\ncols = [\"GPIO6\"]\nlayout = [[\"1\", \"2\"]]", "keys.matrix.layout row 1 has 2 keys"},
		{`name = "Butikken"`, "name = \"B\"\n[keys]\nsources = [\"evdev\"]", "no [[keys.evdev]]"},
		{`name = "Butikken"`, "name = \"B\"\n[[keys.evdev]]\npath = \"/dev/input/event0\"\nrole = \"scanner\"\nlayout = \"fr\"", "keys.evdev[1].layout"},
		{`name = "Butikken"`, "name = \"B\"\n[[keys.evdev]]\nname = \"Scanner\"\nrole = \"keypad\"\nmap = {KEY_NOPE = \"pay\"}", "keys.evdev[1].map: unknown key code"},
		{`name = "Butikken"`, "name = \"B\"\n[[keys.evdev]]\nrole = \"keypad\"", "keys.evdev[1]: set path"},
		{`name = "Butikken"`, "name = \"B\"\n[keys]\nlock_after = \"-1m\"", "keys.lock_after"},
		{`name = "Butikken"`, "name = \"B\"\n[printer]\nparity = \"mark\"", "printer.parity"},
		{`name = "Butikken"`, "name = \"B\"\n[printer]\nflow = \"dtrdsr\"", "printer.flow"},
		{`name = "Butikken"`, "name = \"B\"\n[printer]\nstatus = \"maybe\"", "printer.status"},
		{`name = "Butikken"`, "name = \"B\"\n[printer]\nstatus_timeout = \"10s\"", "printer.status_timeout"},
	} {
		path := writeConfig(t, strings.Replace(minimal, c.old, c.new, 1))
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), c.key) || !strings.Contains(err.Error(), "config "+path+": ") {
			t.Errorf("%q → %q: error %v, want one naming %s and the file", c.old, c.new, err, c.key)
		}
		if err != nil && strings.Count(err.Error(), "\n") != 0 {
			t.Errorf("%q → %q: expected one problem, got %v", c.old, c.new, err)
		}
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	err := Config{}.Validate()
	if err == nil {
		t.Fatal("an empty Config validated")
	}
	for _, key := range []string{"data_dir", "vipps.base_url", "vipps.msn", "vipps.currency", "vipps.secrets_file",
		"vipps.payment_description", "vipps.poll_interval", "vipps.timeout", "store.prefix", "store.lane", "store.name",
		"display.kind", "store.org_number", "printer.baud", "printer.columns", "printer.language", "printer.parity",
		"printer.flow", "printer.status", "printer.status_timeout"} {
		if !strings.Contains(err.Error(), "config: "+key) {
			t.Errorf("Validate of an empty Config does not mention %s:\n%v", key, err)
		}
	}
}

func TestMalformedTOMLShowsLine(t *testing.T) {
	path := writeConfig(t, minimal+"[printer\nbaud = 9600\n")
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "line 13") {
		t.Fatalf("malformed TOML: %v, want the file and line 13", err)
	}
}

func TestUnknownKey(t *testing.T) {
	path := writeConfig(t, minimal+"[printer]\ncolumn = 42\n")
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), `"printer.column"`) || !strings.Contains(err.Error(), path) {
		t.Fatalf("unknown key: %v, want one naming printer.column and the file", err)
	}
}

func TestBadDurations(t *testing.T) {
	for _, v := range []string{`"1 second"`, `"1"`, `5`, `"fast"`} {
		path := writeConfig(t, strings.Replace(minimal, `msn = "123456"`, "msn = \"123456\"\npoll_interval = "+v, 1))
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), "vipps.poll_interval") || !strings.Contains(err.Error(), "not a duration") {
			t.Errorf("poll_interval = %s: %v", v, err)
		}
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if err == nil || !strings.Contains(err.Error(), "nope.toml") {
		t.Fatalf("missing file: %v", err)
	}
}

// A value of the wrong type names the file, the line and the key.
func TestWrongTypeNamesFileLineAndKey(t *testing.T) {
	path := writeConfig(t, strings.Replace(minimal, `msn = "123456"`, `msn = 123456`, 1))
	_, err := Load(path)
	for _, want := range []string{path, "line 5", `"vipps.msn"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("msn = 123456: %v, want an error with %s", err, want)
		}
	}
}

func TestEmptyConfig(t *testing.T) {
	path := writeConfig(t, "\n")
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path+": the file is empty") {
		t.Fatalf("empty config: %v", err)
	}
}

// [remote]: the capture rule and a hold within the shortest capture
// deadline; a wrong one says what to write.
func TestRemoteRule(t *testing.T) {
	c, err := Load(writeConfig(t, minimal+"[remote]\ncapture = \"now\"\nhold = \"48h\"\n"))
	if err != nil || c.Remote.Capture != "now" || c.Remote.Hold.Duration != 48*time.Hour {
		t.Fatalf("%+v, %v", c.Remote, err)
	}
	for text, want := range map[string]string{
		"[remote]\ncapture = \"later\"\n": "remote.capture",
		"[remote]\nhold = \"400h\"\n":     "remote.hold",
	} {
		if _, err := Load(writeConfig(t, minimal+text)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %s", text, err, want)
		}
	}
}
