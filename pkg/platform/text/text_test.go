package text

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestCheckFreeRefuses(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Ta\u200bnah Laut", "name: character U+200B (zero width space) at position 3 is not allowed: control, format and bidirectional characters can hide or reorder text"},
		{"\u202eabc", "name: character U+202E (right-to-left override) at position 1 is not allowed"},
		{"a\tb", "name: character U+0009 (character tabulation) at position 2"},
		{"a\nb", "U+000A (line feed) at position 2"},
		{"x\u00adx", "U+00AD (soft hyphen)"},
		{"x\u2066y\u2069", "U+2066 (left-to-right isolate) at position 2"},
		{"\ufeffabc", "U+FEFF (zero width no-break space) at position 1"},
		{"\u061c", "U+061C (arabic letter mark)"},
		{"\u200e", "U+200E (left-to-right mark)"},
		{"a\u2028b", "U+2028 (line separator)"},
		{"a\ue000", "U+E000 at position 2 is not allowed: private-use"},
		{"a\ufdd0", "U+FDD0 at position 2 is not allowed: noncharacters"},
		{"a\U0001FFFF", "U+1FFFF at position 2"},
		{"ab\xffc", "name: byte 0xFF at position 3 is not valid UTF-8"},
		{"\xed\xa0\x80", "is not valid UTF-8"}, // an encoded surrogate
		{"é\x1b[31m", "U+001B (escape) at position 2"},
	} {
		err := CheckFree("name", c.in)
		if err == nil {
			t.Errorf("CheckFree(%q) = nil, want an error", c.in)
			continue
		}
		if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument {
			t.Errorf("CheckFree(%q): code %v, want InvalidArgument", c.in, st.Code())
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckFree(%q) = %q, want it to contain %q", c.in, err, c.want)
		}
	}
}

func TestCheckFreeAccepts(t *testing.T) {
	for _, in := range []string{
		"",
		"Pemerintah Kabupaten Hulu Sungai Selatan",
		"Dinas Kependudukan dan Pencatatan Sipil (Disdukcapil)",
		"Désa Sumbér Rejo — Kecamatan Pagèr", // Indonesian name with diacritics
		"Kota Tаnah Laut", // a Cyrillic "а": allowed, look-alikes are compared elsewhere
		"Predikat WBK 2024: Menuju Wilayah Bebas dari Korupsi",
		"Naïve café, 東京, القاهرة", // Arabic letters carry their own direction; no control needed
		"emoji 👍🏽",
		"\ufffd", // the replacement character itself is an ordinary symbol
	} {
		if err := CheckFree("name", in); err != nil {
			t.Errorf("CheckFree(%q) = %v, want nil", in, err)
		}
		if got := Printable(in); got != in {
			t.Errorf("Printable(%q) = %q, want it unchanged", in, got)
		}
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"Ta\u200bnah Laut": `Ta\u{200B}nah Laut`,
		"\u202eabc":        `\u{202E}abc`,
		"a\tb":             `a\u{0009}b`,
		"a\x1b[2Jb":        `a\u{001B}[2Jb`,
		"a\ue000":          `a\u{E000}`,
		"a\U0010FFFF":      `a\u{10FFFF}`,
		"ab\xff":           `ab\x{FF}`,
		"é\r\n":            `é\u{000D}\u{000A}`,
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
		if err := CheckFree("f", Printable(in)); err != nil {
			t.Errorf("Printable(%q) still refused: %v", in, err)
		}
	}
}
