package receipt

import "fmt"

// words are a receipt's labels in one language. Norwegian is the default:
// the words "Salgskvittering", "Returkvittering" and "Kopi" are the ones
// kassasystemforskriften §§ 2-8-1, 2-8-2 and 2-8-6 prescribe.
// Bokføringsloven § 12 allows sales documents in Norwegian, Swedish, Danish
// or English; Finnish is for registers in Finland.
type words struct {
	sale, refund, copy             string
	org, number, date, register    string
	goods, total, vat, vatTotal    string
	paid, refunded                 string
	reference, origin, originStore string
	cashier                        string
	timeFormat                     string
}

var languages = map[string]words{
	"nb": {sale: "Salgskvittering", refund: "Returkvittering", copy: "Kopi",
		org: "Org.nr.", number: "Kvitteringsnr.", date: "Dato", register: "Butikk / kasse",
		goods: "Salg", total: "Totalt", vat: "MVA %s av %s", vatTotal: "Sum MVA",
		paid: "Betalt med", refunded: "Tilbakebetalt til",
		reference: "Vipps-referanse", origin: "Gjelder salg", originStore: "Salgsbutikk",
		cashier: "Kasserer", timeFormat: "02.01.2006 15:04"},
	"da": {sale: "Salgskvittering", refund: "Returkvittering", copy: "Kopi",
		org: "Org.nr.", number: "Kvitteringsnr.", date: "Dato", register: "Butik / kasse",
		goods: "Salg", total: "I alt", vat: "Moms %s af %s", vatTotal: "Moms i alt",
		paid: "Betalt med", refunded: "Tilbagebetalt til",
		reference: "Vipps-reference", origin: "Vedrører salg", originStore: "Salgsbutik",
		cashier: "Ekspedient", timeFormat: "02.01.2006 15:04"},
	"fi": {sale: "Myyntikuitti", refund: "Palautuskuitti", copy: "Kopio",
		org: "Org.nr.", number: "Kuitin nro", date: "Päivämäärä", register: "Myymälä / kassa",
		goods: "Myynti", total: "Yhteensä", vat: "ALV %s / %s", vatTotal: "ALV yhteensä",
		paid: "Maksutapa", refunded: "Palautettu",
		reference: "Vipps-viite", origin: "Koskee myyntiä", originStore: "Myyntimyymälä",
		cashier: "Myyjä", timeFormat: "02.01.2006 15.04"},
	"en": {sale: "Sales receipt", refund: "Return receipt", copy: "Copy",
		org: "Org. no.", number: "Receipt no.", date: "Date", register: "Store / till",
		goods: "Sale", total: "Total", vat: "VAT %s of %s", vatTotal: "VAT total",
		paid: "Paid with", refunded: "Refunded to",
		reference: "Vipps reference", origin: "Original sale", originStore: "Sold at store",
		cashier: "Cashier", timeFormat: "02 Jan 2006 15:04"},
}

// Languages are the receipt languages Options.Language takes.
var Languages = []string{"nb", "da", "fi", "en"}

func wordsFor(lang string) (words, error) {
	if lang == "" {
		lang = "nb"
	}
	w, ok := languages[lang]
	if !ok {
		return words{}, fmt.Errorf("%w: language %q is not known: set printer.language to nb, da, fi or en", ErrInvalid, lang)
	}
	return w, nil
}
