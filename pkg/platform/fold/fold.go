// Package fold is the one comparison form of institution names, shared by
// the registry (uniqueness, search, listing order) and ranking (tie order),
// so both sort and match names the same way.
package fold

import (
	"strings"
	"unicode"
)

// Name lower-cases a name and keeps letters and digits, with runs of
// anything else folded to one space: "Pemkab  HSS." and "pemkab hss" are
// the same name.
func Name(name string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(name) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		} else {
			space = true
		}
	}
	return b.String()
}
