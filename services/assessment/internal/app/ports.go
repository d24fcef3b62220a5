// Package app is the assessment service's application layer: one type per
// use case, each over the small ports below. Commands and results are plain
// Go values (package model), so the use cases are tested with fakes of the
// ports, and the wire and storage forms stay at the edges.
package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
)

// ErrRoundMoved is what an append returns when the round changed after the
// caller read it (its fence): the caller reads the round again and decides
// again, since the change may have closed it.
var ErrRoundMoved = errors.New("round changed since it was read")

// ErrBatchMoved is what a batch append returns when a record of it moved
// while the batch was stored (another write to its subject, or the batch
// itself committed once already with its answer lost): the caller reads
// the records again and decides again.
var ErrBatchMoved = errors.New("a record of the batch moved while it was stored")

// RecordKey names one institution's record in the round of a scheme and year.
type RecordKey struct {
	SchemeID      string
	Year          int32
	InstitutionID string
}

// Tip is the latest revision of a record as read and its position in
// storage, which an append expects unchanged. It may be read from this
// replica's view, which can be behind: the append's expected position then
// fails and the store decides again on the record as stored.
type Tip struct {
	// Revision is the latest revision that counts (0: no record yet).
	Revision uint64
	// Position is where the record's last write sits in storage.
	Position uint64
	// Same is that latest revision when the request asked about stored it
	// (a retry), nil otherwise.
	Same *model.Assessment
	// Synthetic says whether the latest revision is synthetic data (a
	// correction of it stays synthetic).
	Synthetic bool
}

// RecordFilter selects records of a round by what a listing filters on;
// zero fields match all.
type RecordFilter struct {
	Kinds        []model.Kind
	ProvinceCode string
	// BandCodes are upper case; a record's band matches in any case.
	BandCodes []string
	Bases     []model.Basis
}

// Keep says whether a record of that kind, province, band and basis passes.
func (f RecordFilter) Keep(kind model.Kind, provinceCode, bandCode string, basis model.Basis) bool {
	return (len(f.Kinds) == 0 || slices.Contains(f.Kinds, kind)) &&
		(f.ProvinceCode == "" || provinceCode == f.ProvinceCode) &&
		(len(f.BandCodes) == 0 || slices.Contains(f.BandCodes, strings.ToUpper(bandCode))) &&
		(len(f.Bases) == 0 || slices.Contains(f.Bases, basis))
}

// Append asks to store Assessment as the next revision after Tip, if the
// record is at CorrectsRevision and the round still is at Fence.Revision.
type Append struct {
	Assessment       model.Assessment
	CorrectsRevision uint64
	Tip              Tip
	Fence            model.Round
}

// Correction announces a correction of a published round.
type Correction struct {
	EventID                      string
	Round                        model.Round
	InstitutionID                string
	Previous, Current            *model.Assessment
	Reason, CorrectedBy          string
	AwardsGranted, AwardsRevoked []string
}

// RoundStore keeps rounds.
type RoundStore interface {
	// Round returns a round as stored (no counts), with its revision.
	Round(ctx context.Context, id string) (model.Round, error)
	// CachedRound returns a round as this replica last saw it (no counts),
	// with its revision: maybe behind the stored one, never older than a
	// Round this replica read or a transition it made. A decision on it
	// holds because an append checks its round revision after the write;
	// a refusal must not rest on it alone.
	CachedRound(ctx context.Context, id string) (model.Round, error)
	// RoundWithCounts returns a round with its counts.
	RoundWithCounts(ctx context.Context, id string) (model.Round, error)
	CreateRound(ctx context.Context, r model.Round) (model.Round, error)
	ListRounds(ctx context.Context, keep func(model.Round) bool) ([]model.Round, error)
	// Transition applies a state change with compare-and-set and announces
	// it; changed is false when the round already was in that state.
	Transition(ctx context.Context, id, reason string, apply func(model.Round) (model.Round, bool, error)) (r model.Round, changed bool, err error)
	// SavePublication keeps what a publication asked for (ceremony,
	// presenter), so one cut short can be finished later.
	SavePublication(ctx context.Context, p PublishRound) error
	// Publication returns what the last publication of a round asked for
	// (nil: nothing kept).
	Publication(ctx context.Context, roundID string) (*PublishRound, error)
	// Announce announces a publication exactly once, with the number of
	// rule awards it granted.
	Announce(ctx context.Context, r model.Round, awardCount int32) error
	// Announced says whether a publication was announced.
	Announced(ctx context.Context, r model.Round) (bool, error)
}

// AssessmentStore keeps records and their revisions.
type AssessmentStore interface {
	// Tip returns the latest revision of a record for a decision on round
	// r, and the stored revision itself when requestID stored it. Unless
	// fresh, it may come from this replica's view (see Tip).
	Tip(ctx context.Context, key RecordKey, r model.Round, requestID string, fresh bool) (Tip, error)
	// FindRequest returns the revision a request id stored, or nil.
	FindRequest(ctx context.Context, key RecordKey, requestID string) (*model.Assessment, error)
	// Append stores a revision exactly once per request id; created is
	// false when it returns what the request stored before.
	Append(ctx context.Context, a Append) (stored *model.Assessment, created bool, err error)
	// AppendBatch stores revisions of one round, each the next after its
	// Tip (a first one when the Tip has none), as one atomic batch: all,
	// or none. ErrRoundMoved when the round left fence; fault.Conflict
	// when a record moved meanwhile.
	AppendBatch(ctx context.Context, as []Append, fence model.Round) ([]*model.Assessment, error)
	// LatestIs says whether, as this replica's view has it, the latest
	// revision of the record was stored under requestID, and which
	// revision that is: a question asked of every unit on every pass of
	// the survey records, answered without reading the stream.
	LatestIs(key RecordKey, roundID, requestID string) (revision uint64, ok bool)
	// SurveyRecorded is the survey position of the latest survey record
	// of the record this replica's view saw (0: none): what the service's
	// survey records never go back before.
	SurveyRecorded(key RecordKey, roundID string) uint64
	// Assessment returns the latest revision (0) or a given one.
	Assessment(ctx context.Context, key RecordKey, roundID string, revision uint64) (*model.Assessment, error)
	Revisions(ctx context.Context, key RecordKey, after uint64, limit int) ([]*model.Assessment, bool, error)
	// Records returns the latest records of a round passing f, ordered by
	// institution id after the id after, at most limit, and whether more
	// follow.
	Records(ctx context.Context, roundID, after string, limit int, f RecordFilter) ([]*model.Assessment, bool, error)
	// History returns an institution's latest record in every round.
	History(ctx context.Context, institutionID string) ([]*model.Assessment, error)
	// Frozen returns the latest record of every institution in a round,
	// complete as of the call.
	Frozen(ctx context.Context, r model.Round) ([]*model.Assessment, error)
	PublishCorrected(ctx context.Context, c Correction) error
	// CatchUp waits until this replica's view holds every record of the
	// round stored before the call (another replica's too).
	CatchUp(ctx context.Context, r model.Round) error
}

// AwardStore keeps awards.
type AwardStore interface {
	// Grant stores an award exactly once by id; created says whether this
	// call was the one.
	Grant(ctx context.Context, a model.Award) (stored *model.Award, created bool, err error)
	// GrantAll grants rule awards as Grant does, in as few writes as it
	// can, telling each one to each in order; an error from each stops it.
	GrantAll(ctx context.Context, awards []model.Award, each func(stored *model.Award, created bool) error) error
	Revoke(ctx context.Context, id, reason, actor string) (*model.Award, error)
	// SyncAwards waits until the award view holds every stored award.
	SyncAwards(ctx context.Context) error
	Award(id string) (*model.Award, error)
	Awards(after string, limit int, keep func(*model.Award) bool) ([]*model.Award, bool)
}

// Store is all the service keeps.
type Store interface {
	RoundStore
	AssessmentStore
	AwardStore
	SchemeStore
	ObjectionStore
	CeremonyStore
}

// SchemeStore keeps the scheme versions registered at run time.
type SchemeStore interface {
	// RegisterScheme stores v once: false when the same version with the
	// same content is stored already; fault.Exists for other content.
	RegisterScheme(ctx context.Context, v *scheme.Version) (bool, error)
}

// Registry answers institution and region lookups.
type Registry interface {
	Institution(ctx context.Context, id string) (model.Institution, error)
	Region(ctx context.Context, code string) (model.Region, error)
}

// Clock tells the time of round transitions.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }
