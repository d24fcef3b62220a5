package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/objection"
	"github.com/predikat-id/predikat/services/assessment/internal/round"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
)

// PublishRound freezes a CLOSED round and grants its rule awards, presented
// at Ceremony by PresentedBy.
type PublishRound struct {
	RoundID     string
	Ceremony    *model.Ceremony
	PresentedBy *model.PresentedBy
	// ForceReason publishes although objections are open or a window
	// runs, and says why.
	ForceReason string
	// Actor is the authenticated principal publishing it (not kept with
	// the publication: a publication finished on start-up was published
	// by whoever froze the round).
	Actor string
}

// Published is the published round (with its counts) and how many rule
// awards this call granted and found granted before.
type Published struct {
	Round                         model.Round
	AwardsGranted, AwardsExisting int32
}

// PublishRoundHandler is the PublishRound use case: freeze, grant, announce.
// Each step is idempotent, so a call that stopped halfway is finished by
// calling again, or by FinishPublications when the service starts. The
// announcement (RoundPublished) comes last, so a subscriber acting on it
// finds every award granted.
type PublishRoundHandler struct {
	store   Store
	clock   Clock
	rules   ruleAwards
	catalog *scheme.Catalog
	windows Windows
}

// Handle publishes the round.
func (h PublishRoundHandler) Handle(ctx context.Context, cmd PublishRound) (Published, error) {
	if err := cmd.checkText(); err != nil {
		return Published{}, err
	}
	if cmd.ForceReason != "" && strings.TrimSpace(cmd.ForceReason) == "" {
		return Published{}, fault.Invalidf("force_reason is blank: say why the round is published before its objections are settled")
	}
	if err := h.checkObjections(ctx, cmd); err != nil {
		return Published{}, err
	}
	// Kept before the round is frozen: a call cut short after freezing is
	// finished on start-up with the ceremony it asked for.
	if err := h.store.SavePublication(ctx, cmd); err != nil {
		return Published{}, err
	}
	now := h.clock.Now()
	r, _, err := h.store.Transition(ctx, cmd.RoundID, "", func(r model.Round) (model.Round, bool, error) {
		next, changed, err := round.Publish(r, now, cmd.Actor)
		if changed {
			next.PublishForceReason = cmd.ForceReason
		}
		return next, changed, err
	})
	if err != nil {
		return Published{}, err
	}
	return h.rules.complete(ctx, r, cmd.Ceremony, cmd.PresentedBy)
}

// checkObjections refuses a publication while an objection is open or an
// institution's window runs, unless forced. A round already published
// passes: a publication cut short is finished by calling again. An
// objection filed between this check and the freeze is refused by the
// freeze itself (objections need a CLOSED round) or, when it was stored
// first, stays OPEN and is decided as a correction of the published round.
func (h PublishRoundHandler) checkObjections(ctx context.Context, cmd PublishRound) error {
	r, err := h.store.Round(ctx, cmd.RoundID)
	if err != nil || r.State != model.RoundClosed || cmd.ForceReason != "" {
		return err
	}
	open, err := openObjections(ctx, h.store, r)
	if err != nil {
		return err
	}
	last, err := lastWindow(ctx, h.catalog, h.store, h.windows, r)
	if err != nil {
		return err
	}
	return objection.CheckPublishable(r, open, last, h.clock.Now(), cmd.ForceReason)
}

// FinishPublicationsHandler finishes, when the service starts, every
// publication a stop cut short: a PUBLISHED round whose announcement is
// missing, or whose rule awards are not all granted.
type FinishPublicationsHandler struct {
	store Store
	rules ruleAwards
}

// Handle finishes every unfinished publication; it returns the first
// failure after trying them all, so one round cannot hold up the others.
func (h FinishPublicationsHandler) Handle(ctx context.Context) error {
	rs, err := h.store.ListRounds(ctx, func(r model.Round) bool { return r.State == model.RoundPublished })
	if err != nil {
		return err
	}
	var first error
	for _, r := range rs {
		if err := h.finish(ctx, r); err != nil && first == nil {
			first = fmt.Errorf("finish publication of %s: %w", r.ID, err)
		}
	}
	return first
}

func (h FinishPublicationsHandler) finish(ctx context.Context, r model.Round) error {
	announced, err := h.store.Announced(ctx, r)
	if err != nil {
		return err
	}
	missing, err := h.rules.missing(ctx, r)
	if err != nil || (announced && missing == 0) {
		return err
	}
	p, err := h.store.Publication(ctx, r.ID)
	if err != nil {
		return err
	}
	if p == nil {
		// Published before the call was kept: the round's awards carry
		// the ceremony it asked for.
		p = &PublishRound{RoundID: r.ID}
		p.Ceremony, p.PresentedBy = h.rules.ceremonyOf(r.ID)
	}
	_, err = h.rules.complete(ctx, r, p.Ceremony, p.PresentedBy)
	return err
}
