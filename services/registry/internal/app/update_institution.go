package app

import (
	"context"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
)

// UpdateInstitution changes the fields named in Paths (see
// institution.UpdatablePaths), taking them from Changes, if the institution
// is still at ExpectedRevision.
type UpdateInstitution struct {
	// Changes carries the ID of the institution and the new field values.
	Changes          *institution.Institution
	Paths            []string
	ExpectedRevision uint64
	// Actor is the authenticated principal making the change.
	Actor string
}

// UpdateInstitutionHandler runs UpdateInstitution.
type UpdateInstitutionHandler struct {
	institutions InstitutionStore
	refs         references
	clock        Clock
}

// Handle returns the stored institution at its new revision.
func (h UpdateInstitutionHandler) Handle(ctx context.Context, cmd UpdateInstitution) (*institution.Institution, error) {
	upd := cmd.Changes
	if upd == nil || upd.ID == "" {
		return nil, fault.Invalidf("institution.id is required: it names the institution to update")
	}
	if err := checkChangedText(upd, cmd.Paths); err != nil {
		return nil, err
	}
	cur, err := h.institutions.Load(ctx, upd.ID)
	if err != nil {
		return nil, err
	}
	if cur.Revision != cmd.ExpectedRevision {
		return nil, institution.StaleRevision(upd.ID, cur.Revision, cmd.ExpectedRevision)
	}
	if cur.Status == institution.StatusRetired {
		return nil, fault.Preconditionf("institution %q is retired (%s) and cannot be changed", cur.ID, cur.RetireReason)
	}
	next, err := institution.ApplyMask(cur, upd, cmd.Paths)
	if err != nil {
		return nil, err
	}
	if next.Name, err = institution.CleanName(next.Name); err != nil {
		return nil, err
	}
	next.RegionCode = institution.NormalizeRegion(next.Kind, next.RegionCode)
	if err := h.refs.check(ctx, next); err != nil {
		return nil, err
	}
	next.UpdateTime, next.UpdatedBy = h.clock.Now(), cmd.Actor
	return h.institutions.CommitInstitution(ctx, cur, next)
}
