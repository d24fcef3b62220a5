package certificate

import (
	"fmt"
	"strconv"
	"time"
)

// dateLayout is how dates arrive: ISO 8601 calendar dates.
const dateLayout = "2006-01-02"

var indonesianMonths = [12]string{
	"Januari", "Februari", "Maret", "April", "Mei", "Juni",
	"Juli", "Agustus", "September", "Oktober", "November", "Desember",
}

// LongDate renders a "YYYY-MM-DD" date in the Indonesian long form used on
// certificates and in letters: "2025-04-17" is "17 April 2025" (day without
// a leading zero, month name in Indonesian).
func LongDate(isoDate string) (string, error) {
	t, err := parseDate(isoDate)
	if err != nil {
		return "", err
	}
	return strconv.Itoa(t.Day()) + " " + indonesianMonths[t.Month()-1] + " " + strconv.Itoa(t.Year()), nil
}

func parseDate(isoDate string) (time.Time, error) {
	t, err := time.Parse(dateLayout, isoDate)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q is not a calendar date YYYY-MM-DD: %w", isoDate, err)
	}
	return t, nil
}
