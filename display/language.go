package display

import (
	"regexp"
	"strings"
)

// Language is the language of the screens' words.
type Language string

// The languages the screens speak; Norwegian is the default.
const (
	Norwegian Language = "nb"
	Danish    Language = "da"
	Finnish   Language = "fi"
	English   Language = "en"
)

// Languages lists them all, in the order the README names them.
func Languages() []Language { return []Language{Norwegian, Danish, Finnish, English} }

// The no-QR panel's words.
const (
	phoneTitle   = "Pay with your phone number"
	phoneMessage = "Tell the cashier your phone number; the payment request comes to the Vipps MobilePay app."
)

// phrase is one text in the four languages. The English text is the key,
// as gettext does: the till writes English, and a text nobody translated
// still reads as something. %s stands for a value (an amount, a
// reference) carried over as it is.
type phrase struct{ en, nb, da, fi string }

// phrases returns the catalogue. It is a function, not a table in a
// variable, so no package-level state exists.
func phrases() []phrase {
	return []phrase{
		// The screens' own titles and hints.
		{"Welcome", "Velkommen", "Velkommen", "Tervetuloa"},
		{"Amount to pay", "Å betale", "At betale", "Maksettava"},
		{"Creating payment…", "Oppretter betalingen…", "Opretter betalingen…", "Luodaan maksua…"},
		{"Scan to pay", "Skann for å betale", "Scan for at betale", "Skannaa ja maksa"},
		{"Scan with Vipps MobilePay", "Skann med Vipps MobilePay", "Scan med Vipps MobilePay", "Skannaa Vipps MobilePaylla"},
		{"Waiting for network", "Venter på nettverket", "Venter på netværket", "Odotetaan verkkoyhteyttä"},
		{"Paid – thank you", "Betalt – takk!", "Betalt – tak!", "Maksettu – kiitos!"},
		{"Payment cancelled", "Betalingen er avbrutt", "Betalingen er annulleret", "Maksu peruttu"},
		{"Payment expired", "Betalingen er utløpt", "Betalingen er udløbet", "Maksu vanheni"},
		{"Payment not completed", "Betalingen ble ikke fullført", "Betalingen blev ikke gennemført", "Maksu ei onnistunut"},
		{"Something went wrong", "Noe gikk galt", "Noget gik galt", "Jokin meni vikaan"},
		{phoneTitle, "Betal med telefonnummeret ditt", "Betal med dit telefonnummer", "Maksa puhelinnumerollasi"},
		{phoneMessage, "Gi kassereren telefonnummeret ditt, så kommer betalingen i Vipps MobilePay-appen.",
			"Giv kassereren dit telefonnummer, så kommer betalingen i Vipps MobilePay-appen.",
			"Kerro puhelinnumerosi kassalle, niin maksupyyntö tulee Vipps MobilePay -sovellukseen."},

		// The till's titles.
		{"Check the amount", "Sjekk beløpet", "Tjek beløbet", "Tarkista summa"},
		{"Vipps is unreachable", "Vipps svarer ikke", "Vipps svarer ikke", "Vippsiin ei saada yhteyttä"},
		{"Preparing the QR code…", "Lager QR-koden…", "Laver QR-koden…", "Valmistellaan QR-koodia…"},
		{"Approve in the app", "Godkjenn i appen", "Godkend i appen", "Hyväksy sovelluksessa"},
		{"Cancelling…", "Avbryter…", "Annullerer…", "Perutaan…"},
		{"Updating – back soon", "Oppdaterer – straks tilbake", "Opdaterer – straks tilbage", "Päivitetään – palaamme pian"},
		{"Waiting for the clock", "Venter på klokka", "Venter på uret", "Odotetaan kelloa"},
		// X and Z reports: the report's name is the regulation's word
		// (kassasystemforskriften § 2-4), Norwegian in every language.
		{"X-rapport", "X-rapport", "X-rapport", "X-rapport"},
		{"Z-rapport", "Z-rapport", "Z-rapport", "Z-rapport"},
		{"The report is being made and printed.", "Rapporten lages og skrives ut.",
			"Rapporten laves og udskrives.", "Raporttia tehdään ja tulostetaan."},
		// Remote orders (distance selling): the cashier's side.
		{"Remote order: customer's phone", "Fjernsalg: kundens telefon", "Fjernsalg: kundens telefon", "Etätilaus: asiakkaan puhelin"},
		{"Waiting for the customer", "Venter på kunden", "Venter på kunden", "Odotetaan asiakasta"},
		{"The payment request is in the customer's app.", "Betalingsforespørselen er i kundens app.",
			"Betalingsanmodningen er i kundens app.", "Maksupyyntö on asiakkaan sovelluksessa."},
		{"The customer did not approve in time. Nothing was charged.",
			"Kunden godkjente ikke i tide. Ingenting ble trukket.",
			"Kunden godkendte ikke i tide. Der blev ikke trukket noget.",
			"Asiakas ei hyväksynyt ajoissa. Mitään ei veloitettu."},
		{"Order reserved", "Ordren er reservert", "Ordren er reserveret", "Tilaus varattu"},
		{"The money is reserved. It is taken when the order is sent.",
			"Beløpet er reservert. Det trekkes når ordren sendes.",
			"Beløbet er reserveret. Det trækkes, når ordren sendes.",
			"Summa on varattu. Se veloitetaan, kun tilaus lähetetään."},
		{"Order paid", "Ordren er betalt", "Ordren er betalt", "Tilaus maksettu"},
		{"Capture an order", "Trekk for en ordre", "Træk for en ordre", "Veloita tilaus"},
		{"Key the order's reference (store: choose the store) and pay.",
			"Tast ordrens referanse (butikk: velg butikk) og trykk betal.",
			"Tast ordrens reference (butik: vælg butik) og tryk betal.",
			"Näppäile tilauksen viite (myymälä: valitse myymälä) ja paina maksa."},
		{"Capture sent", "Trekket er sendt", "Trækket er sendt", "Veloitus lähetetty"},
		{"The receipt prints when Vipps MobilePay confirms the capture.",
			"Kvitteringen skrives ut når Vipps MobilePay bekrefter trekket.",
			"Kvitteringen udskrives, når Vipps MobilePay bekræfter trækket.",
			"Kuitti tulostuu, kun Vipps MobilePay vahvistaa veloituksen."},
		{"Capture not possible", "Trekk ikke mulig", "Træk ikke muligt", "Veloitus ei onnistu"},
		{"Nothing is reserved under this reference. Check it, or press cancel.",
			"Ingenting er reservert under denne referansen. Sjekk den, eller trykk avbryt.",
			"Intet er reserveret under denne reference. Tjek den, eller tryk annuller.",
			"Tällä viitteellä ei ole varausta. Tarkista se tai paina peruuta."},
		{"The order is paid.", "Ordren er betalt.", "Ordren er betalt.", "Tilaus on maksettu."},
		// The cashier's shift and the supervisor's refund.
		{"Log in", "Logg inn", "Log ind", "Kirjaudu sisään"},
		{"Scan the barcode on the sale's receipt, or key its reference (store: choose the store) and pay.",
			"Skann strekkoden på kvitteringen, eller tast referansen (butikk: velg butikk) og trykk betal.",
			"Scan stregkoden på kvitteringen, eller tast referencen (butik: vælg butik) og tryk betal.",
			"Skannaa kuitin viivakoodi tai näppäile viite (myymälä: valitse myymälä) ja paina maksa."},
		{"Key the reference as printed on the receipt, then pay. Store: the next store.",
			"Tast referansen slik den står på kvitteringen, og trykk betal. Butikk: neste butikk.",
			"Tast referencen som den står på kvitteringen, og tryk betal. Butik: næste butik.",
			"Näppäile viite kuten kuitissa, ja paina maksa. Myymälä: seuraava myymälä."},
		{"Letters: tap 2–9 as on a phone (abc: back to digits), then pay.",
			"Bokstaver: trykk 2–9 som på en telefon (abc: tilbake til tall), og trykk betal.",
			"Bogstaver: tryk 2–9 som på en telefon (abc: tilbage til tal), og tryk betal.",
			"Kirjaimet: paina 2–9 kuten puhelimessa (abc: takaisin numeroihin), ja paina maksa."},
		{"Locked", "Låst", "Låst", "Lukittu"},
		{"Supervisor PIN", "Leders PIN-kode", "Lederens pinkode", "Esimiehen PIN-koodi"},
		{"Refunds locked", "Retur er sperret", "Returnering er spærret", "Palautukset lukittu"},
		{"Key an amount above zero, or clear and pay to refund all.",
			"Tast et beløp over null, eller slett og trykk betal for å returnere alt.",
			"Tast et beløb over nul, eller slet og tryk betal for at returnere alt.",
			"Näppäile nollaa suurempi summa, tai tyhjennä ja paina maksa palauttaaksesi kaiken."},
		{"The refund could not be stored. Try again, or call support.",
			"Returen kunne ikke lagres. Prøv igjen, eller ring kundestøtte.",
			"Returneringen kunne ikke gemmes. Prøv igen, eller ring til support.",
			"Palautusta ei voitu tallentaa. Yritä uudelleen tai soita tukeen."},
		{"The printer needs attention: check its paper and cover.",
			"Skriveren trenger tilsyn: sjekk papiret og lokket.",
			"Printeren kræver opmærksomhed: tjek papiret og låget.",
			"Tulostin vaatii huomiota: tarkista paperi ja kansi."},
		{"Approved – completing…", "Godkjent – fullfører…", "Godkendt – gennemfører…", "Hyväksytty – viimeistellään…"},
		{"Approved – waiting for network", "Godkjent – venter på nettverket", "Godkendt – venter på netværket", "Hyväksytty – odotetaan verkkoa"},
		{"Payment stopped", "Betalingen ble stoppet", "Betalingen blev stoppet", "Maksu keskeytettiin"},
		{"Register fault", "Feil i kassen", "Fejl i kassen", "Kassan vika"},
		{"Refund", "Retur", "Refusion", "Hyvitys"},
		{"Refund not possible", "Retur er ikke mulig", "Refusion er ikke mulig", "Hyvitys ei ole mahdollinen"},
		{"Nothing to refund", "Ingenting å returnere", "Intet at refundere", "Ei hyvitettävää"},
		{"Refunding…", "Returnerer…", "Refunderer…", "Hyvitetään…"},
		{"Refund waiting for network", "Returen venter på nettverket", "Refusionen venter på netværket", "Hyvitys odottaa verkkoa"},
		{"Refunded", "Returnert", "Refunderet", "Hyvitetty"},
		{"Refund refused", "Returen ble avvist", "Refusionen blev afvist", "Hyvitys hylättiin"},
		{"Phone number", "Telefonnummer", "Telefonnummer", "Puhelinnumero"},

		// The till's sentences.
		{"Nothing was charged.", "Ingenting ble trukket.", "Der blev ikke trukket noget.", "Mitään ei veloitettu."},
		{"The payment was cancelled. Nothing was charged.", "Betalingen ble avbrutt. Ingenting ble trukket.",
			"Betalingen blev annulleret. Der blev ikke trukket noget.", "Maksu peruttiin. Mitään ei veloitettu."},
		{"The payment was stopped in the app. Nothing was charged.", "Betalingen ble stoppet i appen. Ingenting ble trukket.",
			"Betalingen blev stoppet i appen. Der blev ikke trukket noget.", "Maksu keskeytettiin sovelluksessa. Mitään ei veloitettu."},
		{"The QR code expired. The cashier can start a new payment.", "QR-koden er utløpt. Kassereren kan starte en ny betaling.",
			"QR-koden er udløbet. Kassereren kan starte en ny betaling.", "QR-koodi vanheni. Kassa voi aloittaa uuden maksun."},
		{"The payment could not be completed. Nothing was charged.", "Betalingen kunne ikke fullføres. Ingenting ble trukket.",
			"Betalingen kunne ikke gennemføres. Der blev ikke trukket noget.", "Maksua ei voitu viedä loppuun. Mitään ei veloitettu."},
		{"Vipps MobilePay is unreachable – use another payment method.", "Vipps MobilePay svarer ikke – bruk en annen betalingsmåte.",
			"Vipps MobilePay svarer ikke – brug en anden betalingsmetode.", "Vipps MobilePayhin ei saada yhteyttä – käytä toista maksutapaa."},
		{"This amount cannot be paid with Vipps MobilePay.", "Dette beløpet kan ikke betales med Vipps MobilePay.",
			"Dette beløb kan ikke betales med Vipps MobilePay.", "Tätä summaa ei voi maksaa Vipps MobilePaylla."},
		{"The register is setting its clock. Try again in a minute, or use another payment method.",
			"Kassen stiller klokka. Prøv igjen om et minutt, eller bruk en annen betalingsmåte.",
			"Kassen stiller uret. Prøv igen om et minut, eller brug en anden betalingsmetode.",
			"Kassa asettaa kelloaan. Yritä minuutin päästä uudelleen tai käytä toista maksutapaa."},
		{"The money is on its way back to the shopper.", "Pengene er på vei tilbake til deg.",
			"Pengene er på vej tilbage til dig.", "Rahat ovat matkalla takaisin sinulle."},
		{"Vipps MobilePay did not accept the refund. Nothing was refunded.", "Vipps MobilePay godtok ikke returen. Ingenting ble returnert.",
			"Vipps MobilePay accepterede ikke refusionen. Intet blev refunderet.", "Vipps MobilePay ei hyväksynyt hyvitystä. Mitään ei hyvitetty."},
		{"This sale could not be found. Check the receipt.", "Fant ikke salget. Sjekk kvitteringen.",
			"Salget blev ikke fundet. Tjek kvitteringen.", "Ostoa ei löytynyt. Tarkista kuitti."},
		{"Vipps MobilePay does not answer. Try again in a moment.", "Vipps MobilePay svarer ikke. Prøv igjen om litt.",
			"Vipps MobilePay svarer ikke. Prøv igen om lidt.", "Vipps MobilePay ei vastaa. Yritä hetken päästä uudelleen."},
		{"This code is not a receipt from this chain.", "Denne koden er ikke en kvittering fra denne kjeden.",
			"Denne kode er ikke en kvittering fra denne kæde.", "Tämä koodi ei ole tämän ketjun kuitti."},
		{"This sale has been refunded in full.", "Dette salget er allerede returnert i sin helhet.",
			"Dette salg er allerede refunderet fuldt ud.", "Tämä osto on jo hyvitetty kokonaan."},
		{"Please wait – the cashier starts the payment again.", "Vent litt – kassereren starter betalingen på nytt.",
			"Vent venligst – kassereren starter betalingen igen.", "Odota hetki – kassa aloittaa maksun uudelleen."},
		{"The payment request is on the shopper's phone.", "Betalingsforespørselen er sendt til telefonen din.",
			"Betalingsanmodningen er sendt til din telefon.", "Maksupyyntö on lähetetty puhelimeesi."},
		{"Waiting for network. The payment continues when Vipps MobilePay answers.",
			"Venter på nettverket. Betalingen fortsetter når Vipps MobilePay svarer.",
			"Venter på netværket. Betalingen fortsætter, når Vipps MobilePay svarer.",
			"Odotetaan verkkoyhteyttä. Maksu jatkuu, kun Vipps MobilePay vastaa."},
		{"The payment is approved and completes when Vipps MobilePay answers.",
			"Betalingen er godkjent og fullføres når Vipps MobilePay svarer.",
			"Betalingen er godkendt og gennemføres, når Vipps MobilePay svarer.",
			"Maksu on hyväksytty ja viedään loppuun, kun Vipps MobilePay vastaa."},
		{"The sale log cannot be written. Use another payment method and call support.",
			"Salgsloggen kan ikke skrives. Bruk en annen betalingsmåte og ring support.",
			"Salgsloggen kan ikke skrives. Brug en anden betalingsmetode, og ring til support.",
			"Myyntilokiin ei voi kirjoittaa. Käytä toista maksutapaa ja soita tukeen."},
		{"Reading the sale from Vipps MobilePay…", "Henter salget fra Vipps MobilePay…",
			"Henter salget fra Vipps MobilePay…", "Haetaan ostoa Vipps MobilePaysta…"},
		{"This sale was never paid: there is nothing to refund.", "Dette salget ble aldri betalt: det er ingenting å returnere.",
			"Dette salg blev aldrig betalt: der er intet at refundere.", "Tätä ostoa ei koskaan maksettu: hyvitettävää ei ole."},
		{"The refund is stored and goes through when Vipps MobilePay answers.",
			"Returen er lagret og går gjennom når Vipps MobilePay svarer.",
			"Refusionen er gemt og gennemføres, når Vipps MobilePay svarer.",
			"Hyvitys on tallennettu ja toteutuu, kun Vipps MobilePay vastaa."},
		{"Scan the barcode on the sale's receipt.", "Skann strekkoden på kvitteringen.",
			"Scan stregkoden på kvitteringen.", "Skannaa kuitin viivakoodi."},
		{"Sale %s from store %s lane %s. Refundable %s. Key an amount, or press pay to refund all.",
			"Salg %s fra butikk %s kasse %s. Kan returneres: %s. Tast et beløp, eller trykk betal for å returnere alt.",
			"Salg %s fra butik %s kasse %s. Kan refunderes: %s. Indtast et beløb, eller tryk betal for at refundere alt.",
			"Osto %s myymälästä %s, kassa %s. Hyvitettävissä %s. Näppäile summa tai hyvitä kaikki painamalla maksa."},
		{"Refund all %s? Press pay again to confirm, or key an amount.",
			"Returnere alle %s? Trykk betal igjen for å bekrefte, eller tast et beløp.",
			"Refundere alle %s? Tryk betal igen for at bekræfte, eller indtast et beløb.",
			"Hyvitetäänkö koko %s? Vahvista painamalla maksa uudelleen tai näppäile summa."},
		{"At most %s can be refunded. Key another amount.", "Høyst %s kan returneres. Tast et annet beløp.",
			"Højst %s kan refunderes. Indtast et andet beløb.", "Enintään %s voidaan hyvittää. Näppäile toinen summa."},
	}
}

func (p phrase) in(l Language) string {
	switch l {
	case Norwegian, "":
		return p.nb
	case Danish:
		return p.da
	case Finnish:
		return p.fi
	}
	return p.en
}

// translate returns s in l. A text with values (%s in the catalogue) is
// matched as a pattern and its values carried over; text the catalogue does
// not know (a shop's name, a phone number) is shown as it is.
func (l Language) translate(s string) string {
	if s == "" || l == English {
		return s
	}
	t, _ := l.lookup(s)
	return t
}

// lookup is translate that also says whether the catalogue knew s.
func (l Language) lookup(s string) (string, bool) {
	for _, p := range phrases() {
		if !strings.Contains(p.en, "%s") {
			if p.en == s {
				return p.in(l), true
			}
			continue
		}
		if !strings.HasPrefix(s, p.en[:strings.Index(p.en, "%s")]) {
			continue // spares compiling a pattern that cannot match
		}
		re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(p.en), "%s", "(.+?)") + "$")
		m := re.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		out := p.in(l)
		for _, v := range m[1:] {
			out = strings.Replace(out, "%s", v, 1)
		}
		return out, true
	}
	return s, false
}

// Translates reports whether the catalogue has s in every language; the
// till's texts are checked against it.
func Translates(s string) bool {
	_, ok := Norwegian.lookup(s)
	return ok
}
