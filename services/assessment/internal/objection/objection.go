// Package objection holds the rules of objections (sanggahan) to
// provisional results: when one may be filed, who may decide it, and what a
// publication waits for. It is pure: the store keeps what these functions
// decide, and the caller supplies the time and the window's end.
package objection

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

// idEncoding is lower-case base32 without padding: the alphabet a-z2-7
// keeps ids NATS-subject safe and readable aloud.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ID is the id of the objection a filing request makes: derived from the
// round, the institution and the request id, so a retried filing names the
// same objection and can be stored only once (its subject's first message).
func ID(roundID, institutionID, requestID string) string {
	h := sha256.Sum256([]byte("predikat-objection\x00" + roundID + "\x00" + institutionID + "\x00" + requestID))
	return "obj-" + idEncoding.EncodeToString(h[:])[:16]
}

// Window is an institution's objection window: when it ends, and the same
// instant as its province's local time ("2025-03-12 24:00 WITA").
type Window struct {
	End   time.Time
	Local string
}

// CheckFileable says whether an objection to a result in round r may be
// filed at now: the round CLOSED (results provisional and final figures
// not yet published), its version taking objections (days > 0), and the
// institution's window running.
func CheckFileable(r model.Round, days int32, w Window, now time.Time, institutionID string) error {
	switch r.State {
	case model.RoundOpen:
		return fault.Preconditionf("round %s is OPEN: objections are filed against provisional results, after the round closes", r.ID)
	case model.RoundPublished:
		return fault.Preconditionf("round %s is PUBLISHED: its results are final and objections closed", r.ID)
	case model.RoundClosed:
	default:
		return fault.Preconditionf("round %s is in state %s", r.ID, r.State)
	}
	if days <= 0 {
		return fault.Preconditionf("scheme %s version %s takes no objections", r.SchemeID, r.SchemeVersion)
	}
	if !now.Before(w.End) {
		return fault.Preconditionf("the objection window of %s in round %s ended %s (%d working days after the close)", institutionID, r.ID, w.Local, days)
	}
	return nil
}

// CheckAgainst says whether an objection names the latest revision of the
// record: one filed against a result that has since changed would object
// to something no longer shown.
func CheckAgainst(against uint64, latest *model.Assessment, roundID, institutionID string) (uint64, error) {
	if latest == nil {
		return 0, fault.Preconditionf("%s has no result in round %s to object to", institutionID, roundID)
	}
	if against != 0 && against != latest.Revision {
		return 0, fault.Conflictf("the result of %s in round %s is at revision %d, not %d: read it again (GetAssessment) and object to revision %d",
			institutionID, roundID, latest.Revision, against, latest.Revision)
	}
	return latest.Revision, nil
}

// CheckDecidable says whether reviewer may decide o now: it is OPEN, and the
// reviewer recorded none of the record's revisions (one who assessed a
// result never judges the objection to it).
func CheckDecidable(o model.Objection, reviewer string, revisions []*model.Assessment) error {
	if o.State != model.ObjectionOpen {
		return fault.Preconditionf("objection %s was already %s by %s", o.ID, o.State, o.DecidedBy)
	}
	for _, a := range revisions {
		// This objection's own correction, stored by a decision cut short
		// before it was recorded, is the reviewer's, not an assessment.
		if a.ObjectionID == o.ID {
			continue
		}
		if a.RecordedBy == reviewer {
			return fault.Deniedf("%s recorded revision %d of the result of %s in round %s, and so may not decide objection %s to it: another reviewer decides",
				reviewer, a.Revision, o.InstitutionID, o.RoundID, o.ID)
		}
	}
	return nil
}

// Decide returns o decided by reviewer at now; correction is the revision
// an acceptance stored (nil for a rejection).
func Decide(o model.Objection, state model.ObjectionState, reviewer, reasons string, now time.Time, correction *model.Assessment) model.Objection {
	o.State, o.DecidedBy, o.DecisionReasons, o.DecideTime = state, reviewer, reasons, now
	if correction != nil {
		o.CorrectionRevision = correction.Revision
		o.CorrectedTotal, o.CorrectedBandCode = correction.Total, correction.BandCode
	}
	return o
}

// Complete returns an accepted objection with the correction its
// acceptance stored.
func Complete(o model.Objection, correction *model.Assessment) model.Objection {
	o.CorrectionRevision = correction.Revision
	o.CorrectedTotal, o.CorrectedBandCode = correction.Total, correction.BandCode
	return o
}

// Pending says whether an objection still holds up a publication: OPEN, or
// accepted with its correction not stored yet (a decision a stop cut
// short, finished by sending it again).
func Pending(o model.Objection) bool {
	return o.State == model.ObjectionOpen || (o.State == model.ObjectionAccepted && o.CorrectionRevision == 0)
}

// CorrectionReason is the reason stored on the revision an accepted
// objection makes.
func CorrectionReason(o model.Objection, reasons string) string {
	return fmt.Sprintf("objection %s accepted: %s", o.ID, reasons)
}

// CorrectionRequestID is the request id of the revision an accepted
// objection makes: one per objection, so a retried decision stores it once.
func CorrectionRequestID(objectionID string) string { return "objection:" + objectionID }

// CheckPublishable says whether round r may be published at now: no
// objection OPEN and every institution's window ended (last, the end of
// the latest one; zero when the version takes none). A force reason
// publishes anyway; it is kept with the round.
func CheckPublishable(r model.Round, open []model.Objection, last Window, now time.Time, forceReason string) error {
	if forceReason != "" {
		return nil
	}
	if len(open) > 0 {
		ids := make([]string, 0, len(open))
		for _, o := range open {
			ids = append(ids, o.ID+" ("+o.InstitutionID+")")
		}
		sort.Strings(ids)
		if len(ids) > 5 {
			ids = append(ids[:5], fmt.Sprintf("and %d more", len(open)-5))
		}
		return fault.Preconditionf("round %s has %d open objection(s): %s; decide them (DecideObjection; an acceptance cut short is finished by sending it again), or publish with force_reason",
			r.ID, len(open), strings.Join(ids, ", "))
	}
	if !last.End.IsZero() && now.Before(last.End) {
		return fault.Preconditionf("the objection window of round %s runs until %s: publish after it, or with force_reason", r.ID, last.Local)
	}
	return nil
}
