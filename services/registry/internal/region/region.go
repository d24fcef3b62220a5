// Package region knows Kemendagri region codes: their syntax, their level,
// their parent, and the built-in catalog (all provinces, and the regencies
// and cities of Kalimantan Selatan). It is pure: no storage, no RPC, and its
// types are plain Go so the application layer can name them.
package region

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/predikat-id/predikat/pkg/events"
	"github.com/predikat-id/predikat/pkg/platform/fault"
)

// National is the code of the whole country. Kemendagri has no code for it;
// "00" keeps every region code two-digit-prefixed and sorts first. It is the
// national token of the event contract, so both spell it the same.
const National = events.National

// Level is where a region sits in the hierarchy. The values are those of
// the API's RegionLevel enum, so translating at the edges is a conversion.
type Level int32

// The levels, in API enum order.
const (
	LevelUnspecified Level = iota
	LevelNational
	LevelProvince
	LevelRegency
	LevelCity
)

// Region is one region of the registry.
type Region struct {
	Code         string
	Name         string
	Level        Level
	ParentCode   string // "" for national
	ProvinceCode string // "" for national
	Builtin      bool
	// CreatedBy is the principal who added it; empty for the built-in
	// catalog and for regions stored before it was kept.
	CreatedBy string
}

// Parsed is what a code says about itself.
type Parsed struct {
	Code     string
	Level    Level
	Parent   string // "" for national
	Province string // "" for national
}

// Parse checks a code's syntax and derives its level. Kemendagri numbers
// regencies 01-69 and cities 71-99 inside a province, so the level follows
// from the code alone.
func Parse(code string) (Parsed, error) {
	switch {
	case code == National:
		return Parsed{Code: code, Level: LevelNational}, nil
	case len(code) == 2:
		return parseProvince(code)
	case len(code) == 5 && code[2] == '.':
		return parseLocal(code)
	default:
		return malformed(code, "expected \"NN\" or \"NN.NN\"")
	}
}

func parseProvince(code string) (Parsed, error) {
	if !twoDigits(code) {
		return malformed(code, "a province code is two digits")
	}
	if code[0] == '0' {
		return malformed(code, "province codes start at 11")
	}
	return Parsed{Code: code, Level: LevelProvince, Parent: National, Province: code}, nil
}

func parseLocal(code string) (Parsed, error) {
	prov, sub := code[:2], code[3:]
	if !twoDigits(prov) || !twoDigits(sub) || prov[0] == '0' {
		return malformed(code, "expected two digits, a dot and two digits")
	}
	n, _ := strconv.Atoi(sub)
	p := Parsed{Code: code, Parent: prov, Province: prov}
	switch {
	case n >= 1 && n <= 69:
		p.Level = LevelRegency
	case n >= 71 && n <= 99:
		p.Level = LevelCity
	default:
		return malformed(code, "regencies are numbered 01-69 and cities 71-99")
	}
	return p, nil
}

func malformed(code, why string) (Parsed, error) {
	return Parsed{}, fault.Invalidf("region code %q is malformed: %s (use \"63\" for a province, \"63.06\" for a regency, \"63.71\" for a city)", code, why)
}

func twoDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return len(s) == 2
}

// New builds a region from a code and a name.
func New(code, name string, builtin bool) (*Region, error) {
	p, err := Parse(code)
	if err != nil {
		return nil, err
	}
	return &Region{
		Code: p.Code, Name: name, Level: p.Level,
		ParentCode: p.Parent, ProvinceCode: p.Province, Builtin: builtin,
	}, nil
}

// The Kemendagri codes of every province, regency and city, from the
// idn-area-data package under the ODbL (data/README.md says where from and
// how to refresh them).
//
//go:embed data/provinces.csv
var provincesCSV []byte

//go:embed data/regencies.csv
var regenciesCSV []byte

// Builtin returns the built-in catalog ordered by code: the national level
// (00), the 38 provinces and the 514 regencies and cities. The data files
// are embedded, so a broken file fails the tests, never a running server.
func Builtin() ([]*Region, error) {
	nat, err := New(National, "Indonesia", true)
	if err != nil {
		return nil, err
	}
	out := []*Region{nat}
	for _, f := range []struct {
		name string
		body []byte
		cols []string
	}{
		{"provinces.csv", provincesCSV, []string{"code", "name"}},
		{"regencies.csv", regenciesCSV, []string{"code", "province_code", "name"}},
	} {
		rows, err := csv.NewReader(bytes.NewReader(f.body)).ReadAll()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		if len(rows) == 0 || !slices.Equal(rows[0], f.cols) {
			return nil, fmt.Errorf("%s: header %v, want %v", f.name, rows[:min(1, len(rows))], f.cols)
		}
		for i, row := range rows[1:] {
			code, name := row[0], row[len(row)-1]
			// The level says "regency": "Kabupaten Banjar" is stored as
			// "Banjar", as it always was; a city keeps "Kota".
			r, err := New(code, strings.TrimPrefix(name, "Kabupaten "), true)
			if err == nil && len(row) == 3 && r.ProvinceCode != row[1] {
				err = fmt.Errorf("province %s, but the code says %s", row[1], r.ProvinceCode)
			}
			if err != nil {
				return nil, fmt.Errorf("%s line %d: %w", f.name, i+2, err)
			}
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}

// Contains reports whether region code inner lies in (or is) outer.
func Contains(outer, inner string) bool {
	if outer == "" || outer == inner {
		return true
	}
	if outer == National {
		return true
	}
	return len(outer) == 2 && len(inner) == 5 && inner[:2] == outer
}
