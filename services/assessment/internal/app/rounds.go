package app

import (
	"context"
	"fmt"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/round"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
)

// CreateRound opens the round of a scheme in a year.
type CreateRound struct {
	SchemeID, SchemeVersion               string
	Year                                  int32
	Title, CollectionStart, CollectionEnd string
	Notes, By                             string
}

// CreateRoundHandler is the CreateRound use case.
type CreateRoundHandler struct {
	catalog *scheme.Catalog
	store   RoundStore
}

// Handle creates the round, under the scheme version in force that year.
func (h CreateRoundHandler) Handle(ctx context.Context, cmd CreateRound) (model.Round, error) {
	if err := checkFree(field{"title", cmd.Title}, field{"notes", cmd.Notes}); err != nil {
		return model.Round{}, err
	}
	inForce, err := h.catalog.ForYear(cmd.SchemeID, cmd.Year)
	if err != nil && cmd.SchemeVersion == "" {
		return model.Round{}, err
	}
	v := inForce
	if cmd.SchemeVersion != "" {
		if v, err = h.catalog.Get(cmd.SchemeID, cmd.SchemeVersion); err != nil {
			return model.Round{}, err
		}
		if inForce == nil || inForce.Label() != v.Label() {
			return model.Round{}, fault.Preconditionf("scheme %s version %s is not in force in %d (years %d-%d)", cmd.SchemeID, cmd.SchemeVersion,
				cmd.Year, v.FirstYear(), v.LastYear())
		}
	}
	title := cmd.Title
	if title == "" {
		title = fmt.Sprintf("%s %d", v.Name(), cmd.Year)
	}
	return h.store.CreateRound(ctx, model.Round{
		ID: round.ID(cmd.SchemeID, cmd.Year), SchemeID: cmd.SchemeID, SchemeVersion: v.Label(), Year: cmd.Year,
		Title: title, CollectionStart: cmd.CollectionStart, CollectionEnd: cmd.CollectionEnd,
		SchemeProvisional: v.Provisional(), Notes: cmd.Notes, CreatedBy: cmd.By,
	})
}

// CloseRound closes a round; Actor is the authenticated principal closing
// it.
type CloseRound struct{ RoundID, Actor string }

// CloseRoundHandler is the CloseRound use case.
type CloseRoundHandler struct {
	store RoundStore
	clock Clock
	// surveys, when the service takes surveys, closes a survey round's
	// intake and records its units' final results before the round closes.
	surveys *Surveys
}

// Handle closes the round; closing a closed round changes nothing. A round
// of a scheme with a survey stops taking responses first and records every
// unit's final result; a close cut short there leaves the round OPEN with
// its intake closed, and closing it again finishes.
func (h CloseRoundHandler) Handle(ctx context.Context, cmd CloseRound) (model.Round, error) {
	roundID := cmd.RoundID
	if h.surveys != nil {
		r, err := h.store.Round(ctx, roundID)
		if err != nil {
			return model.Round{}, err
		}
		if r.State == model.RoundOpen {
			if err := h.surveys.closeIntake(ctx, roundID); err != nil {
				return model.Round{}, fmt.Errorf("close the survey intake of %s: %w", roundID, err)
			}
		}
	}
	now := h.clock.Now()
	if _, _, err := h.store.Transition(ctx, roundID, "", func(r model.Round) (model.Round, bool, error) {
		return round.Close(r, now, cmd.Actor)
	}); err != nil {
		return model.Round{}, err
	}
	if h.surveys != nil {
		// A reopen that slipped in just before the transition opened the
		// intake of what is now a closed round: shut it.
		if err := h.surveys.closeIntakeOf(ctx, roundID); err != nil {
			return model.Round{}, err
		}
	}
	// Answered with its counts: what the close leaves to publish.
	return h.store.RoundWithCounts(ctx, roundID)
}

// ReopenRound reopens a CLOSED round, saying why; Actor is the
// authenticated principal reopening it.
type ReopenRound struct{ RoundID, Reason, Actor string }

// ReopenRoundHandler is the ReopenRound use case.
type ReopenRoundHandler struct {
	store   RoundStore
	clock   Clock
	surveys *Surveys
}

// Handle reopens the round, and a survey round's intake with it.
func (h ReopenRoundHandler) Handle(ctx context.Context, cmd ReopenRound) (model.Round, error) {
	if err := checkFree(field{"reason", cmd.Reason}); err != nil {
		return model.Round{}, err
	}
	if h.surveys != nil {
		// A reopen cut short between the round and its intake is
		// finished by reopening again.
		if r, done, err := h.surveys.finishReopen(ctx, cmd.RoundID); done || err != nil {
			return r, err
		}
	}
	now := h.clock.Now()
	r, _, err := h.store.Transition(ctx, cmd.RoundID, cmd.Reason, func(r model.Round) (model.Round, bool, error) {
		return round.Reopen(r, now, cmd.Actor, cmd.Reason)
	})
	if err != nil || h.surveys == nil {
		return r, err
	}
	return r, h.surveys.reopenIntake(ctx, r)
}
