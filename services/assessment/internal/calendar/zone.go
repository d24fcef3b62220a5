package calendar

import (
	"slices"
	"strings"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/fault"
)

// Zone is one of Indonesia's three time zones. The locations are fixed
// offsets, not IANA zones: Indonesia keeps no daylight saving time and the
// service images carry no tzdata, so time.LoadLocation("Asia/Makassar")
// would fail there while a fixed offset is exact.
type Zone struct {
	name string
	loc  *time.Location
}

// The three zones (Keppres 41/1987).
var (
	WIB  = Zone{name: "WIB", loc: time.FixedZone("WIB", 7*60*60)}
	WITA = Zone{name: "WITA", loc: time.FixedZone("WITA", 8*60*60)}
	WIT  = Zone{name: "WIT", loc: time.FixedZone("WIT", 9*60*60)}
)

// Name is "WIB", "WITA" or "WIT".
func (z Zone) Name() string { return z.name }

// Location is the zone as a fixed-offset location; its abbreviation is Name.
func (z Zone) Location() *time.Location { return z.loc }

// Province is a province by its Kemendagri code.
type Province struct {
	Code string // two digits, "63"
	Name string // "Kalimantan Selatan"
	Zone Zone
}

// provinces are the 38 provinces by Kemendagri code (the Papua codes 93-96
// are those given to the provinces formed in 2022). BPS numbers Papua
// differently (94 Papua, 91 Papua Barat): these are not BPS codes.
var provinces = []Province{
	{"11", "Aceh", WIB},
	{"12", "Sumatera Utara", WIB},
	{"13", "Sumatera Barat", WIB},
	{"14", "Riau", WIB},
	{"15", "Jambi", WIB},
	{"16", "Sumatera Selatan", WIB},
	{"17", "Bengkulu", WIB},
	{"18", "Lampung", WIB},
	{"19", "Kepulauan Bangka Belitung", WIB},
	{"21", "Kepulauan Riau", WIB},
	{"31", "DKI Jakarta", WIB},
	{"32", "Jawa Barat", WIB},
	{"33", "Jawa Tengah", WIB},
	{"34", "DI Yogyakarta", WIB},
	{"35", "Jawa Timur", WIB},
	{"36", "Banten", WIB},
	{"51", "Bali", WITA},
	{"52", "Nusa Tenggara Barat", WITA},
	{"53", "Nusa Tenggara Timur", WITA},
	{"61", "Kalimantan Barat", WIB},
	{"62", "Kalimantan Tengah", WIB},
	{"63", "Kalimantan Selatan", WITA},
	{"64", "Kalimantan Timur", WITA},
	{"65", "Kalimantan Utara", WITA},
	{"71", "Sulawesi Utara", WITA},
	{"72", "Sulawesi Tengah", WITA},
	{"73", "Sulawesi Selatan", WITA},
	{"74", "Sulawesi Tenggara", WITA},
	{"75", "Gorontalo", WITA},
	{"76", "Sulawesi Barat", WITA},
	{"81", "Maluku", WIT},
	{"82", "Maluku Utara", WIT},
	{"91", "Papua", WIT},
	{"92", "Papua Barat", WIT},
	{"93", "Papua Selatan", WIT},
	{"94", "Papua Tengah", WIT},
	{"95", "Papua Pegunungan", WIT},
	{"96", "Papua Barat Daya", WIT},
}

// Provinces lists the 38 provinces in code order.
func Provinces() []Province { return slices.Clone(provinces) }

// ProvinceOf is the province of a Kemendagri region code: a province ("63"),
// a regency or city ("63.01") or anything below it ("63.01.01"); the first
// two digits decide. Codes are dotted as Kemendagri writes them: "6301" is
// refused, since an undotted code may be a BPS code, which numbers some
// provinces differently.
func ProvinceOf(regionCode string) (Province, error) {
	if !wellFormed(regionCode) {
		return Province{}, fault.Invalidf("region code %q is not a Kemendagri code (\"63\", \"63.01\", \"63.01.01\")", regionCode)
	}
	prefix := regionCode[:2]
	i, found := slices.BinarySearchFunc(provinces, prefix, func(p Province, code string) int {
		return strings.Compare(p.Code, code)
	})
	if !found {
		return Province{}, fault.Invalidf("region code %q: no province has code %s", regionCode, prefix)
	}
	return provinces[i], nil
}

// ZoneOf is the time zone of the province of a region code (see ProvinceOf).
func ZoneOf(regionCode string) (Zone, error) {
	p, err := ProvinceOf(regionCode)
	if err != nil {
		return Zone{}, err
	}
	return p.Zone, nil
}

// wellFormed: two digits, then any number of ".digits" segments.
func wellFormed(code string) bool {
	parts := strings.Split(code, ".")
	if len(parts[0]) != 2 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
		for _, c := range p {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}
