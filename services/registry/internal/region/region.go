// Package region knows Kemendagri region codes: their syntax, their level,
// their parent, and the built-in catalog (all provinces, and the regencies
// and cities of Kalimantan Selatan). It is pure: no storage, no RPC.
package region

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"sort"
	"strconv"

	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
)

// National is the code of the whole country. Kemendagri has no code for it;
// "00" keeps every region code two-digit-prefixed and sorts first.
const National = "00"

// Parsed is what a code says about itself.
type Parsed struct {
	Code     string
	Level    registryv1.RegionLevel
	Parent   string // "" for national
	Province string // "" for national
}

// Parse checks a code's syntax and derives its level. Kemendagri numbers
// regencies 01-69 and cities 71-99 inside a province, so the level follows
// from the code alone.
func Parse(code string) (Parsed, error) {
	bad := func(why string) (Parsed, error) {
		return Parsed{}, fault.Invalidf("region code %q is malformed: %s (use \"63\" for a province, \"63.06\" for a regency, \"63.71\" for a city)", code, why)
	}
	if code == National {
		return Parsed{Code: code, Level: registryv1.RegionLevel_REGION_LEVEL_NATIONAL}, nil
	}
	digits := func(s string) bool {
		for _, r := range s {
			if r < '0' || r > '9' {
				return false
			}
		}
		return len(s) == 2
	}
	switch {
	case len(code) == 2:
		if !digits(code) {
			return bad("a province code is two digits")
		}
		if code[0] == '0' {
			return bad("province codes start at 11")
		}
		return Parsed{Code: code, Level: registryv1.RegionLevel_REGION_LEVEL_PROVINCE, Parent: National, Province: code}, nil
	case len(code) == 5 && code[2] == '.':
		prov, sub := code[:2], code[3:]
		if !digits(prov) || !digits(sub) || prov[0] == '0' {
			return bad("expected two digits, a dot and two digits")
		}
		n, _ := strconv.Atoi(sub)
		p := Parsed{Code: code, Parent: prov, Province: prov}
		switch {
		case n >= 1 && n <= 69:
			p.Level = registryv1.RegionLevel_REGION_LEVEL_REGENCY
		case n >= 71 && n <= 99:
			p.Level = registryv1.RegionLevel_REGION_LEVEL_CITY
		default:
			return bad("regencies are numbered 01-69 and cities 71-99")
		}
		return p, nil
	default:
		return bad("expected \"NN\" or \"NN.NN\"")
	}
}

// New builds a region message from a code and a name.
func New(code, name string, builtin bool) (*registryv1.Region, error) {
	p, err := Parse(code)
	if err != nil {
		return nil, err
	}
	return &registryv1.Region{
		Code: p.Code, Name: name, Level: p.Level,
		ParentCode: p.Parent, ProvinceCode: p.Province, Builtin: builtin,
	}, nil
}

//go:embed regions.csv
var catalogCSV []byte

// Builtin returns the built-in catalog ordered by code. The data file is
// embedded, so a broken file fails the tests, never a running server.
func Builtin() ([]*registryv1.Region, error) {
	rows, err := csv.NewReader(bytes.NewReader(catalogCSV)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("regions.csv: %w", err)
	}
	out := make([]*registryv1.Region, 0, len(rows))
	for i, row := range rows[1:] {
		r, err := New(row[0], row[1], true)
		if err != nil {
			return nil, fmt.Errorf("regions.csv line %d: %w", i+2, err)
		}
		out = append(out, r)
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
