package institution

import (
	"testing"
	"unicode"
)

func TestSkeletonMatchesLookAlikes(t *testing.T) {
	const orig = "Kantor Pertanahan Kabupaten Tanah Laut"
	for name, variant := range map[string]string{
		"Cyrillic small a":         "Kantor Pertanahan Kabupaten T\u0430nah Laut",
		"Cyrillic capital Te":      "Kantor Pertanahan Kabupaten \u0422anah Laut",
		"Cyrillic capital Ka":      "\u041Aantor Pertanahan \u041Aabupaten Tanah Laut",
		"Cyrillic small o, e, p":   "Kant\u043Er P\u0435rtanahan Kabu\u0440aten Tanah Laut",
		"Greek capital Tau, Alpha": "Kantor Pertanahan Kabupaten \u03A4\u03B1nah Laut",
		"Greek small omicron":      "Kant\u03BFr Pertanahan Kabupaten Tanah Laut",
		"full-width letters":       "Kantor Pertanahan Kabupaten \uFF34\uFF41\uFF4E\uFF41\uFF48 Laut",
		"upper case":               "KANTOR PERTANAHAN KABUPATEN TANAH LAUT",
		"lower case, spaces":       "  kantor pertanahan   kabupaten tanah  laut ",
		"punctuation":              "Kantor Pertanahan Kabupaten Tanah-Laut.",
		"digit one for l":          "Kantor Pertanahan Kabupaten Tanah 1aut",
		"capital I for l":          "Kantor Pertanahan Kabupaten Tanah Iaut",
	} {
		if Skeleton(variant) != Skeleton(orig) {
			t.Errorf("%s: Skeleton(%q) = %q, want that of %q: %q", name, variant, Skeleton(variant), orig, Skeleton(orig))
		}
		if IdentityKey(KindLandOffice, "63.01", variant) != IdentityKey(KindLandOffice, "63.01", orig) {
			t.Errorf("%s: identity keys differ", name)
		}
	}
	if Skeleton("Pemerintah Kota Sarnarinda") != Skeleton("Pemerintah Kota Samarinda") {
		t.Error(`"rn" and "m" should meet`)
	}
	if Skeleton("Kota \u041Calang") != Skeleton("kota malang") {
		t.Error("a Cyrillic capital Em and a lower-case Latin name should meet")
	}
}

func TestSkeletonKeepsDifferentNames(t *testing.T) {
	for _, pair := range [][2]string{
		{"Kantor Pertanahan Kabupaten Tanah Laut", "Kantor Pertanahan Kabupaten Tanah Bumbu"},
		{"Kota Banjarbaru", "Kota Banjarmasin"},
		{"Pemerintah Kabupaten Hulu Sungai Selatan", "Pemerintah Kabupaten Hulu Sungai Utara"},
		{"Kabupaten Aceh Besar", "Kabupaten Acéh Besar"}, // an accent is a different letter
		{"Polres Banjar", "Polres Banjar 2"},
		{"Kota \u00F0", "Kota"}, // a letter the skeleton maps to a symbol still counts
	} {
		if Skeleton(pair[0]) == Skeleton(pair[1]) {
			t.Errorf("%q and %q should differ, both are %q", pair[0], pair[1], Skeleton(pair[0]))
		}
	}
}

// Every Latin letter of the Basic, Latin-1 and Extended-A blocks (every
// accented letter of a European or Indonesian name) meets its other case:
// the skeleton alone is not case-blind ("I" and "i" have different
// prototypes). Where TS #39 draws the two cases as different letters the
// skeleton keeps them apart, which is right: they do not look alike.
func TestSkeletonIsCaseBlindForLatin(t *testing.T) {
	differ := map[rune]bool{
		0x00D0: true, // "Ð" is a barred D, "ð" a curled d
		0x0130: true, // "İ" keeps its dot above, "i" is a plain i here
	}
	for r := rune(0x41); r <= 0x17F; r++ {
		if !unicode.Is(unicode.Latin, r) || !unicode.IsUpper(r) || differ[r] {
			continue
		}
		lo := unicode.ToLower(r)
		if lo == r {
			continue
		}
		if a, b := Skeleton("Kota "+string(r)), Skeleton("kota "+string(lo)); a != b {
			t.Errorf("%q (%U) → %q but %q (%U) → %q", r, r, a, lo, lo, b)
		}
	}
}

// The key form is part of the stored layout: a change of it needs the
// startup reclaim to run (it does on every start) and a new identityForm.
func TestIdentityKeyIsStable(t *testing.T) {
	if got, want := IdentityKey(KindLandOffice, "63.01", "Kantor Pertanahan Kabupaten Tanah Laut"), IdentityKey(KindLandOffice, "63.01", "KANTOR PERTANAHAN KABUPATEN TANAH LAUT"); got != want {
		t.Fatalf("%s != %s", got, want)
	}
	if IdentityKey(KindLandOffice, "63.01", "Tanah Laut") == IdentityKey(KindPoliceResort, "63.01", "Tanah Laut") ||
		IdentityKey(KindLandOffice, "63.01", "Tanah Laut") == IdentityKey(KindLandOffice, "63.02", "Tanah Laut") {
		t.Fatal("kind and region must be part of the key")
	}
}
