// Package round holds the life of an assessment round: OPEN -> CLOSED ->
// PUBLISHED, with CLOSED -> OPEN allowed and PUBLISHED final. It is pure:
// the store persists what these functions decide.
package round

import (
	"fmt"
	"time"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ID is the one id of the round of a scheme in a year: one round per
// (scheme, year), so the id is derived, never chosen.
func ID(schemeID string, year int32) string { return fmt.Sprintf("%s-%d", schemeID, year) }

// CheckRecordable says whether a round takes RecordAssessment.
func CheckRecordable(r *assessmentv1.Round) error {
	switch r.GetState() {
	case assessmentv1.RoundState_ROUND_STATE_OPEN:
		return nil
	case assessmentv1.RoundState_ROUND_STATE_CLOSED:
		return fault.Preconditionf("round %s is CLOSED: reopen it (ReopenRound) to record more", r.GetId())
	case assessmentv1.RoundState_ROUND_STATE_PUBLISHED:
		return fault.Preconditionf("round %s is PUBLISHED: its results are final; use CorrectPublishedAssessment with a reason", r.GetId())
	}
	return fault.Preconditionf("round %s is in state %v", r.GetId(), r.GetState())
}

// CheckCorrectable says whether a round takes CorrectPublishedAssessment.
func CheckCorrectable(r *assessmentv1.Round) error {
	if r.GetState() != assessmentv1.RoundState_ROUND_STATE_PUBLISHED {
		return fault.Preconditionf("round %s is %s, not PUBLISHED: use RecordAssessment", r.GetId(), stateName(r.GetState()))
	}
	return nil
}

// Close returns the round CLOSED; changed is false when it already was.
func Close(r *assessmentv1.Round, now time.Time) (next *assessmentv1.Round, changed bool, err error) {
	switch r.GetState() {
	case assessmentv1.RoundState_ROUND_STATE_CLOSED:
		return r, false, nil
	case assessmentv1.RoundState_ROUND_STATE_OPEN:
		next = proto.Clone(r).(*assessmentv1.Round)
		next.State = assessmentv1.RoundState_ROUND_STATE_CLOSED
		next.CloseTime = timestamppb.New(now)
		return next, true, nil
	}
	return nil, false, fault.Preconditionf("round %s is PUBLISHED and cannot be closed again", r.GetId())
}

// Reopen returns the round OPEN; changed is false when it already was.
func Reopen(r *assessmentv1.Round) (next *assessmentv1.Round, changed bool, err error) {
	switch r.GetState() {
	case assessmentv1.RoundState_ROUND_STATE_OPEN:
		return r, false, nil
	case assessmentv1.RoundState_ROUND_STATE_CLOSED:
		next = proto.Clone(r).(*assessmentv1.Round)
		next.State = assessmentv1.RoundState_ROUND_STATE_OPEN
		return next, true, nil
	}
	return nil, false, fault.Preconditionf("round %s is PUBLISHED: a published round is never reopened; use CorrectPublishedAssessment", r.GetId())
}

// Publish returns the round PUBLISHED. Publishing a published round is not
// an error (changed is false): it lets a publication that stopped halfway be
// finished by calling again.
func Publish(r *assessmentv1.Round, now time.Time) (next *assessmentv1.Round, changed bool, err error) {
	switch r.GetState() {
	case assessmentv1.RoundState_ROUND_STATE_PUBLISHED:
		return r, false, nil
	case assessmentv1.RoundState_ROUND_STATE_CLOSED:
		next = proto.Clone(r).(*assessmentv1.Round)
		next.State = assessmentv1.RoundState_ROUND_STATE_PUBLISHED
		next.PublishTime = timestamppb.New(now)
		return next, true, nil
	}
	return nil, false, fault.Preconditionf("round %s is OPEN: close it (CloseRound) before publishing, so no record arrives during publication", r.GetId())
}

func stateName(s assessmentv1.RoundState) string {
	switch s {
	case assessmentv1.RoundState_ROUND_STATE_OPEN:
		return "OPEN"
	case assessmentv1.RoundState_ROUND_STATE_CLOSED:
		return "CLOSED"
	case assessmentv1.RoundState_ROUND_STATE_PUBLISHED:
		return "PUBLISHED"
	}
	return s.String()
}
