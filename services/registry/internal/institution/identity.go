package institution

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"unicode"

	"github.com/mtibben/confusables"
	"golang.org/x/text/unicode/norm"
)

// identityForm names the comparison form inside every identity key. Keys
// written under another form (the plain folded name before it) hash to
// other keys, so the two never meet; the store reclaims every institution's
// key under this form when it starts.
const identityForm = "skeleton1"

// Skeleton is the form names are compared by for uniqueness: two names with
// the same skeleton look alike and may not both be registered for one kind
// and region. It is the confusable skeleton of Unicode TS #39 after NFKC
// (full-width and other compatibility forms become their plain letters),
// made blind to case, spacing and punctuation as names were compared before:
//
//   - punctuation, symbols and spaces between words become one space, as
//     fold.Name does, but the letters keep the case they were written in;
//   - a first skeleton maps each letter in that case to its prototype
//     (Cyrillic "Т" and Greek "Τ" become "T", Cyrillic "а" becomes "a",
//     Greek "ν" becomes "v"): upper-casing first would lose "ν", and
//     lower-casing first would lose "Т", whose small form "т" is no "t";
//   - upper-casing and a second skeleton, then lower-casing and a third,
//     let case variants meet, which the skeleton alone does not ("I" is "l"
//     but "i" is "i"; "m" is "rn" but "M" is "M").
//
// Being case-blind and look-alike-blind at once merges what either merges:
// "i", "I", "l" and "1" are one letter here, as are "o", "O" and "0". A
// skeleton is never shown, stored or sorted by (listing and ranking order
// stay on fold.Name): its letters are prototypes, not the caller's, and the
// TS #39 data changes with Unicode versions, which the store absorbs by
// reclaiming every key when it starts.
func Skeleton(name string) string {
	s := confusables.Skeleton(words(norm.NFKC.String(name)))
	s = confusables.Skeleton(strings.ToUpper(s))
	s = confusables.Skeleton(strings.ToLower(s))
	// The skeleton is decomposed (NFD); composing it keeps an accented
	// letter one character. What it maps a letter to is kept even when that
	// is a symbol ("ð" becomes "∂"), so no letter vanishes from the key.
	return strings.Join(strings.Fields(strings.ToLower(norm.NFC.String(s))), " ")
}

// words keeps the letters, digits and marks of s in the case they were
// written, with every run of anything else made one space.
func words(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
	}), " ")
}

// IdentityKey is the uniqueness key of (kind, region, name): a hash of the
// kind, the region and the name's Skeleton, so it is always a valid KV key
// whatever the name contains.
func IdentityKey(k Kind, regionCode, name string) string {
	sum := sha256.Sum256([]byte(identityForm + "|" + k.String() + "|" + regionCode + "|" + Skeleton(name)))
	return hex.EncodeToString(sum[:16])
}

// Identity is in's uniqueness key.
func (in *Institution) Identity() string { return IdentityKey(in.Kind, in.RegionCode, in.Name) }
