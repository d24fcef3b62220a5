package certificate

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
)

// CodePrefix starts every verification code, so a code is recognisable on
// paper and in a support request.
const CodePrefix = "PKT"

const (
	codeDomain = "predikat/certificate/verification-code/v1\x00"
	// codeGroups groups of codeGroupLen characters follow the prefix.
	codeGroups   = 3
	codeGroupLen = 4
	codeBodyLen  = codeGroups * codeGroupLen
	// crockford is Crockford's base32 alphabet: digits and capitals without
	// I, L, O and U, so nothing reads as another character (or a word).
	crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)

// ErrMalformedCode is wrapped by every ParseCode refusal.
var ErrMalformedCode = errors.New("malformed verification code")

// Code returns the verification code of an award: "PKT-" and three groups
// of four Crockford base32 characters, the first 60 bits of
// SHA-256(domain || awardID). The same award id always gives the same code.
func Code(awardID string) string {
	sum := sha256.Sum256([]byte(codeDomain + awardID))
	// The first 8 bytes as a big-endian number; its top 60 bits are the
	// twelve 5-bit symbols.
	var v uint64
	for _, b := range sum[:8] {
		v = v<<8 | uint64(b)
	}
	body := make([]byte, codeBodyLen)
	for i := range body {
		shift := 64 - 5*(i+1)
		body[i] = crockford[(v>>uint(shift))&0x1f]
	}
	return format(string(body))
}

// ParseCode normalises a code as a person types it and returns it in the
// printed form ("PKT-XXXX-XXXX-XXXX"). Following Crockford's base32 it
// ignores case, spaces and dashes, reads O as 0 and I or L as 1; the
// "PKT" prefix may be left out. Anything else is refused with an error
// naming the rule it breaks.
func ParseCode(s string) (string, error) {
	compact := strings.Map(func(r rune) rune {
		switch r {
		case '-', ' ', '\t', '\n', '\r':
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(s)))
	if compact == "" {
		return "", fmt.Errorf("%w: empty; a code is %s followed by %d characters, e.g. %s",
			ErrMalformedCode, CodePrefix, codeBodyLen, example())
	}
	body := []rune(compact)
	if len(body) == len(CodePrefix)+codeBodyLen {
		if !strings.HasPrefix(compact, CodePrefix) {
			return "", fmt.Errorf("%w: %q: a code starts with %s, e.g. %s",
				ErrMalformedCode, s, CodePrefix, example())
		}
		body = body[len(CodePrefix):]
	}
	if len(body) != codeBodyLen {
		return "", fmt.Errorf("%w: %q: a code is %s followed by %d characters (dashes optional), e.g. %s",
			ErrMalformedCode, s, CodePrefix, codeBodyLen, example())
	}
	out := make([]byte, codeBodyLen)
	for i, r := range body {
		c, ok := crockfordSymbol(r)
		if !ok {
			return "", fmt.Errorf("%w: %q: character %q is not in Crockford base32 (digits and letters except I, L, O, U; O is read as 0, I and L as 1)",
				ErrMalformedCode, s, r)
		}
		out[i] = c
	}
	return format(string(out)), nil
}

// crockfordSymbol maps an upper-case input byte to its canonical symbol.
func crockfordSymbol(r rune) (byte, bool) {
	switch r {
	case 'O':
		return '0', true
	case 'I', 'L':
		return '1', true
	}
	if r >= 0x80 || strings.IndexByte(crockford, byte(r)) < 0 {
		return 0, false
	}
	return byte(r), true
}

// format puts the prefix and the dashes around a canonical body.
func format(body string) string {
	var b strings.Builder
	b.WriteString(CodePrefix)
	for g := 0; g < codeGroups; g++ {
		b.WriteByte('-')
		b.WriteString(body[g*codeGroupLen : (g+1)*codeGroupLen])
	}
	return b.String()
}

func example() string {
	return format(strings.Repeat("X", codeBodyLen))
}
