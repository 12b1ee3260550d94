package config_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"kasse/cmd/internal/config"
	"kasse/money"
	"kasse/printer/receipt"
	"kasse/store"
)

// fixWords is the advice every config error ends with: a verb, or what
// the key needs and an example.
var fixWords = regexp.MustCompile(`: (set|use|fix|check|remove|pass|copy|add|give|map|list|make|put|create|write|run|point|keep)\b|: .* needs .*, e\.g\. `)

// FuzzLoad feeds config files. Property: a refused file gets one message
// per problem, each naming the file and saying what to do; an accepted
// config holds what kassed relies on (the documented patterns and ranges,
// absolute paths), validates again, and survives being written back as
// TOML and loaded.
func FuzzLoad(f *testing.F) {
	example, err := os.ReadFile("example.toml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(example))
	f.Add("data_dir = \"data\"\n[vipps]\nbase_url = \"http://127.0.0.1:8089\"\nmsn = \"123456\"\nsecrets_file = \"secrets.toml\"\nflow = \"ecom\"\n" +
		"callback_prefix = \"https://butikken.no/vipps\"\nfallback = \"https://butikken.no\"\n[store]\nprefix = \"DEMO1\"\nlane = \"1\"\nname = \"Demobutikken\"\norg_number = \"987 654 325\"\n" +
		"[chain]\nstores = [\"DEMO1\", \"BERG1\"]\n[chain.msn]\nBERG1 = \"654321\"\n")
	f.Add("data_dir = 7\n[vipps]\nmsn = 123456\nbase_url = \"ftp://x\"\npoll_interval = \"1\"\n[store]\nprefix = \"1OSLO\"\nlane = \"\"\n[printer]\nbaud = 9601\n[unknown]\nkey = 1\n")
	// One seed per refusal a fuzzer finds only by luck, so that plain
	// go test checks each message's advice.
	base := "[vipps]\nmsn = \"123456\"\n[store]\nprefix = \"DEMO1\"\nlane = \"1\"\n"
	for _, tail := range []string{
		"[keys]\nsources = [\"evdev\"]\n",
		"[keys]\nsources = [\"gpio\"]\n[keys.gpio]\npull = \"sideways\"\nmap = { GPIO17 = \"frobnicate\" }\n",
		"[keys]\nsources = [\"gpio\"]\n",
		"[keys]\nsources = [\"matrix\"]\n[keys.matrix]\nrows = [\"GPIO5\"]\ncols = [\"GPIO6\", \"GPIO13\"]\nlayout = [[\"1\"], [\"x\", \"2\"]]\n",
		"[keys]\nsources = [\"evdev\"]\n[[keys.evdev]]\nrole = \"mouse\"\nlayout = \"klingon\"\nmap = { KEY_NOPE = \"pay\" }\n",
		"[[keys.cashiers]]\nid = \"1\"\npin_hash = \"x\"\n[[keys.cashiers]]\nid = \"1\"\npin_hash = \"y\"\n",
		"[refund]\nvia = \"central\"\n",
		"[display]\nkind = \"st7789\"\nwidth = 300\nheight = 300\n",
		"[display]\nkind = \"ili9341\"\nwidth = 240\nheight = 240\n",
		"[display]\nkind = \"epd2in13\"\nwidth = 128\nheight = 64\n",
		"[display]\nkind = \"ssd1306\"\nrotation = 90\n",
		"[chain]\nstores = [\"1X\"]\n[chain.msn]\n1X = \"12\"\n",
	} {
		f.Add(base + tail)
	}
	f.Add("[vipps\nmsn = \"12\"")
	f.Add("")
	f.Add(" \n\t\n")
	// One file rewritten for every input: a directory per input costs
	// milliseconds of file system work.
	path := filepath.Join(f.TempDir(), "kassed.toml")
	f.Fuzz(func(t *testing.T, text string) {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := config.Load(path)
		if err != nil {
			checkAdvice(t, path, err)
			return
		}
		checkConfig(t, c)
		if err := c.Validate(); err != nil {
			t.Fatalf("a loaded config does not validate: %v", err)
		}
		var buf bytes.Buffer
		if err := toml.NewEncoder(&buf).Encode(c); err != nil {
			t.Fatalf("an accepted config cannot be written back: %v", err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		again, err := config.Load(path)
		if err != nil {
			t.Fatalf("the config written back is refused: %v\n%s", err, buf.Bytes())
		}
		if !reflect.DeepEqual(normal(again), normal(c)) {
			t.Fatalf("written back and loaded:\n%+v\nwas\n%+v", again, c)
		}
	})
}

// checkAdvice: every message names the file and ends in advice.
func checkAdvice(t *testing.T, path string, err error) {
	t.Helper()
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		msg := e.Error()
		if !strings.HasPrefix(msg, "config "+path+": ") || !fixWords.MatchString(msg) {
			t.Fatalf("config error %q does not name the file and say what to do", msg)
		}
	}
}

var msn = regexp.MustCompile(`^[0-9]{4,6}$`)

func checkConfig(t *testing.T, c config.Config) {
	t.Helper()
	v, s := c.Vipps, c.Store
	bad := func(what string, val any) { t.Fatalf("accepted %s %v", what, val) }
	if !filepath.IsAbs(c.DataDir) || !filepath.IsAbs(v.SecretsFile) {
		bad("paths", []string{c.DataDir, v.SecretsFile})
	}
	// A scheme is case-insensitive (RFC 3986): httP://x is http.
	if u, err := url.Parse(v.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("vipps.base_url", v.BaseURL)
	}
	if !msn.MatchString(v.MSN) {
		bad("vipps.msn", v.MSN)
	}
	if !money.ValidCurrency(v.Currency) {
		bad("vipps.currency", v.Currency)
	}
	if n := utf8.RuneCountInString(v.PaymentDescription); n < 3 || n > 100 {
		bad("vipps.payment_description", v.PaymentDescription)
	}
	if v.PollInterval.Duration < time.Second || v.Timeout.Duration < time.Second || v.Timeout.Duration > 2*time.Minute {
		bad("durations", []time.Duration{v.PollInterval.Duration, v.Timeout.Duration})
	}
	switch v.Flow {
	case "qr", "qr-image", "push":
	case "ecom", "ecom-image":
		cb, err1 := url.Parse(v.CallbackPrefix)
		fb, err2 := url.Parse(v.FallBack)
		if err1 != nil || err2 != nil || cb.Scheme != "https" || fb.Scheme != "https" || cb.Host == "" || fb.Host == "" {
			bad("eCom URLs", []string{v.CallbackPrefix, v.FallBack})
		}
	default:
		bad("vipps.flow", v.Flow)
	}
	if store.CheckPrefix(s.Prefix) != nil || store.CheckLane(s.Lane) != nil || strings.TrimSpace(s.Name) == "" || s.TaxRate < 0 || s.TaxRate > 10000 ||
		receipt.CheckOrgNumber(s.OrgNumber) != nil {
		bad("store", s)
	}
	// The reference the till builds from them fits Vipps' pattern.
	if ref := (store.Reference{Prefix: s.Prefix, Lane: s.Lane, Tag: "k7f3", N: 1<<64 - 1}).String(); len(ref) > 50 {
		bad("a prefix and lane making a reference this long:", ref)
	}
	for _, p := range c.Chain.Stores {
		if store.CheckPrefix(p) != nil {
			bad("chain.stores", p)
		}
	}
	for p, m := range c.Chain.MSN {
		if store.CheckPrefix(p) != nil || !msn.MatchString(m) {
			bad("chain.msn", p+" = "+m)
		}
	}
	d, pr := c.Display, c.Printer
	panel := d.Driver == "" && (d.Kind == "sim" && d.Width >= 64 && d.Width <= 1024 && d.Height >= 64 && d.Height <= 1024 ||
		d.Kind != "sim" && strings.Contains(d.SPI, "spi") != strings.HasPrefix(d.SPI, "SPI") && d.DC != "" && d.Width > 0 && d.Height > 0)
	if !panel || pr.Columns < 24 || pr.Columns > 64 || pr.Baud < 1200 || pr.Baud > 115200 || len(c.Keys.Sources) == 0 ||
		slices.ContainsFunc(c.Keys.Sources, func(s string) bool { return !slices.Contains([]string{"socket", "gpio", "matrix", "evdev"}, s) }) {
		bad("hardware", fmt.Sprintf("%+v %+v %+v", d, pr, c.Keys))
	}
}

// normal makes empty and missing lists and tables alike: TOML writes
// neither back the same way.
func normal(c config.Config) config.Config {
	if len(c.Store.Lines) == 0 {
		c.Store.Lines = nil
	}
	if len(c.Chain.Stores) == 0 {
		c.Chain.Stores = nil
	}
	if len(c.Chain.MSN) == 0 {
		c.Chain.MSN = nil
	}
	return c
}

// marker stands for a secret value: the fuzzer writes "$S" where it wants
// one, and no message may ever show it.
const marker = "Zq9-fuzz-s3cret-Xv7"

// FuzzLoadSecrets feeds secrets files. Property: no error, and no way of
// printing the loaded secrets (fmt verbs, JSON, slog), shows a secret
// value; an accepted file has all three keys, without spaces around them.
func FuzzLoadSecrets(f *testing.F) {
	f.Add("client_id = \"$S\"\nclient_secret = \"$S\"\nsubscription_key = \"$S\"\n")
	f.Add("client_id = \"0f5b6a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b\"\nclient_secret = \"$S\"\nsubscription_key = \"demo-subscription-key\"\n")
	f.Add("client_id = \"x\"\nclient_secret = $S\nsubscription_key = \"y\"\n")
	f.Add("client_id = \"x\"\nclient_secret = [\"$S\"]\nextra = \"$S\"\n")
	f.Add("client_secret = \"\"\"\n$S\n\"\"\"\n")
	f.Add("client_id = \"x\"\nclient_secret = \" $S\"\nsubscription_key = '$S\n")
	path := filepath.Join(f.TempDir(), "secrets.toml")
	f.Fuzz(func(t *testing.T, text string) {
		if strings.Contains(text, marker) {
			return // the fuzzer wrote the marker itself; "$S" is how it says it
		}
		text = strings.ReplaceAll(text, "$S", marker)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := config.LoadSecrets(path)
		if err != nil {
			if strings.Contains(err.Error(), marker) && !markerInKey(text) {
				t.Fatalf("the error shows a secret value: %v", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("the error %q does not name the file", err)
			}
			return
		}
		for k, v := range map[string]string{"client_id": s.ClientID, "client_secret": s.ClientSecret, "subscription_key": s.SubscriptionKey} {
			if v == "" || strings.TrimSpace(v) != v {
				t.Fatalf("accepted %s %q", k, v)
			}
		}
		// Printing must not depend on the values at all.
		if got, want := printAll(s), printAll(config.Secrets{ClientID: "x", ClientSecret: "x", SubscriptionKey: "x"}); got != want {
			t.Fatalf("printing the secrets depends on their values:\n%s\nwant\n%s", got, want)
		}
	})
}

// printAll prints s every way a log, status or crash message could.
func printAll(s config.Secrets) string {
	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s"} {
		fmt.Fprintf(&out, verb+"\n", s)
		fmt.Fprintf(&out, verb+"\n", &s)
	}
	j, _ := json.Marshal(map[string]any{"secrets": s, "ptr": &s})
	out.Write(j)
	noTime := &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	slog.New(slog.NewTextHandler(&out, noTime)).Info("loaded", "secrets", s)
	slog.New(slog.NewJSONHandler(&out, noTime)).Info("loaded", "secrets", &s)
	return out.String()
}

// markerInKey reports whether the marker is part of a key: an unknown key
// is named in its error, and a key is not a secret.
func markerInKey(text string) bool {
	var m map[string]any
	md, err := toml.Decode(text, &m)
	if err != nil {
		var pe toml.ParseError
		return !errors.As(err, &pe) // a type error after the keys were read
	}
	for _, k := range md.Keys() {
		if strings.Contains(k.String(), marker) {
			return true
		}
	}
	return false
}
