package server

import (
	"testing"

	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
)

func TestHeadOnTheCeremonyDay(t *testing.T) {
	hss := &registryv1.Institution{
		Head:      &registryv1.Head{Name: "Syafrudin Noor", TermStart: "2025-02-20"},
		PastHeads: []*registryv1.Head{{Name: "Achmad Fikry", TermStart: "2018-09-24", TermEnd: "2025-02-20"}},
	}
	for day, want := range map[string]string{
		"2024-12-11": "Achmad Fikry",   // Ombudsman ceremony
		"2025-04-17": "Syafrudin Noor", // Rakor Pelayanan Publik
		"2025-02-20": "Syafrudin Noor", // the day the new term starts
		"":           "Syafrudin Noor", // no date: today's head
		"2010-01-01": "Syafrudin Noor", // before any known term: the current head
	} {
		if got := headOn(hss, day).GetName(); got != want {
			t.Errorf("head on %q = %s, want %s", day, got, want)
		}
	}
}
