package app

import (
	"context"

	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/round"
)

// PublishRound freezes a CLOSED round and grants its rule awards, presented
// at Ceremony by PresentedBy.
type PublishRound struct {
	RoundID     string
	Ceremony    *model.Ceremony
	PresentedBy *model.PresentedBy
}

// Published is the published round (with its counts) and how many rule
// awards this call granted and found granted before.
type Published struct {
	Round                         model.Round
	AwardsGranted, AwardsExisting int32
}

// PublishRoundHandler is the PublishRound use case: freeze, announce, grant.
// Each step is idempotent, so a call that stopped halfway is finished by
// calling again.
type PublishRoundHandler struct {
	store Store
	clock Clock
	rules ruleAwards
}

// Handle publishes the round.
func (h PublishRoundHandler) Handle(ctx context.Context, cmd PublishRound) (Published, error) {
	if err := cmd.checkText(); err != nil {
		return Published{}, err
	}
	now := h.clock.Now()
	r, changed, err := h.store.Transition(ctx, cmd.RoundID, "", func(r model.Round) (model.Round, bool, error) {
		return round.Publish(r, now)
	})
	if err != nil {
		return Published{}, err
	}
	if !changed {
		// Already published: finish what an interrupted call may have left.
		if err := h.store.EnsurePublished(ctx, r); err != nil {
			return Published{}, err
		}
	}
	var out Published
	if out.AwardsGranted, out.AwardsExisting, err = h.rules.grant(ctx, r, cmd.Ceremony, cmd.PresentedBy); err != nil {
		return Published{}, err
	}
	if out.Round, err = h.store.RoundWithCounts(ctx, r.ID); err != nil {
		return Published{}, err
	}
	return out, nil
}
