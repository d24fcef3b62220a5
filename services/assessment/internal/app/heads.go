package app

import (
	"context"
	"slices"

	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

// headOn returns the head in office on day (ISO date; "" means now): awards
// are presented to the head in office on the ceremony day, who may have left
// office since.
func headOn(inst model.Institution, day string) *model.Head {
	if day == "" {
		return inst.Head
	}
	in := func(h model.Head) bool {
		return (h.TermStart == "" || h.TermStart <= day) && (h.TermEnd == "" || day < h.TermEnd)
	}
	if h := inst.Head; h != nil && in(*h) {
		return h
	}
	for _, h := range slices.Backward(inst.PastHeads) {
		if in(h) {
			return &h
		}
	}
	return inst.Head
}

// refreshHead sets the award's head to whoever held office on the ceremony
// day (today's head when it has no date), with the registry's current name.
func refreshHead(ctx context.Context, reg Registry, a *model.Award) error {
	inst, err := reg.Institution(ctx, a.Institution.ID)
	if err != nil {
		return err
	}
	day := ""
	if a.Ceremony != nil {
		day = a.Ceremony.Date
	}
	a.Institution.Head, a.Institution.Name, a.Institution.RegistryRevision = headOn(inst, day), inst.Name, inst.Revision
	return nil
}
