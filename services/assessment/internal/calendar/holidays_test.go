package calendar_test

import (
	"strings"
	"testing"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/calendar"
)

func TestFromDataValidates(t *testing.T) {
	ok := func(mutate func(*calendar.Year)) calendar.Year {
		y := calendar.Year{
			Year:   2025,
			Source: "SKB Nomor 1017 Tahun 2024",
			Holidays: []calendar.Holiday{
				{Date: calendar.NewDate(2025, 1, 1), Name: "Tahun Baru 2025 Masehi", Kind: calendar.LiburNasional},
				{Date: calendar.NewDate(2025, 1, 28), Name: "Cuti Bersama Tahun Baru Imlek", Kind: calendar.CutiBersama},
			},
		}
		if mutate != nil {
			mutate(&y)
		}
		return y
	}
	if _, err := calendar.FromData(ok(nil)); err != nil {
		t.Fatalf("a valid year: %v", err)
	}
	for _, tc := range []struct {
		name  string
		years []calendar.Year
		want  string
	}{
		{"date outside the year", []calendar.Year{ok(func(y *calendar.Year) { y.Holidays[1].Date = calendar.NewDate(2026, 1, 1) })}, "2026-01-01 is outside 2025"},
		{"date that does not exist", []calendar.Year{ok(func(y *calendar.Year) { y.Holidays[1].Date = calendar.NewDate(2025, 2, 29) })}, "2025-02-29 does not exist"},
		{"duplicate date", []calendar.Year{ok(func(y *calendar.Year) { y.Holidays[1].Date = calendar.NewDate(2025, 1, 1) })}, "listed twice"},
		{"unknown kind", []calendar.Year{ok(func(y *calendar.Year) { y.Holidays[0].Kind = "libur" })}, `kind "libur"`},
		{"empty name", []calendar.Year{ok(func(y *calendar.Year) { y.Holidays[0].Name = "" })}, "name is empty"},
		{"no source", []calendar.Year{ok(func(y *calendar.Year) { y.Source = "" })}, "source is empty"},
		{"no year", []calendar.Year{ok(func(y *calendar.Year) { y.Year = 0 })}, "out of range"},
		{"a year given twice", []calendar.Year{ok(nil), ok(nil)}, "given twice"},
	} {
		_, err := calendar.FromData(tc.years...)
		if err == nil || !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an Invalid fault containing %q", tc.name, err, tc.want)
		}
	}
}

func TestDecodeYear(t *testing.T) {
	good := `{"year": 2025, "source": "SKB", "note": "check", "holidays": [
		{"date": "2025-03-31", "name": "Idul Fitri 1446 Hijriah", "kind": "libur_nasional"}]}`
	y, err := calendar.DecodeYear([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(y.Holidays) != 1 || y.Holidays[0].Date != calendar.NewDate(2025, 3, 31) || y.Holidays[0].Kind != calendar.LiburNasional {
		t.Errorf("decoded %+v", y)
	}
	for _, tc := range []struct{ name, json, want string }{
		{"unknown field", `{"year": 2025, "source": "SKB", "holiday": []}`, "unknown field"},
		{"impossible date", `{"year": 2025, "source": "SKB", "holidays": [{"date": "2025-02-30", "name": "x", "kind": "cuti_bersama"}]}`, "2025-02-30"},
		{"sloppy date", `{"year": 2025, "source": "SKB", "holidays": [{"date": "2025-3-31", "name": "x", "kind": "cuti_bersama"}]}`, "2025-3-31"},
		{"unknown kind", `{"year": 2025, "source": "SKB", "holidays": [{"date": "2025-03-31", "name": "x", "kind": "cuti"}]}`, `"cuti"`},
		{"trailing data", `{"year": 2025, "source": "SKB", "holidays": []} {}`, "trailing"},
		{"not JSON", `year: 2025`, "holiday data"},
	} {
		if _, err := calendar.DecodeYear([]byte(tc.json)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}
