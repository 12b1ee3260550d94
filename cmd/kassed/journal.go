package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"

	"kasse/cmd/internal/config"
	"kasse/journal"
	"kasse/store"
	"kasse/till"
)

// openSigner loads the key that signs the journal's cash transactions,
// held to the secrets file's rules: kassasystemforskriften § 2-7 (1) and the guidance ask
// for every sale to be signed, so kassed does not start without it.
func openSigner(path string) (*journal.Signer, error) {
	fi, err := os.Stat(path)
	if err == nil {
		err = config.CheckPrivate("signing key", path, fi, "kassed")
	}
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	return journal.LoadSigner(path)
}

// eventJournal records the till's and the supervisor's events in the
// electronic journal (§ 2-7 (1)): logins and logouts with their own codes,
// the rest (locks, refused PINs, approved refunds, clock jumps) as
// "other" with their kind as text.
type eventJournal struct {
	db          *store.DB
	store, lane string
}

func (j eventJournal) Record(ev till.Event) error {
	e := store.Entry{Time: ev.Time, Code: store.EventOther, Store: j.store, Lane: j.lane, Cashier: ev.Cashier,
		Text: strings.TrimSpace(ev.Kind + " " + ev.Detail)}
	switch ev.Kind {
	case till.EventLogin:
		e.Code, e.Text = store.EventLogin, ev.Detail
	case till.EventLogout:
		e.Code, e.Text = store.EventLogout, ev.Detail
	}
	_, err := j.db.Record(e)
	return err
}

// Settings keys of what the last start journaled.
const (
	settingVersion = "journal/version"
	settingConfig  = "journal/config"
)

// journalStart journals the start (13001), an update of kassed since the
// last start (13007) and a changed configuration (13999, naming the
// tables that changed): § 2-7 (1), all continuous use.
func journalStart(db *store.DB, cfg config.Config, version string) error {
	// Read first, then one commit: a start costs one fsync, not four.
	last, ok, err := db.Setting(settingVersion)
	if err != nil {
		return err
	}
	prev, hadConfig, err := db.Setting(settingConfig)
	if err != nil {
		return err
	}
	now, err := configTables(cfg)
	if err != nil {
		return err
	}
	event := func(code int, text string) store.Entry {
		return store.Entry{Code: code, Store: cfg.Store.Prefix, Lane: cfg.Store.Lane, Text: text}
	}
	es := []store.Entry{event(store.EventStart, "kassed "+version+" started")}
	if ok && last != version {
		es = append(es, event(store.EventUpdate, fmt.Sprintf("kassed updated from %s to %s", last, version)))
	}
	switch {
	case !hadConfig:
		es = append(es, event(store.EventOther, "configuration as of this start: "+tableNames(now, "")))
	case prev != now:
		es = append(es, event(store.EventOther, "configuration changed: "+tableNames(now, prev)))
	}
	_, err = db.RecordWith(map[string]string{settingVersion: version, settingConfig: now}, es...)
	return err
}

// configTables is cfg as JSON by top-level table. A PIN hash stands as a
// digest of it: a changed PIN changes [keys] (a change of who may sell
// or refund is journaled), and the database holds nothing to guess a PIN
// from (the digest covers the hash's random salt, which it does not keep).
func configTables(cfg config.Config) (string, error) {
	cashiers := slices.Clone(cfg.Keys.Cashiers)
	for i := range cashiers {
		if h := cashiers[i].PINHash; h != "" {
			sum := sha256.Sum256([]byte(h))
			cashiers[i].PINHash = "sha256:" + hex.EncodeToString(sum[:8])
		}
	}
	cfg.Keys.Cashiers = cashiers
	tables := map[string]any{}
	v := reflect.ValueOf(cfg)
	for i := range v.NumField() {
		f := v.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if f.IsExported() && name != "" && name != "-" {
			tables[name] = v.Field(i).Interface()
		}
	}
	b, err := json.Marshal(tables)
	return string(b), err
}

// tableNames lists the tables of now that differ from prev ("" names all).
func tableNames(now, prev string) string {
	var a, b map[string]json.RawMessage
	_ = json.Unmarshal([]byte(now), &a)
	_ = json.Unmarshal([]byte(prev), &b)
	var names []string
	for name, v := range a {
		if prev == "" || string(b[name]) != string(v) {
			names = append(names, "["+name+"]")
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			names = append(names, "["+name+"]")
		}
	}
	slices.Sort(names)
	return strings.Join(names, " ")
}
