package app

import (
	"context"
	"fmt"

	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/round"
)

// Corrected is a correction of a published round: the stored revision and
// the rule awards the correction granted and revoked.
type Corrected struct {
	Recorded
	AwardsGranted []string
	AwardsRevoked []string
}

// CorrectAssessmentHandler is the CorrectPublishedAssessment use case: a
// new revision in a PUBLISHED round, the round's rule awards brought in line,
// and the correction announced.
type CorrectAssessmentHandler struct {
	rec   recorder
	store Store
	rules ruleAwards
}

// Handle corrects; cmd is a RecordAssessment whose round is PUBLISHED.
func (h CorrectAssessmentHandler) Handle(ctx context.Context, cmd RecordAssessment) (Corrected, error) {
	a, created, err := h.rec.record(ctx, cmd, round.CheckCorrectable, true)
	if err != nil {
		return Corrected{}, err
	}
	out := Corrected{Recorded: Recorded{Assessment: a, Created: created}}
	r, err := h.store.Round(ctx, cmd.RoundID)
	if err != nil {
		return Corrected{}, err
	}
	// Re-evaluated on retries too: a correction whose award step was cut
	// short is finished by sending it again.
	if out.AwardsGranted, out.AwardsRevoked, err = h.rules.reconcile(ctx, r, cmd.Reason); err != nil {
		return Corrected{}, err
	}
	// Announced on retries too (same event id, so once): a first call cut
	// short after the append must not lose the announcement.
	if a.AfterPublication {
		if err := h.announce(ctx, r, out); err != nil {
			return Corrected{}, err
		}
	}
	// The unit's own awards and announcement first: the parents'
	// figures follow.
	return out, h.rec.afterWrite(ctx, cmd.RoundID, []*model.Assessment{a}, cmd.By)
}

func (h CorrectAssessmentHandler) announce(ctx context.Context, r model.Round, c Corrected) error {
	a := c.Assessment
	var prev *model.Assessment
	if a.Revision > 1 {
		var err error
		key := RecordKey{SchemeID: a.SchemeID, Year: a.Year, InstitutionID: a.InstitutionID}
		if prev, err = h.store.Assessment(ctx, key, a.RoundID, a.Revision-1); err != nil {
			return err
		}
	}
	return h.store.PublishCorrected(ctx, Correction{
		EventID: fmt.Sprintf("round-corrected/%s/%s/%d", a.RoundID, a.InstitutionID, a.Revision),
		Round:   r, InstitutionID: a.InstitutionID, Previous: prev, Current: a,
		Reason: a.Reason, CorrectedBy: a.RecordedBy, AwardsGranted: c.AwardsGranted, AwardsRevoked: c.AwardsRevoked,
	})
}
