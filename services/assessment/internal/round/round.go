// Package round holds the life of an assessment round: OPEN -> CLOSED ->
// PUBLISHED, with CLOSED -> OPEN allowed and PUBLISHED final. It is pure:
// the store persists what these functions decide.
package round

import (
	"fmt"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

// ID is the one id of the round of a scheme in a year: one round per
// (scheme, year), so the id is derived, never chosen.
func ID(schemeID string, year int32) string { return fmt.Sprintf("%s-%d", schemeID, year) }

// CheckRecordable says whether a round takes RecordAssessment.
func CheckRecordable(r model.Round) error {
	switch r.State {
	case model.RoundOpen:
		return nil
	case model.RoundClosed:
		return fault.Preconditionf("round %s is CLOSED: reopen it (ReopenRound) to record more", r.ID)
	case model.RoundPublished:
		return fault.Preconditionf("round %s is PUBLISHED: its results are final; use CorrectPublishedAssessment with a reason", r.ID)
	}
	return fault.Preconditionf("round %s is in state %s", r.ID, stateName(r.State))
}

// CheckUnpublished says whether a round takes the correction an accepted
// objection makes: OPEN or CLOSED, its results still provisional.
func CheckUnpublished(r model.Round) error {
	if r.State == model.RoundOpen || r.State == model.RoundClosed {
		return nil
	}
	return fault.Preconditionf("round %s is %s: its results are final; correct them with CorrectPublishedAssessment", r.ID, stateName(r.State))
}

// CheckCorrectable says whether a round takes CorrectPublishedAssessment.
func CheckCorrectable(r model.Round) error {
	if r.State != model.RoundPublished {
		return fault.Preconditionf("round %s is %s, not PUBLISHED: use RecordAssessment", r.ID, stateName(r.State))
	}
	return nil
}

// Close returns the round CLOSED by actor; changed is false when it
// already was (and then names its closer, not actor).
func Close(r model.Round, now time.Time, actor string) (next model.Round, changed bool, err error) {
	switch r.State {
	case model.RoundClosed:
		return r, false, nil
	case model.RoundOpen:
		next = r
		next.State = model.RoundClosed
		next.CloseTime, next.ClosedBy = now, actor
		return next, true, nil
	}
	return model.Round{}, false, fault.Preconditionf("round %s is PUBLISHED and cannot be closed again", r.ID)
}

// Reopen returns the round OPEN again, reopened by actor for reason;
// changed is false when it already was.
func Reopen(r model.Round, now time.Time, actor, reason string) (next model.Round, changed bool, err error) {
	switch r.State {
	case model.RoundOpen:
		return r, false, nil
	case model.RoundClosed:
		next = r
		next.State = model.RoundOpen
		next.ReopenTime, next.ReopenedBy, next.ReopenReason = now, actor, reason
		return next, true, nil
	}
	return model.Round{}, false, fault.Preconditionf("round %s is PUBLISHED: a published round is never reopened; use CorrectPublishedAssessment", r.ID)
}

// Publish returns the round PUBLISHED. Publishing a published round is not
// an error (changed is false): it lets a publication that stopped halfway be
// finished by calling again.
func Publish(r model.Round, now time.Time, actor string) (next model.Round, changed bool, err error) {
	switch r.State {
	case model.RoundPublished:
		return r, false, nil
	case model.RoundClosed:
		next = r
		next.State = model.RoundPublished
		next.PublishTime, next.PublishedBy = now, actor
		return next, true, nil
	}
	return model.Round{}, false, fault.Preconditionf("round %s is OPEN: close it (CloseRound) before publishing, so no record arrives during publication", r.ID)
}

func stateName(s model.RoundState) string { return s.String() }
