package calendar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/predikat-id/predikat/pkg/platform/fault"
)

// Kind says why a weekday is not a working day.
type Kind string

const (
	// LiburNasional is a national holiday: those of the SKB, and days a
	// Keppres declares a national holiday (an election day).
	LiburNasional Kind = "libur_nasional"
	// CutiBersama is a collective leave day of the SKB. Government offices
	// close on it, so an objection window does not count it.
	CutiBersama Kind = "cuti_bersama"
)

func (k Kind) known() bool { return k == LiburNasional || k == CutiBersama }

// Holiday is one day off of a year's list.
type Holiday struct {
	Date Date   `json:"date"`
	Name string `json:"name"` // in Indonesian, as the SKB names it
	Kind Kind   `json:"kind"`
}

// Year is the list of national holidays and cuti bersama of one year, with
// the decree it was taken from. It is the content of data/holidays-YYYY.json.
type Year struct {
	Year     int       `json:"year"`
	Source   string    `json:"source"` // the SKB (and Keppres) the list is taken from
	Note     string    `json:"note"`
	Holidays []Holiday `json:"holidays"`
}

// DecodeYear reads one year's JSON. Unknown fields are errors, so a typo in a
// file stops the service at start instead of silently dropping a holiday.
// The result is validated as FromData does.
func DecodeYear(data []byte) (Year, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var y Year
	if err := dec.Decode(&y); err != nil {
		return Year{}, fault.Invalidf("holiday data: %v", err)
	}
	if dec.More() {
		return Year{}, fault.Invalidf("holiday data: trailing data after the year's object")
	}
	if err := y.validate(); err != nil {
		return Year{}, err
	}
	return y, nil
}

// validate checks that every date lies inside the year and appears once,
// that kinds are known and that the list says where it comes from.
func (y Year) validate() error {
	if y.Year < 1 || y.Year > 9999 {
		return fault.Invalidf("holiday data: year %d is out of range", y.Year)
	}
	where := fmt.Sprintf("holiday data %d", y.Year)
	if y.Source == "" {
		return fault.Invalidf("%s: source is empty: name the SKB the list is taken from", where)
	}
	seen := make(map[Date]int, len(y.Holidays))
	for i, h := range y.Holidays {
		at := fmt.Sprintf("%s: holidays[%d]", where, i)
		switch {
		case !h.Date.Valid():
			return fault.Invalidf("%s: date %s does not exist", at, h.Date)
		case h.Date.Year != y.Year:
			return fault.Invalidf("%s: date %s is outside %d", at, h.Date, y.Year)
		case h.Name == "":
			return fault.Invalidf("%s (%s): name is empty", at, h.Date)
		case !h.Kind.known():
			return fault.Invalidf("%s (%s): kind %q is neither %q nor %q", at, h.Date, h.Kind, LiburNasional, CutiBersama)
		}
		if j, dup := seen[h.Date]; dup {
			return fault.Invalidf("%s: date %s is listed twice (also holidays[%d])", at, h.Date, j)
		}
		seen[h.Date] = i
	}
	return nil
}

// sorted is a copy of y with its holidays in date order.
func (y Year) sorted() Year {
	y.Holidays = slices.Clone(y.Holidays)
	slices.SortFunc(y.Holidays, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	return y
}
