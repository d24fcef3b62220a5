package app

import (
	"context"
	"strings"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/text"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
)

// RetireInstitution marks an institution retired, which frees its name for
// a new registration.
type RetireInstitution struct {
	ID     string
	Reason string
	// ExpectedRevision guards against retiring a record changed since it
	// was read; 0 retires whatever the revision.
	ExpectedRevision uint64
	// Actor is the authenticated principal retiring it.
	Actor string
}

// RetireInstitutionHandler runs RetireInstitution.
type RetireInstitutionHandler struct {
	institutions InstitutionStore
	clock        Clock
}

// Handle returns the retired institution at its new revision.
func (h RetireInstitutionHandler) Handle(ctx context.Context, cmd RetireInstitution) (*institution.Institution, error) {
	if err := text.CheckFree("reason", cmd.Reason); err != nil {
		return nil, err
	}
	cur, err := h.institutions.Load(ctx, cmd.ID)
	if err != nil {
		return nil, err
	}
	if cmd.ExpectedRevision != 0 && cur.Revision != cmd.ExpectedRevision {
		return nil, institution.StaleRevision(cmd.ID, cur.Revision, cmd.ExpectedRevision)
	}
	if cur.Status == institution.StatusRetired {
		return nil, fault.Preconditionf("institution %q is already retired (%s)", cmd.ID, cur.RetireReason)
	}
	next := cur.Clone()
	next.Status = institution.StatusRetired
	next.RetireReason = strings.TrimSpace(cmd.Reason)
	next.UpdateTime, next.UpdatedBy = h.clock.Now(), cmd.Actor
	return h.institutions.CommitInstitution(ctx, cur, next)
}
