package app

import (
	"context"

	"github.com/predikat-id/predikat/services/registry/internal/institution"
)

// CreateInstitution registers a new, active institution.
type CreateInstitution struct {
	// ID names the institution; empty: one is generated.
	ID          string
	Name        string
	Kind        institution.Kind
	RegionCode  string // empty for a national body
	ParentID    string
	Head        *institution.Head
	Aliases     []string
	ExternalIDs map[string]string
}

// CreateInstitutionHandler runs CreateInstitution.
type CreateInstitutionHandler struct {
	institutions InstitutionStore
	refs         references
	clock        Clock
	newID        func() string
}

// Handle returns the stored institution with its revision.
func (h CreateInstitutionHandler) Handle(ctx context.Context, cmd CreateInstitution) (*institution.Institution, error) {
	if err := checkNewText(cmd); err != nil {
		return nil, err
	}
	in := &institution.Institution{
		ID: cmd.ID, Kind: cmd.Kind, ParentID: cmd.ParentID, Head: cmd.Head,
		Aliases: cmd.Aliases, ExternalIDs: cmd.ExternalIDs,
		Status:     institution.StatusActive,
		RegionCode: institution.NormalizeRegion(cmd.Kind, cmd.RegionCode),
	}
	var err error
	if in.Name, err = institution.CleanName(cmd.Name); err != nil {
		return nil, err
	}
	if err := h.refs.check(ctx, in); err != nil {
		return nil, err
	}
	if in.ID == "" {
		in.ID = h.newID()
	}
	now := h.clock.Now()
	in.CreateTime, in.UpdateTime = now, now
	return h.institutions.CreateInstitution(ctx, in)
}
