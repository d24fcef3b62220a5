// Package calendar counts the working days of an objection (sanggahan)
// window: "n working days from the close, counted in the institution's
// province time zone".
//
// A working day is a Monday to Friday that is neither a national holiday
// (libur nasional) nor a collective leave day (cuti bersama) of the SKB of
// the Ministers of Religious Affairs, Manpower and PANRB for that year. The
// lists are data, one file per year under data/ (holidays-YYYY.json),
// embedded in the binary and validated when loaded. A year without a list
// is an error, never a guess: holidays move with the lunar calendars and the
// SKB is amended during the year.
//
// Civil dates are Date values ({Year, Month, Day}, no zone). Instants are
// time.Time. The package reads no clock: callers pass the instants.
//
// The window of a close: take the close instant's local date in the
// province's zone; the window is the n working days after that date (the
// close day never counts, even when it is a working day); it ends at 00:00
// local time of the day after the last of them, printed by FormatDeadline as
// "2025-03-12 24:00 WITA".
package calendar

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/fault"
)

//go:embed data/*.json
var embedded embed.FS

var fileName = regexp.MustCompile(`^holidays-([0-9]{4})\.json$`)

// Calendar knows the days off of the years it was given. It is immutable and
// safe for concurrent use.
type Calendar struct {
	years map[int]Year
	days  map[Date]Holiday
}

// NoDataError is the refusal to answer for a year without a holiday list.
// It unwraps to a Precondition fault.
type NoDataError struct {
	Year int
}

func (e *NoDataError) Error() string {
	return fmt.Sprintf("no holiday data for %d: add data/holidays-%d.json from that year's SKB on national holidays and cuti bersama", e.Year, e.Year)
}

// Unwrap lets fault.Is and gRPC see a FailedPrecondition.
func (e *NoDataError) Unwrap() error { return fault.Preconditionf("%s", e.Error()) }

// New is the calendar of the embedded holiday lists.
func New() (*Calendar, error) {
	entries, err := fs.ReadDir(embedded, "data")
	if err != nil {
		return nil, fmt.Errorf("holiday data: %w", err)
	}
	var years []Year
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fault.Invalidf("holiday data: file %s is not named holidays-YYYY.json", e.Name())
		}
		raw, err := embedded.ReadFile(path.Join("data", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("holiday data %s: %w", e.Name(), err)
		}
		y, err := DecodeYear(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		if want, _ := strconv.Atoi(m[1]); y.Year != want {
			return nil, fault.Invalidf("holiday data %s: the file holds year %d", e.Name(), y.Year)
		}
		years = append(years, y)
	}
	return FromData(years...)
}

// FromData is a calendar of the given years, each validated (dates inside
// the year, none twice, kinds known, a source named); a year given twice is
// an error.
func FromData(years ...Year) (*Calendar, error) {
	c := &Calendar{years: map[int]Year{}, days: map[Date]Holiday{}}
	for _, y := range years {
		if err := y.validate(); err != nil {
			return nil, err
		}
		if _, dup := c.years[y.Year]; dup {
			return nil, fault.Invalidf("holiday data: year %d is given twice", y.Year)
		}
		y = y.sorted()
		c.years[y.Year] = y
		for _, h := range y.Holidays {
			c.days[h.Date] = h
		}
	}
	return c, nil
}

// Years lists the years the calendar has data for, in order.
func (c *Calendar) Years() []int {
	out := make([]int, 0, len(c.years))
	for y := range c.years {
		out = append(out, y)
	}
	slices.Sort(out)
	return out
}

// Year is the holiday list of a year (dates in order), or a *NoDataError.
func (c *Calendar) Year(year int) (Year, error) {
	y, ok := c.years[year]
	if !ok {
		return Year{}, &NoDataError{Year: year}
	}
	y.Holidays = slices.Clone(y.Holidays)
	return y, nil
}

// Holiday is the national holiday or cuti bersama on d, if any. A year
// without data is a *NoDataError.
func (c *Calendar) Holiday(d Date) (Holiday, bool, error) {
	if !d.Valid() {
		return Holiday{}, false, fault.Invalidf("date %s does not exist", d)
	}
	if _, ok := c.years[d.Year]; !ok {
		return Holiday{}, false, &NoDataError{Year: d.Year}
	}
	h, ok := c.days[d]
	return h, ok, nil
}

// IsWorkingDay reports whether d is a Monday to Friday that is neither a
// national holiday nor cuti bersama. A year without data is a *NoDataError,
// even for a Saturday: the caller asked about a year the calendar cannot
// vouch for.
func (c *Calendar) IsWorkingDay(d Date) (bool, error) {
	_, off, err := c.Holiday(d)
	if err != nil {
		return false, err
	}
	wd := d.Weekday()
	return !off && wd != time.Saturday && wd != time.Sunday, nil
}

// Window is an objection window worked out from a close.
type Window struct {
	Zone      Zone
	CloseDate Date      // the close instant's local date in Zone; never counted
	Days      []Date    // the working days of the window, in order
	End       time.Time // 00:00 in Zone of the day after the last working day
	// Skipped are the holidays and cuti bersama on weekdays between the
	// close date and the last working day, which pushed the end out.
	Skipped []Holiday
}

// Open reports whether the window still runs at now.
func (w Window) Open(now time.Time) bool { return now.Before(w.End) }

// String is the end as FormatDeadline prints it.
func (w Window) String() string { return FormatDeadline(w.End) }

// Window is the window of workingDays working days after the close, counted
// in the time zone of the province of regionCode (see ZoneOf). workingDays
// must be at least 1. Running into a year without data is a *NoDataError.
func (c *Calendar) Window(closedAt time.Time, regionCode string, workingDays int) (Window, error) {
	if workingDays < 1 {
		return Window{}, fault.Invalidf("an objection window has at least 1 working day, not %d", workingDays)
	}
	zone, err := ZoneOf(regionCode)
	if err != nil {
		return Window{}, err
	}
	w := Window{Zone: zone, CloseDate: DateIn(closedAt, zone.Location())}
	// Every step moves one day forward and a year without data stops the
	// walk, so it ends even for a huge workingDays.
	for d := w.CloseDate.AddDays(1); len(w.Days) < workingDays; d = d.AddDays(1) {
		h, off, err := c.Holiday(d)
		if err != nil {
			return Window{}, fmt.Errorf("objection window from %s %s: %w", w.CloseDate, zone.Name(), err)
		}
		switch {
		case d.Weekday() == time.Saturday || d.Weekday() == time.Sunday:
		case off:
			w.Skipped = append(w.Skipped, h)
		default:
			w.Days = append(w.Days, d)
		}
	}
	w.End = w.Days[len(w.Days)-1].AddDays(1).Midnight(zone.Location())
	return w, nil
}

// Deadline is the instant the window of workingDays working days after the
// close ends (see Window), in the zone's location.
func (c *Calendar) Deadline(closedAt time.Time, regionCode string, workingDays int) (time.Time, error) {
	w, err := c.Window(closedAt, regionCode, workingDays)
	if err != nil {
		return time.Time{}, err
	}
	return w.End, nil
}

// FormatDeadline prints a deadline in its own location, naming the zone. A
// deadline at local midnight is printed as the end of the day before, the
// way a notice states it: "2025-03-12 24:00 WITA" for 2025-03-13 00:00 WITA.
// Any other instant is printed as it is ("2025-03-12 16:00 UTC"); give it in
// the zone's location (t.In(zone.Location())) to get the local form.
func FormatDeadline(t time.Time) string {
	name, _ := t.Zone()
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return DateIn(t, t.Location()).AddDays(-1).String() + " 24:00 " + name
	}
	return t.Format("2006-01-02 15:04 ") + name
}
