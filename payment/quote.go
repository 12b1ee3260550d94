package payment

import (
	"strconv"
	"unicode/utf8"
)

// maxShown is how much of a scanned code an error, the log or the status
// repeats: a scanner can send anything, at any length.
const maxShown = 60

// quoteScan quotes a scanned code for a message, cut to maxShown bytes.
func quoteScan(code string) string {
	if len(code) <= maxShown {
		return strconv.Quote(code)
	}
	cut := code[:maxShown]
	for !utf8.ValidString(cut) && len(cut) > 0 {
		cut = cut[:len(cut)-1]
	}
	return strconv.Quote(cut) + "… (" + strconv.Itoa(len(code)) + " bytes)"
}
