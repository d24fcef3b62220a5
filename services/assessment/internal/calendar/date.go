package calendar

import (
	"fmt"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/fault"
)

// Date is a civil date (a day on a wall calendar), with no time of day and no
// zone. A working day is a property of such a day, not of an instant: the
// same instant falls on different dates in WIB and WIT, so the conversion
// from an instant to a Date always names the zone (DateIn).
//
// The zero Date is not a valid date. A Date built by hand may be invalid
// (2025-02-30); methods that take a Date from outside check it.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// NewDate is the Date year-month-day, as written (not normalized).
func NewDate(year int, month time.Month, day int) Date {
	return Date{Year: year, Month: month, Day: day}
}

// DateIn is the local date of the instant t in loc.
func DateIn(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate reads "YYYY-MM-DD" strictly: the day must exist (no 2025-02-30)
// and the form must be exactly that (no "2025-3-1").
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Format(time.DateOnly) != s {
		return Date{}, fault.Invalidf("date %q is not a YYYY-MM-DD calendar date", s)
	}
	return DateIn(t, time.UTC), nil
}

// Valid reports whether d names a day that exists in years 1..9999.
func (d Date) Valid() bool {
	if d.Year < 1 || d.Year > 9999 {
		return false
	}
	y, m, dd := d.midnightUTC().Date()
	return y == d.Year && m == d.Month && dd == d.Day
}

// String is "YYYY-MM-DD".
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalText writes "YYYY-MM-DD" (the holiday files' form).
func (d Date) MarshalText() ([]byte, error) {
	if !d.Valid() {
		return nil, fault.Invalidf("date %s does not exist", d)
	}
	return []byte(d.String()), nil
}

// UnmarshalText reads "YYYY-MM-DD" strictly, as ParseDate.
func (d *Date) UnmarshalText(b []byte) error {
	p, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// Weekday is the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.midnightUTC().Weekday() }

// AddDays is the date n days after d (before it when n < 0).
func (d Date) AddDays(n int) Date {
	return DateIn(d.midnightUTC().AddDate(0, 0, n), time.UTC)
}

// Compare is -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmpInt(d.Year, e.Year)
	case d.Month != e.Month:
		return cmpInt(int(d.Month), int(e.Month))
	default:
		return cmpInt(d.Day, e.Day)
	}
}

// Midnight is the instant d begins in loc (00:00 local time).
func (d Date) Midnight(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

func (d Date) midnightUTC() time.Time { return d.Midnight(time.UTC) }

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	default:
		return 0
	}
}
