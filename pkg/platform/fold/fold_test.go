package fold

import "testing"

func TestName(t *testing.T) {
	for in, want := range map[string]string{
		"Pemkab  HSS.":         "pemkab hss",
		" Kota Banjarbaru ":    "kota banjarbaru",
		"Polres HSS-Kandangan": "polres hss kandangan",
		"":                     "",
	} {
		if got := Name(in); got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
}
