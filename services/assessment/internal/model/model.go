// Package model holds the assessment service's records as plain Go values:
// what the application layer and the pure domain packages decide on. The
// wire (protobuf) forms are translated at the edges, in the gRPC handlers
// and in the storage adapter, so nothing here depends on generated code.
package model

import (
	"strconv"
	"strings"
	"time"
)

// Enumerations carry the numbers of their wire enums, so translating one is
// a conversion, never a lookup table that could fall out of step.
type (
	// Kind is an institution kind (registry numbering).
	Kind int32
	// RoundState is where a round is in its life.
	RoundState int32
	// Basis says what an assessment's result rests on.
	Basis int32
	// BandZone is the colour zone of a band.
	BandZone int32
	// AwardBasisKind says why an award was given.
	AwardBasisKind int32
	// AwardState is GRANTED or REVOKED.
	AwardState int32
)

// Round states.
const (
	RoundOpen      RoundState = 1
	RoundClosed    RoundState = 2
	RoundPublished RoundState = 3
)

// Assessment bases.
const (
	BasisComputed      Basis = 1
	BasisReportedTotal Basis = 2
	BasisReportedBand  Basis = 3
	// BasisDerived is a roll-up of units' results.
	BasisDerived Basis = 4
	// BasisSurvey is computed from the unit's survey responses.
	BasisSurvey Basis = 5
)

// Award basis kinds and states.
const (
	AwardBasisManual AwardBasisKind = 4
	AwardGranted     AwardState     = 1
	AwardRevoked     AwardState     = 2
)

// Round is one round of a scheme in a year. Revision is the storage
// revision it was read at: the fence a write depending on its state holds.
type Round struct {
	ID, SchemeID, SchemeVersion           string
	Year                                  int32
	Title, CollectionStart, CollectionEnd string
	State                                 RoundState
	AssessmentCount, RevisionCount        int32
	CorrectionCount, AwardCount           int32
	SchemeProvisional                     bool
	Notes, CreatedBy                      string
	CreateTime, CloseTime, PublishTime    time.Time
	// PublishForceReason says why it was published while objections were
	// open or a window ran.
	PublishForceReason string
	// Who last closed, last reopened (when and why) and published it: the
	// authenticated principals; empty where it never happened or happened
	// before they were kept.
	ClosedBy, ReopenedBy, ReopenReason, PublishedBy string
	ReopenTime                                      time.Time
	Revision                                        uint64
}

// Head is who leads an institution for a term (ISO dates, "" when open).
type Head struct {
	Name, Title, TermStart, TermEnd string
}

// InstitutionSnapshot is an institution as the registry described it when a
// record or award was made.
type InstitutionSnapshot struct {
	ID, Name               string
	Kind                   Kind
	RegionCode, RegionName string
	ProvinceCode           string
	ProvinceName, ParentID string
	Head                   *Head
	RegistryRevision       uint64
}

// Source says where a published figure comes from.
type Source struct {
	Title, Publisher, URL, PublishedDate, Note string
}

// DimensionScore is the score of one dimension.
type DimensionScore struct{ Code, Score string }

// Adjustment is one adjustment applied to a weighted total.
type Adjustment struct{ Code, Amount, Reason string }

// Input is what a caller knows of an institution's result: dimension scores
// (HasScores), a reported total or a reported band.
type Input struct {
	HasScores       bool
	DimensionScores []DimensionScore
	ReportedTotal   string
	ReportedBand    string
	Adjustments     []Adjustment
	Respondents     int32
	Notes           string
	Source          *Source
	// Synthetic marks made-up data (a demo fill, a test): it ranks, but
	// never earns an award.
	Synthetic bool
	// ImprovementNotes is the report card; FollowUps says which notes of
	// the previous assessment were addressed.
	ImprovementNotes []ImprovementNote
	FollowUps        []NoteFollowUp
}

// ImprovementNote is one line of a report card; ID is the service's
// ("<round_id>/<n>").
type ImprovementNote struct{ ID, DimensionCode, Note string }

// NoteFollowUp says whether an earlier note was addressed; Note is that
// note, filled in by the service.
type NoteFollowUp struct {
	NoteID    string
	Addressed bool
	Comment   string
	Note      *ImprovementNote
}

// RollupMethod is how a roll-up combines its units, numbered as in the API.
type RollupMethod int32

// Roll-up methods.
const (
	RollupMean         RollupMethod = 1
	RollupWeightedMean RollupMethod = 2
	RollupMinimum      RollupMethod = 3
)

// RollupUnit is one unit's result a roll-up read.
type RollupUnit struct {
	InstitutionID string
	Revision      uint64
	Total         string
	Respondents   int32
}

// Rollup is how a DERIVED record was computed.
type Rollup struct {
	RuleCode string
	Method   RollupMethod
	Units    []RollupUnit
}

// Result is a computed assessment: what scoring decides.
type Result struct {
	Basis           Basis
	DimensionScores []DimensionScore
	WeightedTotal   string
	Adjustments     []Adjustment
	Total           string
	BandCode        string
	BandLabel       string
	BandZone        BandZone
}

// Assessment is one revision of an institution's record in a round.
type Assessment struct {
	RoundID, SchemeID, SchemeVersion string
	Year                             int32
	InstitutionID                    string
	Institution                      InstitutionSnapshot
	Result
	Respondents      int32
	Notes            string
	Source           *Source
	Revision         uint64
	Reason           string
	AfterPublication bool
	RequestID        string
	// RequestFingerprint is the digest of the request that stored this
	// revision; "" for one stored before digests were kept.
	RequestFingerprint string
	RecordedBy         string
	RecordTime         time.Time
	// ObjectionID is the objection whose acceptance made this revision.
	ObjectionID string
	// Synthetic marks made-up data: never an award.
	Synthetic        bool
	ImprovementNotes []ImprovementNote
	FollowUps        []NoteFollowUp
	// Rollup is set on a DERIVED record.
	Rollup *Rollup
}

// ObjectionState is where an objection is.
type ObjectionState int32

// Objection states, numbered as in the API.
const (
	ObjectionOpen     ObjectionState = 1
	ObjectionAccepted ObjectionState = 2
	ObjectionRejected ObjectionState = 3
)

// String names the state as the API does.
func (s ObjectionState) String() string {
	switch s {
	case ObjectionOpen:
		return "OPEN"
	case ObjectionAccepted:
		return "ACCEPTED"
	case ObjectionRejected:
		return "REJECTED"
	}
	return "UNSPECIFIED"
}

// Objection is an institution's objection to its provisional result.
type Objection struct {
	ID, RoundID, SchemeID         string
	Year                          int32
	InstitutionID                 string
	InstitutionName               string
	AgainstRevision               uint64
	AgainstTotal, AgainstBandCode string
	Reasons                       string
	Evidence                      []string
	State                         ObjectionState
	FiledBy                       string
	FileTime                      time.Time
	WindowEnd                     time.Time
	WindowEndLocal                string
	DecidedBy                     string
	DecideTime                    time.Time
	DecisionReasons               string
	CorrectionRevision            uint64
	CorrectedTotal                string
	CorrectedBandCode             string
	// The requests that filed and decided it, with their fingerprints: a
	// retry gets the first answer, another request under the same id is
	// refused.
	FileRequestID, FileFingerprint     string
	DecideRequestID, DecideFingerprint string
	// Position is where its last message sits on its subject (the
	// decision expects the filing there).
	Position uint64
}

// Ceremony is where and when an award is presented.
type Ceremony struct{ Name, Place, Date string }

// PresentedBy is who presents an award.
type PresentedBy struct{ Name, Office string }

// AwardBasis is why an award was given.
type AwardBasis struct {
	Kind                     AwardBasisKind
	RuleCode, Score          string
	BandCode, BandLabel      string
	BandZone                 BandZone
	Rank, OutOf              int32
	PeerGroup, PeerGroupName string
	Scope, ScopeName         string
	AssessmentRevision       uint64
}

// Award is an award granted to an institution, by a rule or by hand.
type Award struct {
	ID, RoundID, SchemeID, SchemeVersion string
	Year                                 int32
	Institution                          InstitutionSnapshot
	Basis                                AwardBasis
	Title                                string
	Ceremony                             *Ceremony
	PresentedBy                          *PresentedBy
	State                                AwardState
	RevokeReason, Notes                  string
	Source                               *Source
	RequestID, GrantedBy, RevokedBy      string
	// RequestFingerprint is the digest of the GrantAward request that
	// granted it; "" for a rule award or one granted before digests were
	// kept.
	RequestFingerprint    string
	GrantTime, RevokeTime time.Time
}

// Institution is the registry's current description of an institution.
type Institution struct {
	ID, Name, RegionCode, ParentID string
	Kind                           Kind
	Retired                        bool
	RetireReason                   string
	Head                           *Head
	PastHeads                      []Head
	Revision                       uint64
	// YearlyServiceUsers is a service unit's population for the survey's
	// sample check; 0 when unknown.
	YearlyServiceUsers int64
}

// Region is one region of the registry; ProvinceCode is "" for a province.
type Region struct{ Code, Name, ProvinceCode string }

// String is the state as the contract names it: OPEN, CLOSED, PUBLISHED.
func (s RoundState) String() string {
	switch s {
	case RoundOpen:
		return "OPEN"
	case RoundClosed:
		return "CLOSED"
	case RoundPublished:
		return "PUBLISHED"
	}
	return "ROUND_STATE_UNSPECIFIED"
}

// CeremonyState is PLANNED or HELD.
type CeremonyState int32

// Ceremony states.
const (
	CeremonyPlanned CeremonyState = 1
	CeremonyHeld    CeremonyState = 2
)

// String is the state as the contract names it: PLANNED, HELD.
func (s CeremonyState) String() string {
	switch s {
	case CeremonyPlanned:
		return "PLANNED"
	case CeremonyHeld:
		return "HELD"
	}
	return "CEREMONY_STATE_UNSPECIFIED"
}

// CeremonyAward is an award as it stood when presented at a ceremony.
type CeremonyAward struct {
	AwardID, InstitutionID, InstitutionName, Title string
	SchemeID                                       string
	Year                                           int32
	Score, BandCode, BandLabel, ProvinceCode       string
}

// AwardCeremony is an award ceremony kept as a record of its own: planned,
// then held with the awards presented at it.
type AwardCeremony struct {
	ID, Name, Place, Date string
	// ProvinceCode is where it is held ("00": national).
	ProvinceCode, Host string
	Presenter          *PresentedBy
	Notes              string
	State              CeremonyState
	CreatedBy          string
	CreateTime         time.Time
	Awards             []CeremonyAward
	HeldBy             string
	HoldTime           time.Time
	// The requests that created and held it, with their fingerprints: a
	// retry gets the first answer, another request under the same id is
	// refused.
	RequestID, CreateFingerprint   string
	HoldRequestID, HoldFingerprint string
	// Revision is the storage revision it was read at: the hold expects it
	// unchanged.
	Revision uint64
}

// SurveyDef is a survey as stated: its elements in the order answers come,
// each weight as written ("0.111", "1/9").
type SurveyDef struct {
	Elements []SurveyElement
}

// SurveyElement is one element of a SurveyDef.
type SurveyElement struct {
	Code, Weight, Name string
}

// surveyRequestPrefix starts the request id of a record the service wrote
// from a unit's survey: "survey:<position>", the survey log position of
// the last response it counts.
const surveyRequestPrefix = "survey:"

// SurveyRequestID is the request id of the survey record of a unit's
// counts at position.
func SurveyRequestID(position uint64) string {
	return surveyRequestPrefix + strconv.FormatUint(position, 10)
}

// SurveyPosition is the position a survey record was computed at; false
// for any other record.
func SurveyPosition(basis Basis, requestID string) (uint64, bool) {
	rest, ok := strings.CutPrefix(requestID, surveyRequestPrefix)
	if basis != BasisSurvey || !ok {
		return 0, false
	}
	p, err := strconv.ParseUint(rest, 10, 64)
	return p, err == nil
}
