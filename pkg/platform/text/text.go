// Package text guards the one-line free-text fields callers send (names,
// titles, reasons, notes) against characters that do not show as what they
// are: control and format characters can hide text or reorder it on screen
// (a right-to-left override makes "abc" read "cba"), and private-use
// characters and noncharacters have no agreed meaning. Such text is refused
// on the way in (CheckFree) and escaped on the way out (Printable), so what a
// reader sees is what was stored.
//
// Letters of any script pass: look-alikes across scripts are a matter of
// comparison (the registry's skeleton), not of which characters may appear.
package text

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/predikat-id/predikat/pkg/platform/fault"
)

// names gives the Unicode name, lower-cased, of the characters a caller is
// most likely to meet; any other refused character is shown by code point
// alone, which is enough to find it.
var names = map[rune]string{
	0x0000: "null",
	0x0007: "bell",
	0x0008: "backspace",
	0x0009: "character tabulation",
	0x000A: "line feed",
	0x000B: "line tabulation",
	0x000C: "form feed",
	0x000D: "carriage return",
	0x001B: "escape",
	0x007F: "delete",
	0x0085: "next line",
	0x00AD: "soft hyphen",
	0x061C: "arabic letter mark",
	0x180E: "mongolian vowel separator",
	0x200B: "zero width space",
	0x200C: "zero width non-joiner",
	0x200D: "zero width joiner",
	0x200E: "left-to-right mark",
	0x200F: "right-to-left mark",
	0x2028: "line separator",
	0x2029: "paragraph separator",
	0x202A: "left-to-right embedding",
	0x202B: "right-to-left embedding",
	0x202C: "pop directional formatting",
	0x202D: "left-to-right override",
	0x202E: "right-to-left override",
	0x2060: "word joiner",
	0x2066: "left-to-right isolate",
	0x2067: "right-to-left isolate",
	0x2068: "first strong isolate",
	0x2069: "pop directional isolate",
	0xFEFF: "zero width no-break space",
}

// class says why r is refused, or "" when r may appear in free text.
func class(r rune) string {
	switch {
	case unicode.Is(unicode.Cc, r), unicode.Is(unicode.Cf, r),
		unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r):
		// Line and paragraph separators break a one-line field the way a
		// newline does.
		return "control, format and bidirectional characters can hide or reorder text"
	case unicode.Is(unicode.Co, r):
		return "private-use characters have no agreed meaning"
	case unicode.Is(unicode.Cs, r):
		return "surrogates are not characters"
	case isNoncharacter(r):
		return "noncharacters are not for interchange"
	}
	return ""
}

// isNoncharacter reports the 66 code points Unicode reserves for internal
// use: U+FDD0..U+FDEF and the last two of every plane.
func isNoncharacter(r rune) bool {
	return (r >= 0xFDD0 && r <= 0xFDEF) || r&0xFFFE == 0xFFFE
}

// CheckFree returns nil when s holds only characters that show as what they
// are, and otherwise an InvalidArgument fault naming field, the first refused
// character and its position (counted in characters from 1).
func CheckFree(field, s string) error {
	pos := 0
	for i, r := range s {
		pos++
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return fault.Invalidf("%s: byte 0x%02X at position %d is not valid UTF-8", field, s[i], pos)
			}
			continue
		}
		if why := class(r); why != "" {
			return fault.Invalidf("%s: character %s at position %d is not allowed: %s", field, describe(r), pos, why)
		}
	}
	return nil
}

func describe(r rune) string {
	if n, ok := names[r]; ok {
		return fmt.Sprintf("U+%04X (%s)", r, n)
	}
	return fmt.Sprintf("U+%04X", r)
}

// Printable returns s with every character CheckFree refuses written as its
// \u{XXXX} escape (and every byte that is not UTF-8 as \x{XX}), so text
// stored before the check existed, or reaching output another way, never
// sends a terminal raw control characters. Text CheckFree accepts comes back
// unchanged.
func Printable(s string) string {
	if printable(s) {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && invalidAt(s, i):
			fmt.Fprintf(&b, `\x{%02X}`, s[i])
		case class(r) != "":
			fmt.Fprintf(&b, `\u{%04X}`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func printable(s string) bool {
	for i, r := range s {
		if (r == utf8.RuneError && invalidAt(s, i)) || class(r) != "" {
			return false
		}
	}
	return true
}

func invalidAt(s string, i int) bool {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size == 1
}
