package region

import (
	"testing"

	"github.com/predikat-id/predikat/pkg/platform/fault"
)

func TestParse(t *testing.T) {
	ok := map[string]Level{
		"00":    LevelNational,
		"63":    LevelProvince,
		"63.06": LevelRegency,
		"63.69": LevelRegency,
		"63.71": LevelCity,
		"63.99": LevelCity,
	}
	for code, level := range ok {
		p, err := Parse(code)
		if err != nil || p.Level != level {
			t.Errorf("Parse(%q) = %v, %v; want level %v", code, p.Level, err, level)
		}
	}
	for _, code := range []string{"", "6", "063", "6a", "63.", "63.6", "63.00", "63.70", "63-06", "05", "63.06.01", "x3.06"} {
		if _, err := Parse(code); !fault.Is(err, fault.Invalid) {
			t.Errorf("Parse(%q): want Invalid, got %v", code, err)
		}
	}
}

func TestBuiltinCatalog(t *testing.T) {
	rs, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var provinces, kalsel int
	seen := map[string]bool{}
	for _, r := range rs {
		if seen[r.Code] {
			t.Errorf("duplicate code %s", r.Code)
		}
		seen[r.Code] = true
		if r.Level == LevelProvince {
			provinces++
		}
		if r.ProvinceCode == "63" && r.Code != "63" {
			kalsel++
		}
		if r.ParentCode != "" && !seen[r.ParentCode] {
			t.Errorf("%s listed before its parent %s", r.Code, r.ParentCode)
		}
	}
	if provinces != 38 {
		t.Errorf("provinces = %d, want 38", provinces)
	}
	if kalsel != 13 {
		t.Errorf("Kalimantan Selatan regencies and cities = %d, want 13", kalsel)
	}
	// Every province and every regency and city of idn-area-data 4.0.1,
	// and the national level.
	levels := map[Level]int{}
	names := map[string]string{}
	for _, r := range rs {
		levels[r.Level]++
		names[r.Code] = r.Name
	}
	if levels[LevelNational] != 1 || levels[LevelRegency]+levels[LevelCity] != 514 || levels[LevelCity] != 98 {
		t.Errorf("levels %v: want 1 national, 38 provinces, 514 regencies and cities of which 98 cities", levels)
	}
	for code, want := range map[string]string{"32.04": "Bandung", "32.73": "Kota Bandung", "63.06": "Hulu Sungai Selatan",
		"63.71": "Kota Banjarmasin", "96": "Papua Barat Daya", "11": "Aceh", "00": "Indonesia"} {
		if names[code] != want {
			t.Errorf("%s is %q, want %q", code, names[code], want)
		}
	}
}

func TestContains(t *testing.T) {
	cases := []struct {
		outer, inner string
		want         bool
	}{
		{"63", "63.06", true}, {"63", "63", true}, {"63", "64.01", false},
		{"63.06", "63.06", true}, {"63.06", "63.07", false}, {"", "63.06", true}, {"00", "63", true},
	}
	for _, c := range cases {
		if got := Contains(c.outer, c.inner); got != c.want {
			t.Errorf("Contains(%q,%q) = %v", c.outer, c.inner, got)
		}
	}
}
