// Package saft writes the electronic journal as a SAF-T Cash Register file
// (kassasystemforskriften § 2-7-1 (1): the system must produce the journal
// in the Tax Administration's standard format, "Norwegian SAF-T Cash
// Register data", XSD v1.00, namespace urn:StandardAuditFile-Taxation-
// CashRegister:NO) and reads one back to verify its signatures.
//
// The file streams: Write walks the journal twice (a first pass for the
// master data the schema puts before the transactions — employees, VAT
// codes, the codes used — and for the copies of each receipt, whose 13014
// events come after their transaction), then writes events and cash
// transactions one at a time. Memory is O(cashiers + codes + copies), not
// O(entries).
package saft

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kasse/store"
)

// Namespace is the schema's target namespace.
const Namespace = "urn:StandardAuditFile-Taxation-CashRegister:NO"

// Company is what the file says about the seller and its register: the
// header facts the journal does not hold (kassed's config).
type Company struct {
	OrgNumber string   // 9 digits, spaces allowed
	Name      string   // companyName and the location's name
	Lines     []string // the receipt's address lines; street and postal code are read from them
	// Store and Lane name the register: only its entries are exported,
	// registerID "STORE-LANE".
	Store, Lane string
	Currency    string // curCode, default NOK
	// ArticleGroup is the predefined article group (code list
	// PredefinedBasicID-04) of everything sold; default 04003 "Sale of
	// goods". ArticleDesc describes the one article, e.g. the payment
	// description; default "Sale".
	ArticleGroup, ArticleDesc string
	SoftwareVersion           string // default "devel"
	SoftwareCompany           string // softwareCompanyName, default "kasse"
}

// RegisterID is the file's registerID of c's register.
func (c Company) RegisterID() string { return c.Store + "-" + c.Lane }

// OrgDigits is the organisation number without spaces.
func (c Company) OrgDigits() string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, c.OrgNumber)
}

// FileName is the name the Tax Administration's documentation gives an
// export ("Naming of the SAF-T data file"): "SAF-T Cash Register", the
// organisation number, the creation time (yyyymmddhhmmss) and part n of m.
func FileName(orgNumber string, created time.Time, n, m int) string {
	return fmt.Sprintf("SAF-T Cash Register_%s_%s_%d_%d.xml", Company{OrgNumber: orgNumber}.OrgDigits(),
		created.Format("20060102150405"), n, m)
}

// Walk calls fn for every journal entry in Seq order (store.DB.Entries).
type Walk func(fn func(store.Entry) error) error

// Options select what Write exports.
type Options struct {
	// From and To are local dates (YYYY-MM-DD), inclusive: an entry is in
	// when its date, in its own time zone, is in [From, To].
	From, To string
	// Created is the file's creation time (dateCreated, timeCreated).
	Created time.Time
}

// ErrRange is wrapped when From or To is not a date or To is before From.
var ErrRange = errors.New("saft: date range")

// CheckRange checks the dates.
func CheckRange(from, to string) error {
	f, err1 := time.Parse(time.DateOnly, from)
	t, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("%w: give dates like 2026-01-31 (from %q, to %q)", ErrRange, from, to)
	}
	if t.Before(f) {
		return fmt.Errorf("%w: %s is before %s", ErrRange, to, from)
	}
	return nil
}

// Codes' descriptions (the code lists' CodeDescriptionENG).
var descriptions = map[int]string{
	11001: "Cash sale", 11006: "Return payment",
	12001: "Cash", 12002: "Debit card", 12003: "Credit card", 12011: "Mobile phone apps", 12999: "Other",
	13001: "POS application start", 13002: "POS application shut down", 13003: "Employee log in",
	13004: "Employee log out", 13005: "Open cash drawer", 13006: "Close cash drawer",
	13007: "Update of POS application", 13008: "X report", 13009: "Z report", 13010: "Suspend transaction",
	13011: "Resume transaction", 13012: "Sales receipt printed", 13013: "Return receipt", 13014: "Copy receipt",
	13015: "Provisional receipt", 13016: "Delivery receipt", 13017: "Training receipt",
	13018: "Other reports or receipts", 13019: "Cash withdrawal",
	13020: "Export of journal to external storage (cash register)", 13021: "Price change",
	13022: "Price look-up", 13023: "Training mode on", 13024: "Training mode off",
	13025: "Memory full (cash register)", 13026: "Emergency mode on", 13027: "Emergency mode off",
	13028: "Void receipt", 13029: "STEB receipt", 13030: "Concluded sale without receipt printed", 13999: "Other",
}

var articleGroups = map[string]string{
	"04001": "Withdrawal of treatment services", "04002": "Withdrawal of goods used for treatment services",
	"04003": "Sale of goods", "04004": "Sale of treatment services", "04005": "Sale of haircut", "04006": "Food",
	"04007": "Beer", "04008": "Wine", "04009": "Liquor", "04010": "Alcopops/Cider",
	"04011": "Soft drinks/Mineral water", "04012": "Other drinks (tea, coffe etc)", "04013": "Tobacco",
	"04014": "Other goods", "04015": "Entrance fee (cover charge)", "04016": "Free entrance (members etc)",
	"04017": "Cloakroom fee", "04018": "Free cloakroom", "04019": "Accomodation - full board",
	"04020": "Accomodation - half board", "04021": "Accomodation - with breakfast", "04999": "Other",
}

// standardVAT is the Norwegian standard VAT code (SAF-T Financial's
// "Standard Tax Codes", which the Cash Register schema's standardVatCode
// refers to) of an output VAT rate in basis points: 3 for 25 %, 31 for
// 15 % (food), 33 for 12 %; 0 % is 6, sales outside the VAT act (a
// register with no VAT line sells outside it, or is not registered).
var standardVAT = map[int]string{2500: "3", 1500: "31", 1200: "33", 0: "6"}

// lineSale and lineReturn are our line types (basicType 05, which has no
// predefined codes), as the provider's example names them.
const (
	lineSale   = "SAL"
	lineReturn = "RET"
	articleID  = "1"
)

// survey is the first pass: what the master data lists and each receipt's
// copies.
type survey struct {
	last      uint64 // the journal's last Seq when surveyed: the second pass stops there
	cashiers  map[string]time.Time
	rates     map[int]time.Time
	codes     map[int]bool
	payments  map[int]bool
	copies    map[uint64]int  // transaction Seq → copies printed (13014)
	unprinted map[uint64]bool // transactions whose receipt is not (yet) printed (13030 with no 13012/13013 after)
	sales     bool
	returns   bool
	first     time.Time
}

func (o Options) in(c Company, e store.Entry) bool {
	if e.Store != c.Store || e.Lane != c.Lane {
		return false
	}
	d := e.Time.Format(time.DateOnly)
	return d >= o.From && d <= o.To
}

func (c Company) withDefaults() Company {
	if c.Currency == "" {
		c.Currency = "NOK"
	}
	if c.ArticleGroup == "" {
		c.ArticleGroup = "04003"
	}
	if c.ArticleDesc == "" {
		c.ArticleDesc = "Sale"
	}
	if c.SoftwareVersion == "" {
		c.SoftwareVersion = "devel"
	}
	if c.SoftwareCompany == "" {
		c.SoftwareCompany = "kasse"
	}
	return c
}

// Write writes the SAF-T Cash Register file of c's register for the dates
// in o to w, reading the journal with walk (called twice, see the package
// comment), and returns how many events and cash transactions it holds.
func Write(w io.Writer, c Company, o Options, walk Walk) (rows int, err error) {
	c = c.withDefaults()
	if err := CheckRange(o.From, o.To); err != nil {
		return 0, err
	}
	if c.Store == "" || c.Lane == "" || len(c.OrgDigits()) != 9 || c.Name == "" {
		return 0, fmt.Errorf("saft: the register needs store, lane, name and a 9-digit organisation number (have %q, %q, %q, %q)",
			c.Store, c.Lane, c.Name, c.OrgNumber)
	}
	if _, ok := articleGroups[c.ArticleGroup]; !ok {
		return 0, fmt.Errorf("saft: article group %q is not in the code list PredefinedBasicID-04 (04001–04021, 04999)", c.ArticleGroup)
	}
	s := survey{cashiers: map[string]time.Time{}, rates: map[int]time.Time{}, codes: map[int]bool{},
		payments: map[int]bool{}, copies: map[uint64]int{}, unprinted: map[uint64]bool{}}
	if err := walk(func(e store.Entry) error {
		s.last = e.Seq
		switch e.Code {
		case store.EventCopyReceipt:
			if e.Trans != 0 {
				s.copies[e.Trans]++
			}
		case store.EventUnprinted:
			if e.Trans != 0 {
				s.unprinted[e.Trans] = true
			}
		case store.EventSalesReceipt, store.EventReturnReceipt:
			delete(s.unprinted, e.Trans)
		}
		if !o.in(c, e) {
			return nil
		}
		if s.first.IsZero() {
			s.first = e.Time
		}
		ids := []string{e.Cashier}
		if r, ok := journaledReport(e); ok {
			// The report's cashiers are employees of the file, whether or
			// not the range holds their sales (its period may begin before).
			for _, cs := range cashiersWithID(r.Cashiers) {
				ids = append(ids, cs.ID)
			}
		}
		for _, id := range ids {
			if _, ok := s.cashiers[id]; !ok && id != "" {
				s.cashiers[id] = e.Time
			}
		}
		s.codes[e.Code] = true
		if e.IsTransaction() {
			if _, ok := standardVAT[e.TaxRate]; !ok {
				return fmt.Errorf("saft: transaction %d (journal entry %d) has VAT rate %s %%, which has no standard VAT code here",
					e.Nr, e.Seq, percent(e.TaxRate))
			}
			if _, ok := s.rates[e.TaxRate]; !ok {
				s.rates[e.TaxRate] = e.Time
			}
			s.payments[e.Payment] = true
			if e.Amount < 0 {
				s.returns = true
			} else {
				s.sales = true
			}
		}
		return nil
	}); err != nil {
		return 0, err
	}

	x := &writer{enc: xml.NewEncoder(w)}
	x.enc.Indent("", "\t")
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return 0, err
	}
	x.start("auditfile", xml.Attr{Name: xml.Name{Local: "xmlns"}, Value: Namespace})
	x.header(c, o)
	x.start("company")
	x.leaf("companyIdent", c.OrgDigits())
	x.leaf("companyName", clip(c.Name, 100))
	x.leaf("taxRegistrationCountry", "NO")
	x.leaf("taxRegIdent", c.OrgDigits()+"MVA")
	addr := parseAddress(c.Lines)
	x.address("streetAddress", addr)
	x.masterData(c, o, &s)
	x.start("location")
	x.leaf("name", clip(c.Name, 100))
	x.address("streetAddress", addr)
	x.start("cashregister")
	x.leaf("registerID", c.RegisterID())
	x.leaf("regDesc", "kasse register "+c.RegisterID()+" (Vipps MobilePay)")
	if x.err != nil {
		return 0, x.err
	}
	// The schema puts a register's events before its cash transactions:
	// two walks of the range, each in journal order.
	for _, transactions := range []bool{false, true} {
		err := walk(func(e store.Entry) error {
			if e.Seq > s.last {
				return errStop
			}
			if !o.in(c, e) || e.IsTransaction() != transactions {
				return nil
			}
			rows++
			if transactions {
				x.transaction(c, e, &s)
			} else {
				x.event(c, e)
			}
			return x.err
		})
		if err != nil && !errors.Is(err, errStop) {
			return rows, err
		}
	}
	x.end() // cashregister
	x.end() // location
	x.end() // company
	x.end() // auditfile
	if x.err == nil {
		x.err = x.enc.Flush()
	}
	if x.err == nil {
		_, x.err = io.WriteString(w, "\n")
	}
	return rows, x.err
}

var errStop = errors.New("saft: past the surveyed journal")

// writer writes elements token by token, keeping the first error.
type writer struct {
	enc   *xml.Encoder
	stack []string
	err   error
}

func (x *writer) token(t xml.Token) {
	if x.err == nil {
		x.err = x.enc.EncodeToken(t)
	}
}

func (x *writer) start(name string, attr ...xml.Attr) {
	x.token(xml.StartElement{Name: xml.Name{Local: name}, Attr: attr})
	x.stack = append(x.stack, name)
}

func (x *writer) end() {
	name := x.stack[len(x.stack)-1]
	x.stack = x.stack[:len(x.stack)-1]
	x.token(xml.EndElement{Name: xml.Name{Local: name}})
}

func (x *writer) leaf(name, value string) {
	x.start(name)
	x.token(xml.CharData(value))
	x.end()
}

func (x *writer) optional(name, value string) {
	if value != "" {
		x.leaf(name, value)
	}
}

func (x *writer) header(c Company, o Options) {
	x.start("header")
	fy := o.From[:4]
	if o.To[:4] != fy {
		fy += "-" + o.To[:4] // String9: "2025-2026"
	}
	x.leaf("fiscalYear", fy)
	x.leaf("startDate", o.From)
	x.leaf("endDate", o.To)
	x.leaf("curCode", c.Currency)
	x.leaf("dateCreated", o.Created.Format(time.DateOnly))
	x.leaf("timeCreated", o.Created.Format(time.TimeOnly))
	x.leaf("softwareDesc", "kasse")
	x.leaf("softwareVersion", clip(c.SoftwareVersion, 20))
	x.leaf("softwareCompanyName", clip(c.SoftwareCompany, 100))
	x.leaf("auditfileVersion", "1.0")
	x.leaf("headerComment", fmt.Sprintf("Selection criteria: register %s, %s to %s", c.RegisterID(), o.From, o.To))
	x.end()
}

func (x *writer) masterData(c Company, o Options, s *survey) {
	if len(s.rates) > 0 {
		x.start("vatCodeDetails")
		for _, rate := range sortedKeys(s.rates) {
			x.start("vatCodeDetail")
			x.leaf("vatCode", standardVAT[rate])
			x.leaf("dateOfEntry", s.rates[rate].Format(time.DateOnly))
			x.leaf("vatDesc", "VAT "+percent(rate)+" %")
			x.leaf("standardVatCode", standardVAT[rate])
			x.end()
		}
		x.end()
	}
	if len(s.cashiers) > 0 {
		// The journal knows a cashier by number only: the number is the
		// name (surName is mandatory).
		x.start("employees")
		ids := make([]string, 0, len(s.cashiers))
		for id := range s.cashiers {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			x.start("employee")
			x.leaf("empID", clip(id, 35))
			x.leaf("dateOfEntry", s.cashiers[id].Format(time.DateOnly))
			x.leaf("timeOfEntry", s.cashiers[id].Format(time.TimeOnly))
			x.leaf("surName", clip("Cashier "+id, 100))
			x.end()
		}
		x.end()
	}
	since := o.From
	if !s.first.IsZero() {
		since = s.first.Format(time.DateOnly)
	}
	x.start("articles")
	x.start("article")
	x.leaf("artID", articleID)
	x.leaf("dateOfEntry", since)
	x.leaf("artGroupID", c.ArticleGroup)
	x.leaf("artDesc", clip(c.ArticleDesc, 999))
	x.end()
	x.end()

	// Our basicIDs are the predefined codes themselves (05 has none).
	x.start("basics")
	basic := func(typ, id, predefined, desc string) {
		x.start("basic")
		x.leaf("basicType", typ)
		x.leaf("basicID", id)
		x.optional("predefinedBasicID", predefined)
		x.leaf("basicDesc", desc)
		x.end()
	}
	basic("04", c.ArticleGroup, c.ArticleGroup, articleGroups[c.ArticleGroup])
	if s.sales {
		basic("05", lineSale, "", "Sale line")
	}
	if s.returns {
		basic("05", lineReturn, "", "Return line")
	}
	for _, code := range sortedKeys(s.codes) {
		if code < 12000 {
			basic("11", strconv.Itoa(code), strconv.Itoa(code), describe(code))
		}
	}
	for _, code := range sortedKeys(s.payments) {
		basic("12", strconv.Itoa(code), strconv.Itoa(code), describe(code))
	}
	for _, code := range sortedKeys(s.codes) {
		if code >= 13000 {
			basic("13", strconv.Itoa(code), strconv.Itoa(code), describe(code))
		}
	}
	x.end()
}

func describe(code int) string {
	if d, ok := descriptions[code]; ok {
		return d
	}
	return "Code " + strconv.Itoa(code)
}

func (x *writer) event(c Company, e store.Entry) {
	x.start("event")
	x.leaf("eventID", strconv.FormatUint(e.Seq, 10))
	x.leaf("eventType", strconv.Itoa(e.Code))
	if e.Trans != 0 {
		x.leaf("transID", strconv.FormatUint(e.Trans, 10))
	}
	x.optional("empID", e.Cashier)
	x.leaf("eventDate", e.Time.Format(time.DateOnly))
	x.leaf("eventTime", e.Time.Format(time.TimeOnly))
	r, ok := journaledReport(e)
	x.optional("eventText", eventText(e, ok))
	if ok {
		x.eventReport(c, e, r)
	}
	x.end()
}

// maxText is eventText's length (String9999).
const maxText = 9999

// eventText is the event's text; for an X or Z report its number, and
// when its contents are not in an eventReport (reported: a body that does
// not read) the body as journaled.
func eventText(e store.Entry, reported bool) string {
	var parts []string
	switch e.Code {
	case store.EventXReport:
		parts = append(parts, "X report")
	case store.EventZReport:
		parts = append(parts, "Z report "+strconv.FormatUint(e.Z, 10))
	}
	if e.Text != "" {
		parts = append(parts, e.Text)
	}
	if e.Reference != "" {
		parts = append(parts, "reference "+e.Reference)
	}
	if len(e.Body) > 0 && !reported {
		body := strings.ToValidUTF8(string(e.Body), "\uFFFD")
		if utf8.RuneCountInString(strings.Join(append(parts, body), "; ")) <= maxText {
			parts = append(parts, body)
		} else {
			parts = append(parts, fmt.Sprintf("contents (%d bytes) in the journal, entry %d", len(e.Body), e.Seq))
		}
	}
	return clip(strings.Join(parts, "; "), maxText)
}

func (x *writer) transaction(c Company, e store.Entry, s *survey) {
	tp, line, qnt := "C", lineSale, "1"
	if e.Amount < 0 {
		// A return: negative amounts, as signed, debit (the provider's
		// example writes its RETURNSAL the same way).
		tp, line, qnt = "D", lineReturn, "-1"
	}
	in, ex := store.Decimal(e.Amount), store.Decimal(e.Net())
	date, clock := e.Time.Format(time.DateOnly), e.Time.Format(time.TimeOnly)
	nr := strconv.FormatUint(e.Nr, 10)
	x.start("cashtransaction")
	x.leaf("nr", nr)
	x.leaf("transID", strconv.FormatUint(e.Seq, 10))
	x.leaf("transType", strconv.Itoa(e.Code))
	x.leaf("transAmntIn", in)
	x.leaf("transAmntEx", ex)
	x.leaf("amntTp", tp)
	x.optional("empID", e.Cashier)
	x.leaf("transDate", date)
	x.leaf("transTime", clock)
	x.optional("refID", e.Reference)
	x.optional("desc", clip(e.Text, maxText))
	x.start("ctLine")
	x.leaf("nr", nr)
	x.leaf("lineID", "1")
	x.leaf("lineType", line)
	x.leaf("artGroupID", c.ArticleGroup)
	x.leaf("artID", articleID)
	x.leaf("qnt", qnt)
	x.leaf("lineAmntIn", in)
	x.leaf("lineAmntEx", ex)
	x.leaf("amntTp", tp)
	x.optional("empID", e.Cashier)
	x.leaf("lineDate", date)
	x.leaf("lineTime", clock)
	x.vat(e, tp)
	x.end()
	x.vat(e, tp)
	x.start("payment")
	x.leaf("paymentType", strconv.Itoa(e.Payment))
	x.leaf("paidAmnt", in)
	x.optional("empID", e.Cashier)
	x.leaf("curCode", cmpOr(e.Currency, c.Currency))
	x.optional("paymentRefID", e.Reference)
	x.end()
	x.leaf("signature", e.Signature)
	x.leaf("keyVersion", e.KeyVersion)
	printed := "1"
	if s.unprinted[e.Seq] {
		printed = "0"
	}
	x.leaf("receiptNum", printed)
	x.leaf("receiptCopyNum", strconv.Itoa(min(s.copies[e.Seq], 999)))
	x.leaf("voidTransaction", "false")
	x.leaf("trainingID", "false")
	x.end()
}

func (x *writer) vat(e store.Entry, tp string) {
	x.start("vat")
	x.leaf("vatCode", standardVAT[e.TaxRate])
	x.leaf("vatPerc", percent(e.TaxRate))
	x.leaf("vatAmnt", store.Decimal(e.VAT))
	x.leaf("vatAmntTp", tp)
	x.leaf("vatBasAmnt", store.Decimal(e.Net()))
	x.end()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// percent is basis points as "25.00".
func percent(bp int) string { return store.Decimal(int64(bp)) }

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

// clip cuts s to n characters (the schema's maxLength counts characters).
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// Address is a street address read from the receipt's lines.
type Address struct {
	Street, Number, PostalCode, City string
}

var (
	postalRe = regexp.MustCompile(`^(\d{4})\s+(\S.*)$`)
	streetRe = regexp.MustCompile(`^(\D.*?)\s+(\d+\s?[A-Za-z]?)$`)
)

// parseAddress finds "Street 1" and "0154 Oslo" among the lines and their
// comma-separated parts ("Jernbanetorget 1, 0154 Oslo"); lines like
// "Org.nr. ..." or a phone number match neither.
func parseAddress(lines []string) Address {
	var a Address
	for _, l := range lines {
		for _, p := range strings.Split(l, ",") {
			p = strings.TrimSpace(p)
			if m := postalRe.FindStringSubmatch(p); m != nil && a.PostalCode == "" {
				a.PostalCode, a.City = m[1], m[2]
			} else if m := streetRe.FindStringSubmatch(p); m != nil && a.Street == "" && !strings.Contains(strings.ToLower(p), "org") {
				a.Street, a.Number = m[1], strings.ReplaceAll(m[2], " ", "")
			}
		}
	}
	return a
}

func (x *writer) address(name string, a Address) {
	if a == (Address{}) {
		return
	}
	x.start(name)
	x.optional("streetname", clip(a.Street, 100))
	x.optional("number", clip(a.Number, 20))
	x.optional("city", clip(a.City, 50))
	x.optional("postalCode", a.PostalCode)
	x.leaf("country", "NO")
	x.end()
}
