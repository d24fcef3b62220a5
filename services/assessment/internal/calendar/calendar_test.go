package calendar_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/calendar"
)

func embedded(t *testing.T) *calendar.Calendar {
	t.Helper()
	c, err := calendar.New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func at(t *testing.T, s string, z calendar.Zone) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, z.Location())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func date(t *testing.T, s string) calendar.Date {
	t.Helper()
	d, err := calendar.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Every embedded year loads, and its counts are those of its decrees, so an
// accidental edit of a file shows here.
func TestEmbeddedYears(t *testing.T) {
	c := embedded(t)
	want := map[int]struct{ libur, cuti int }{
		2023: {16, 11}, // 16 + 8 in the SKB, +1 Idul Fitri and +2 Iduladha by its two amendments
		2024: {19, 10}, // 17 in the SKB + the Pemilu and Pilkada voting days
		2025: {17, 11}, // 17 + 10 in the SKB, +1 (18 August) by its amendment
		2026: {17, 8},
	}
	years := c.Years()
	if len(years) != len(want) {
		t.Fatalf("years = %v, want %d years", years, len(want))
	}
	for _, y := range years {
		data, err := c.Year(y)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := want[y]
		if !ok {
			t.Errorf("year %d is embedded but not checked here: add its counts", y)
			continue
		}
		var libur, cuti int
		for i, h := range data.Holidays {
			switch h.Kind {
			case calendar.LiburNasional:
				libur++
			case calendar.CutiBersama:
				cuti++
			}
			if h.Date.Year != y {
				t.Errorf("%d: %s outside the year", y, h.Date)
			}
			if i > 0 && data.Holidays[i-1].Date.Compare(h.Date) >= 0 {
				t.Errorf("%d: holidays not in date order at %s", y, h.Date)
			}
		}
		if libur != w.libur || cuti != w.cuti {
			t.Errorf("%d: %d libur nasional and %d cuti bersama, want %d and %d", y, libur, cuti, w.libur, w.cuti)
		}
		if !strings.Contains(data.Source, "Nomor") || data.Note == "" {
			t.Errorf("%d: source %q / note %q: the decree and the note to check it are required", y, data.Source, data.Note)
		}
	}
}

func TestEveryProvinceHasAZone(t *testing.T) {
	want := map[string]calendar.Zone{
		"11": calendar.WIB, "12": calendar.WIB, "13": calendar.WIB, "14": calendar.WIB, "15": calendar.WIB,
		"16": calendar.WIB, "17": calendar.WIB, "18": calendar.WIB, "19": calendar.WIB, "21": calendar.WIB,
		"31": calendar.WIB, "32": calendar.WIB, "33": calendar.WIB, "34": calendar.WIB, "35": calendar.WIB,
		"36": calendar.WIB,
		"51": calendar.WITA, "52": calendar.WITA, "53": calendar.WITA,
		"61": calendar.WIB, "62": calendar.WIB,
		"63": calendar.WITA, "64": calendar.WITA, "65": calendar.WITA,
		"71": calendar.WITA, "72": calendar.WITA, "73": calendar.WITA, "74": calendar.WITA, "75": calendar.WITA,
		"76": calendar.WITA,
		"81": calendar.WIT, "82": calendar.WIT,
		"91": calendar.WIT, "92": calendar.WIT, "93": calendar.WIT, "94": calendar.WIT, "95": calendar.WIT,
		"96": calendar.WIT,
	}
	if len(want) != 38 {
		t.Fatalf("the table has %d provinces, Indonesia has 38", len(want))
	}
	provinces := calendar.Provinces()
	if len(provinces) != 38 {
		t.Fatalf("Provinces() has %d entries, want 38", len(provinces))
	}
	for _, p := range provinces {
		if want[p.Code] != p.Zone {
			t.Errorf("province %s %s: zone %s, want %s", p.Code, p.Name, p.Zone.Name(), want[p.Code].Name())
		}
	}
	// Every two-digit code: the 38 map to their zone, the rest are refused.
	for n := 10; n <= 99; n++ {
		code := strconv.Itoa(n)
		z, err := calendar.ZoneOf(code)
		w, exists := want[code]
		switch {
		case exists && err != nil:
			t.Errorf("ZoneOf(%s): %v", code, err)
		case exists && z != w:
			t.Errorf("ZoneOf(%s) = %s, want %s", code, z.Name(), w.Name())
		case !exists && err == nil:
			t.Errorf("ZoneOf(%s) = %s, want an error: no such province", code, z.Name())
		}
	}
}

func TestZoneOfRegionCodes(t *testing.T) {
	for _, tc := range []struct {
		code string
		want string // zone name, or "" for an error
	}{
		{"63", "WITA"},
		{"63.01", "WITA"},    // Kabupaten Tanah Laut
		{"63.06.01", "WITA"}, // a kecamatan of Hulu Sungai Selatan
		{"63.06.01.2001", "WITA"},
		{"31.71", "WIB"},
		{"62.01", "WIB"}, // Kalimantan Tengah and Barat are WIB, the other three WITA
		{"96.01", "WIT"},
		{"99", ""},
		{"20", ""},
		{"", ""},
		{"6", ""},
		{"630", ""},
		{"6301", ""}, // undotted: may be BPS
		{"63.", ""},
		{"63..01", ""},
		{".63", ""},
		{" 63", ""},
		{"6a", ""},
		{"63.0a", ""},
	} {
		z, err := calendar.ZoneOf(tc.code)
		if tc.want == "" {
			if err == nil {
				t.Errorf("ZoneOf(%q) = %s, want an error", tc.code, z.Name())
				continue
			}
			if !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), `"`+tc.code+`"`) {
				t.Errorf("ZoneOf(%q): %v: want an Invalid fault naming the code", tc.code, err)
			}
			continue
		}
		if err != nil || z.Name() != tc.want {
			t.Errorf("ZoneOf(%q) = %s, %v; want %s", tc.code, z.Name(), err, tc.want)
		}
		if z.Location() == nil || z.Location().String() != tc.want {
			t.Errorf("ZoneOf(%q).Location() = %v", tc.code, z.Location())
		}
	}
}

func TestDeadline(t *testing.T) {
	c := embedded(t)
	// One instant near midnight: Thursday 23:30 in Jakarta, already Friday
	// 00:30 in Banjarmasin and 01:30 in Jayapura.
	nearMidnight := time.Date(2025, 3, 6, 16, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		close  time.Time
		region string
		days   int
		want   string
	}{
		{"Friday evening WITA skips the weekend", at(t, "2025-03-07 19:00", calendar.WITA), "63", 3, "2025-03-12 24:00 WITA"},
		{"Friday evening, one day: Monday", at(t, "2025-03-07 19:00", calendar.WITA), "63.06", 1, "2025-03-10 24:00 WITA"},
		{"the close day never counts", at(t, "2025-03-10 08:00", calendar.WITA), "63", 1, "2025-03-11 24:00 WITA"},
		{"a close on Saturday", at(t, "2025-03-08 10:00", calendar.WITA), "63", 1, "2025-03-10 24:00 WITA"},
		// 28 Mar cuti Nyepi, 29 Nyepi, 31 Mar-1 Apr Idul Fitri, 2-4 and 7 Apr cuti.
		{"Idul Fitri 2025 and its cuti bersama", at(t, "2025-03-26 17:00", calendar.WITA), "63", 3, "2025-04-09 24:00 WITA"},
		{"Idul Fitri 2025, one day, Jakarta", at(t, "2025-03-27 16:00", calendar.WIB), "31", 1, "2025-04-08 24:00 WIB"},
		{"ten working days across Idul Fitri 2025", at(t, "2025-03-20 12:00", calendar.WITA), "63", 10, "2025-04-14 24:00 WITA"},
		{"Iduladha 2023 with cuti bersama on both sides", at(t, "2023-06-27 15:00", calendar.WITA), "73", 2, "2023-07-04 24:00 WITA"},
		{"18 August 2025 cuti bersama", at(t, "2025-08-15 15:00", calendar.WITA), "63", 1, "2025-08-19 24:00 WITA"},
		{"Pilkada day 2024", at(t, "2024-11-26 15:00", calendar.WIB), "32", 1, "2024-11-28 24:00 WIB"},
		{"Christmas, ending on 31 December", at(t, "2025-12-24 10:00", calendar.WIB), "32.04", 3, "2025-12-31 24:00 WIB"},
		{"into the next year's data", at(t, "2025-12-30 10:00", calendar.WIB), "32", 3, "2026-01-05 24:00 WIB"},
		{"near midnight, WIB: Thursday's close", nearMidnight, "31", 3, "2025-03-11 24:00 WIB"},
		{"near midnight, WITA: Friday's close", nearMidnight, "63", 3, "2025-03-12 24:00 WITA"},
		{"near midnight, WIT: Friday's close", nearMidnight, "91", 3, "2025-03-12 24:00 WIT"},
		{"a close given in UTC is read in the province's zone", time.Date(2025, 3, 7, 11, 0, 0, 0, time.UTC), "63", 3, "2025-03-12 24:00 WITA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Deadline(tc.close, tc.region, tc.days)
			if err != nil {
				t.Fatal(err)
			}
			if s := calendar.FormatDeadline(got); s != tc.want {
				t.Errorf("deadline %s, want %s", s, tc.want)
			}
			zone, _ := calendar.ZoneOf(tc.region)
			if got.Location() != zone.Location() {
				t.Errorf("deadline in %v, want %s", got.Location(), zone.Name())
			}
			if h, m, s := got.Clock(); h != 0 || m != 0 || s != 0 || got.Nanosecond() != 0 {
				t.Errorf("deadline %v is not a local midnight", got)
			}
		})
	}

	// The same instant gives different deadlines as instants too.
	wib, _ := c.Deadline(nearMidnight, "31", 3)
	wit, _ := c.Deadline(nearMidnight, "91", 3)
	if want := time.Date(2025, 3, 11, 17, 0, 0, 0, time.UTC); !wib.Equal(want) {
		t.Errorf("WIB deadline %v, want %v", wib.UTC(), want)
	}
	if want := time.Date(2025, 3, 12, 15, 0, 0, 0, time.UTC); !wit.Equal(want) {
		t.Errorf("WIT deadline %v, want %v", wit.UTC(), want)
	}
}

func TestWindow(t *testing.T) {
	c := embedded(t)
	w, err := c.Window(at(t, "2025-03-26 17:00", calendar.WITA), "63.06", 3)
	if err != nil {
		t.Fatal(err)
	}
	if w.Zone != calendar.WITA || w.CloseDate != date(t, "2025-03-26") {
		t.Errorf("zone %s, close date %s", w.Zone.Name(), w.CloseDate)
	}
	var days []string
	for _, d := range w.Days {
		days = append(days, d.String())
	}
	if want := []string{"2025-03-27", "2025-04-08", "2025-04-09"}; !slices.Equal(days, want) {
		t.Errorf("working days %v, want %v", days, want)
	}
	var skipped []string
	for _, h := range w.Skipped {
		skipped = append(skipped, h.Date.String()+" "+string(h.Kind))
	}
	want := []string{
		"2025-03-28 cuti_bersama",
		"2025-03-31 libur_nasional", "2025-04-01 libur_nasional",
		"2025-04-02 cuti_bersama", "2025-04-03 cuti_bersama", "2025-04-04 cuti_bersama", "2025-04-07 cuti_bersama",
	}
	if !slices.Equal(skipped, want) {
		t.Errorf("skipped %v, want %v (weekdays only: Nyepi on Saturday is not listed)", skipped, want)
	}
	if w.String() != "2025-04-09 24:00 WITA" {
		t.Errorf("String() = %s", w)
	}
	if !w.Open(w.End.Add(-time.Nanosecond)) || w.Open(w.End) || w.Open(w.End.Add(time.Hour)) {
		t.Errorf("Open: the window runs until End, exclusive")
	}
	// The last minute of the window in WITA is 23:59 on 9 April.
	if !w.Open(at(t, "2025-04-09 23:59", calendar.WITA)) || w.Open(at(t, "2025-04-10 00:00", calendar.WITA)) {
		t.Errorf("Open around the end of 9 April WITA")
	}
}

func TestDeadlineErrors(t *testing.T) {
	c := embedded(t)
	only2025, err := calendar.FromData(mustYear(t, c, 2025))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		cal     *calendar.Calendar
		close   time.Time
		region  string
		days    int
		kind    fault.Kind
		noData  int    // the year a *NoDataError names, or 0
		message string // a fragment of the message
	}{
		{"zero working days", c, at(t, "2025-03-07 19:00", calendar.WITA), "63", 0, fault.Invalid, 0, "at least 1"},
		{"negative working days", c, at(t, "2025-03-07 19:00", calendar.WITA), "63", -3, fault.Invalid, 0, "-3"},
		{"unknown province", c, at(t, "2025-03-07 19:00", calendar.WITA), "99.01", 3, fault.Invalid, 0, `"99.01"`},
		{"malformed region code", c, at(t, "2025-03-07 19:00", calendar.WITA), "Kalsel", 3, fault.Invalid, 0, `"Kalsel"`},
		{"a window running into a year without data", only2025, at(t, "2025-12-30 10:00", calendar.WIB), "31", 3, fault.Precondition, 2026, "2026"},
		{"the embedded data ends", c, at(t, "2026-12-28 10:00", calendar.WIB), "31", 5, fault.Precondition, 2027, "2027"},
		{"a close in a year without data", c, at(t, "2022-11-01 10:00", calendar.WIB), "31", 1, fault.Precondition, 2022, "2022"},
		{"a close at the zero time", c, time.Time{}, "31", 1, fault.Precondition, 1, "no holiday data for 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cal.Deadline(tc.close, tc.region, tc.days)
			if err == nil {
				t.Fatalf("deadline %s, want an error", calendar.FormatDeadline(got))
			}
			if !fault.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q: want fault kind %d containing %q", err, tc.kind, tc.message)
			}
			var nd *calendar.NoDataError
			if found := errors.As(err, &nd); found != (tc.noData != 0) || (found && nd.Year != tc.noData) {
				t.Errorf("error %q: NoDataError %v, want year %d", err, nd, tc.noData)
			}
		})
	}
}

func mustYear(t *testing.T, c *calendar.Calendar, year int) calendar.Year {
	t.Helper()
	y, err := c.Year(year)
	if err != nil {
		t.Fatal(err)
	}
	return y
}

func TestIsWorkingDay(t *testing.T) {
	c := embedded(t)
	for _, tc := range []struct {
		date    calendar.Date
		working bool
		err     string // a fragment of the error, or ""
	}{
		{calendar.NewDate(2025, 3, 7), true, ""},   // Friday
		{calendar.NewDate(2025, 3, 8), false, ""},  // Saturday
		{calendar.NewDate(2025, 3, 9), false, ""},  // Sunday
		{calendar.NewDate(2025, 3, 31), false, ""}, // Idul Fitri, Monday
		{calendar.NewDate(2025, 4, 7), false, ""},  // cuti bersama, Monday
		{calendar.NewDate(2025, 4, 8), true, ""},
		{calendar.NewDate(2024, 2, 14), false, ""}, // Pemilu
		{calendar.NewDate(2026, 3, 20), false, ""}, // cuti bersama Idul Fitri 2026
		{calendar.NewDate(2026, 12, 31), true, ""},
		{calendar.NewDate(2022, 6, 1), false, "2022"}, // no data, even for a known holiday
		{calendar.NewDate(2027, 1, 2), false, "2027"}, // no data, even for a Saturday
		{calendar.NewDate(2025, 2, 29), false, "does not exist"},
		{calendar.Date{}, false, "does not exist"},
	} {
		got, err := c.IsWorkingDay(tc.date)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("IsWorkingDay(%s) = %v, %v; want an error containing %q", tc.date, got, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.working):
			t.Errorf("IsWorkingDay(%s) = %v, %v; want %v", tc.date, got, err, tc.working)
		}
	}
	h, ok, err := c.Holiday(calendar.NewDate(2025, 8, 18))
	if err != nil || !ok || h.Kind != calendar.CutiBersama || h.Name == "" {
		t.Errorf("Holiday(2025-08-18) = %+v, %v, %v", h, ok, err)
	}
}

func TestFormatDeadline(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2025, 3, 13, 0, 0, 0, 0, calendar.WITA.Location()), "2025-03-12 24:00 WITA"},
		{time.Date(2026, 1, 1, 0, 0, 0, 0, calendar.WIT.Location()), "2025-12-31 24:00 WIT"},
		{time.Date(2025, 3, 1, 0, 0, 0, 0, calendar.WIB.Location()), "2025-02-28 24:00 WIB"},
		{time.Date(2025, 3, 12, 16, 0, 0, 0, time.UTC), "2025-03-12 16:00 UTC"},
		{time.Date(2025, 3, 12, 9, 30, 0, 0, calendar.WIB.Location()), "2025-03-12 09:30 WIB"},
	} {
		if got := calendar.FormatDeadline(tc.t); got != tc.want {
			t.Errorf("FormatDeadline(%v) = %s, want %s", tc.t, got, tc.want)
		}
	}
}

func TestDate(t *testing.T) {
	for _, s := range []string{"2025-02-30", "2025-2-01", "2025-02-1", "25-02-01", "2025/02/01", "", "2025-02-01T00:00:00Z"} {
		if d, err := calendar.ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q) = %s, want an error", s, d)
		}
	}
	d := date(t, "2024-02-28")
	for _, tc := range []struct {
		n    int
		want string
	}{{1, "2024-02-29"}, {2, "2024-03-01"}, {-59, "2023-12-31"}, {366, "2025-02-28"}, {0, "2024-02-28"}} {
		if got := d.AddDays(tc.n).String(); got != tc.want {
			t.Errorf("%s + %d = %s, want %s", d, tc.n, got, tc.want)
		}
	}
	if d.Weekday() != time.Wednesday {
		t.Errorf("2024-02-28 is a %s", d.Weekday())
	}
	if d.Compare(date(t, "2024-03-01")) != -1 || d.Compare(d) != 0 || d.Compare(date(t, "2023-12-31")) != 1 {
		t.Errorf("Compare")
	}
	if calendar.NewDate(2025, 2, 29).Valid() || !calendar.NewDate(2024, 2, 29).Valid() {
		t.Errorf("Valid on 29 February")
	}
	// The local date of an instant depends on the zone.
	i := time.Date(2025, 3, 6, 16, 30, 0, 0, time.UTC)
	if calendar.DateIn(i, calendar.WIB.Location()).String() != "2025-03-06" || calendar.DateIn(i, calendar.WIT.Location()).String() != "2025-03-07" {
		t.Errorf("DateIn")
	}
}
