package app

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

// SurveyKey names one unit's survey in one round.
type SurveyKey struct {
	RoundID, SchemeID string
	Year              int32
	UnitID            string
}

// SurveyDef and SurveyElement are a survey as stated (model.SurveyDef).
type (
	SurveyDef     = model.SurveyDef
	SurveyElement = model.SurveyElement
)

// SurveyAnswer is one response as stored: one byte per element (1-4) in
// the survey's order.
type SurveyAnswer struct {
	ResponseID, CollectionDate string
	Answers                    []byte
}

// ResponseDigest names a response's content as stored: its collection date
// and its answers. The profile is left out: it is kept apart, optional, and
// may be lost while the response stands.
type ResponseDigest [8]byte

// Digest is the response's content digest. A store derives it from what
// the log holds of a response, so the responses stored before digests were
// compared are compared too, with nothing added to the log.
func (a SurveyAnswer) Digest() ResponseDigest {
	h := sha256.New()
	h.Write([]byte(a.CollectionDate))
	h.Write([]byte{0})
	h.Write(a.Answers)
	var d ResponseDigest
	copy(d[:], h.Sum(nil))
	return d
}

// RespondentProfile is a response's optional profile: enum numbers of the
// contract, 0 for not given.
type RespondentProfile struct {
	AgeBand, Sex, Education, Occupation int32
}

// IsZero says whether nothing of the profile was given.
func (p RespondentProfile) IsZero() bool { return p == RespondentProfile{} }

// ProfiledResponse is a stored response's profile, by response id.
type ProfiledResponse struct {
	ResponseID string
	Profile    RespondentProfile
}

// SurveyIntake is a round's intake as read: whether responses are taken,
// and the position of its last marker, which a batch expects unchanged.
type SurveyIntake struct {
	Open     bool
	Position uint64
}

// SurveyUnitState is what a write to a unit must know: where its subject
// stands, its own survey (nil: the version's), and whether a response id is
// stored already, with the digest of what it holds (so that the same id
// sent again with other content is told from a harmless resend). It is
// complete up to Position.
type SurveyUnitState struct {
	Position uint64
	Def      *SurveyDef
	Stored   func(responseID string) (ResponseDigest, bool)
}

// SurveyWrite is the new responses of one unit in a batch, stored only if
// the unit's subject is still at Expect.
type SurveyWrite struct {
	Key       SurveyKey
	Expect    uint64
	Responses []SurveyAnswer
	Profiles  []ProfiledResponse
	// Synthetic marks made-up responses.
	Synthetic bool
}

// SurveyCounts is a unit's aggregate as the log gives it: per element the
// counts of answers 1-4, the respondents, the unit's own survey (nil: the
// version's), and the position of the last response counted.
type SurveyCounts struct {
	UnitID      string
	Position    uint64
	Respondents int64
	Counts      [][4]int64
	Def         *SurveyDef
	// Synthetic: some of the unit's responses are made up.
	Synthetic bool
}

// SurveyStore keeps survey responses. Responses live in the log; the
// counts are this replica's fold of it; nothing per response is held in
// memory beyond a bounded cache of recent units' response ids (with their
// content digests).
type SurveyStore interface {
	// SurveyIntake reads a round's intake.
	SurveyIntake(ctx context.Context, roundID, schemeID string, year int32) (SurveyIntake, error)
	// ChangeIntake opens or closes a round's intake; closing a closed
	// intake (or opening an open one) writes nothing. It returns the
	// position of the marker in force.
	ChangeIntake(ctx context.Context, roundID, schemeID string, year int32, open bool) (uint64, error)
	// SurveyUnit returns what a write to the unit must know; fresh reads
	// it from the log rather than from what this replica holds.
	SurveyUnit(ctx context.Context, key SurveyKey, fresh bool) (SurveyUnitState, error)
	// StoreSurveyBatch stores every write and the batch's end as one atomic
	// batch, expecting the intake at intake.Position: all, or nothing.
	// ErrBatchMoved when a unit or the intake moved (read them again). It
	// returns the position of the batch's last message.
	StoreSurveyBatch(ctx context.Context, intake SurveyIntake, writes []SurveyWrite, by string) (uint64, error)
	// DefineUnitSurvey stores a unit's own survey as the first message of
	// its subject; the survey stored and whether this call stored it.
	// fault.Precondition when the unit has responses already.
	DefineUnitSurvey(ctx context.Context, key SurveyKey, def SurveyDef, by string) (SurveyDef, bool, error)
	// SurveyCounts returns a unit's counts in a round (false: none).
	SurveyCounts(roundID, unitID string) (SurveyCounts, bool)
	// SurveyUnits returns the units of a round with a survey or responses,
	// by id, after the id after, at most limit, and whether more follow.
	SurveyUnits(roundID, after string, limit int) ([]string, bool)
	// SurveyRounds returns the rounds with survey data.
	SurveyRounds() []string
	// SyncSurveys waits until the counts hold everything stored before the
	// call.
	SyncSurveys(ctx context.Context) error
	// WaitSurveys waits until the counts hold position (a caller's own
	// writes).
	WaitSurveys(ctx context.Context, position uint64) error
}

// SurveyRecordEvery is how often, at most, a unit's survey record is
// rewritten while responses arrive.
const SurveyRecordEvery = time.Minute
