package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/predikat-id/predikat/pkg/decimal"
	"github.com/predikat-id/predikat/pkg/events"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/calendar"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
	"github.com/predikat-id/predikat/services/assessment/internal/scoring"
	"github.com/predikat-id/predikat/services/assessment/internal/skm"
)

// Surveys are the citizen satisfaction survey use cases: responses taken
// in batches and stored once per unit and response id (SurveySession), a
// unit's own survey, results computed exactly from the counts, and the
// unit's SKM record written from its result by the service, at most once a
// minute while responses arrive and once more when the round closes.
type Surveys struct {
	catalog  *scheme.Catalog
	store    Store
	surveys  SurveyStore
	registry Registry
	clock    Clock
	// ro gives who records (the service).
	ro *rollups
	// report hears a unit's record that failed for a lasting reason.
	report func(error)
	// pass lets one pass of records run at a time on this replica: the
	// ticker's and the close's final one never interleave.
	pass sync.Mutex
	// recorded is when (by the service's clock) this replica last wrote
	// each unit's record, by round and unit: the minute between two
	// writes. A restart forgets it, so a unit whose responses moved is
	// written once at once after a restart.
	mu       sync.Mutex
	recorded map[string]lastRecord
}

// EnableSurveys wires the survey use cases over ss; a service without them
// takes no survey responses. Closing and reopening a round then close and
// reopen its intake.
func (a *App) EnableSurveys(ss SurveyStore) *Surveys {
	sv := &Surveys{catalog: a.rollups.catalog, store: a.rollups.store, surveys: ss, registry: a.rollups.registry, clock: a.CloseRound.clock, ro: a.rollups,
		recorded: map[string]lastRecord{}}
	a.Surveys = sv
	a.CloseRound.surveys = sv
	a.ReopenRound.surveys = sv
	return sv
}

// Limits of one batch: a unit's message stays well under NATS's 1 MB
// payload (a response is about 40-100 bytes), a batch under the server's
// 1000 messages.
const (
	maxUnitResponses  = 2000
	maxBatchUnits     = 500
	maxBatchResponses = 10000
	maxSurveyTries    = 4
	// MaxRefusalsListed is how many refusals an answer lists; all are
	// counted.
	MaxRefusalsListed = 1000
)

// SurveyChunk is one message of a submission: responses of one unit.
type SurveyChunk struct {
	RoundID, UnitID string
	Responses       []SurveyInput
	// Synthetic marks made-up responses (a demo, a test).
	Synthetic bool
}

// SurveyInput is one response as sent.
type SurveyInput struct {
	ResponseID, CollectionDate string
	Answers                    []uint32
	// Elements are the element codes the caller gave its answers for, in
	// order; nil when it named none (then the survey's order is assumed).
	Elements []string
	Profile  RespondentProfile
	// Invalid is the wire check's refusal ("" when the response passed it).
	Invalid string
}

// SurveyRefusal says why one response was refused.
type SurveyRefusal struct {
	Index                      int64
	UnitID, ResponseID, Reason string
}

// SubmitResult is the answer to a whole submission.
type SubmitResult struct {
	Accepted, Duplicates, Refused int64
	Refusals                      []SurveyRefusal
}

// SurveySession takes one submission: chunks in, batches stored as they
// fill, the totals at the end. Not safe for concurrent use.
type SurveySession struct {
	sv      *Surveys
	by      string
	rounds  map[string]surveyRound
	units   map[SurveyKey]*pendingUnit
	order   []SurveyKey
	pending int
	next    int64
	res     SubmitResult
	// last is the position of the last batch stored: the answer waits for
	// the counts to hold it, so a caller reads its own responses.
	last uint64
}

type surveyRound struct {
	round   model.Round
	version *scheme.Version
	survey  skm.Survey
}

type pendingUnit struct {
	key       SurveyKey
	responses []pendingResponse
	// synthetic: a chunk of made-up responses is among them; the whole
	// write is then marked, so the unit's result never earns an award.
	synthetic bool
}

type pendingResponse struct {
	index   int64
	answer  SurveyAnswer
	profile RespondentProfile
	// elements the caller named for the answers (nil: none named).
	elements []string
}

// Begin starts a submission by the authenticated principal by.
func (sv *Surveys) Begin(by string) *SurveySession {
	return &SurveySession{sv: sv, by: by, rounds: map[string]surveyRound{}, units: map[SurveyKey]*pendingUnit{}}
}

// Add takes one chunk: responses that fail a check on their own are
// refused now, the others wait for the batch (stored when it fills, or at
// Finish). An error ends the submission (a round that takes no responses,
// storage unavailable); what was stored before it stays stored.
func (s *SurveySession) Add(ctx context.Context, c SurveyChunk) error {
	sr, err := s.round(ctx, c.RoundID)
	if err != nil {
		return err
	}
	key := SurveyKey{RoundID: c.RoundID, SchemeID: sr.round.SchemeID, Year: sr.round.Year, UnitID: c.UnitID}
	zone, unitErr := s.sv.unit(ctx, sr, c.UnitID)
	if unitErr != nil && !fault.Is(unitErr, fault.NotFound) && !fault.Is(unitErr, fault.Precondition) {
		return unitErr
	}
	var today calendar.Date
	if unitErr == nil {
		today = calendar.DateIn(s.sv.clock.Now(), zone.Location())
	}
	for _, in := range c.Responses {
		index := s.next
		s.next++
		reason := in.Invalid
		if reason == "" && unitErr != nil {
			reason = unitErr.Error()
		}
		if reason == "" {
			reason = checkCollectionDate(in.CollectionDate, sr.round.Year, today, zone)
		}
		if reason != "" {
			s.refuse(index, c.UnitID, in.ResponseID, reason)
			continue
		}
		if err := s.queue(ctx, key, index, in, c.Synthetic); err != nil {
			return err
		}
	}
	return nil
}

// queue adds a response that passed its own checks to the batch, and
// stores the batch when it is full.
func (s *SurveySession) queue(ctx context.Context, key SurveyKey, index int64, in SurveyInput, synthetic bool) error {
	pu := s.units[key]
	if pu == nil {
		pu = &pendingUnit{key: key}
		s.units[key] = pu
		s.order = append(s.order, key)
	}
	pu.synthetic = pu.synthetic || synthetic
	ans := make([]byte, len(in.Answers))
	for i, a := range in.Answers {
		ans[i] = byte(a) // 1-4, checked on the wire
	}
	pu.responses = append(pu.responses, pendingResponse{index: index,
		answer: SurveyAnswer{ResponseID: in.ResponseID, CollectionDate: in.CollectionDate, Answers: ans}, profile: in.Profile, elements: in.Elements})
	s.pending++
	if len(pu.responses) >= maxUnitResponses || len(s.units) >= maxBatchUnits || s.pending >= maxBatchResponses {
		return s.flush(ctx)
	}
	return nil
}

// Finish stores what is left and answers the whole submission.
func (s *SurveySession) Finish(ctx context.Context) (SubmitResult, error) {
	if err := s.flush(ctx); err != nil {
		return SubmitResult{}, err
	}
	if s.last > 0 {
		if err := s.sv.surveys.WaitSurveys(ctx, s.last); err != nil {
			return SubmitResult{}, err
		}
	}
	s.trimRefusals()
	return s.res, nil
}

// refuse counts a refusal and keeps it if it is among the first
// MaxRefusalsListed by index: a response's own checks refuse it when it
// arrives, its unit's survey only when its batch is decided, so refusals
// arrive out of order.
func (s *SurveySession) refuse(index int64, unitID, responseID, reason string) {
	s.res.Refused++
	s.res.Refusals = append(s.res.Refusals, SurveyRefusal{Index: index, UnitID: unitID, ResponseID: responseID, Reason: reason})
	if len(s.res.Refusals) >= 2*MaxRefusalsListed {
		s.trimRefusals()
	}
}

// trimRefusals keeps the first MaxRefusalsListed refusals by index.
func (s *SurveySession) trimRefusals() {
	slices.SortFunc(s.res.Refusals, func(a, b SurveyRefusal) int { return cmp.Compare(a.Index, b.Index) })
	if len(s.res.Refusals) > MaxRefusalsListed {
		s.res.Refusals = s.res.Refusals[:MaxRefusalsListed]
	}
}

// round reads a round once per submission: one with a survey, OPEN.
func (s *SurveySession) round(ctx context.Context, id string) (surveyRound, error) {
	if sr, ok := s.rounds[id]; ok {
		return sr, nil
	}
	sr, err := s.sv.surveyRound(ctx, id)
	if err != nil {
		return surveyRound{}, err
	}
	if sr.round.State != model.RoundOpen {
		return surveyRound{}, fault.Preconditionf("round %s is %s: survey responses are taken while it is OPEN", id, sr.round.State)
	}
	s.rounds[id] = sr
	return sr, nil
}

// flush stores the pending responses, one batch per round.
func (s *SurveySession) flush(ctx context.Context) error {
	byRound := map[string][]*pendingUnit{}
	var roundOrder []string
	for _, k := range s.order {
		if _, seen := byRound[k.RoundID]; !seen {
			roundOrder = append(roundOrder, k.RoundID)
		}
		byRound[k.RoundID] = append(byRound[k.RoundID], s.units[k])
	}
	for _, id := range roundOrder {
		if err := s.store(ctx, s.rounds[id], byRound[id]); err != nil {
			return err
		}
	}
	s.units, s.order, s.pending = map[SurveyKey]*pendingUnit{}, nil, 0
	return nil
}

// store decides and stores one round's pending units as one batch: each
// response new to its unit is written, one the unit has (or this batch has
// twice) is a duplicate, one that does not fit the unit's survey refused.
// A unit or the intake moving meanwhile makes it read and decide again, so
// the outcome is counted only for the batch that landed.
func (s *SurveySession) store(ctx context.Context, sr surveyRound, units []*pendingUnit) error {
	for try := range maxSurveyTries {
		intake, err := s.sv.surveys.SurveyIntake(ctx, sr.round.ID, sr.round.SchemeID, sr.round.Year)
		if err != nil {
			return err
		}
		if !intake.Open {
			return fault.Preconditionf("the survey intake of round %s is closed (the round is closing): responses are taken while it is OPEN", sr.round.ID)
		}
		var out SubmitResult
		var writes []SurveyWrite
		for _, pu := range units {
			st, err := s.sv.surveys.SurveyUnit(ctx, pu.key, try > 0)
			if err != nil {
				return err
			}
			w, err := decideUnit(sr, pu, st, &out)
			if err != nil {
				return err
			}
			if len(w.Responses) > 0 {
				writes = append(writes, w)
			}
		}
		last, err := s.sv.surveys.StoreSurveyBatch(ctx, intake, writes, s.by)
		if errors.Is(err, ErrBatchMoved) {
			continue
		}
		if err != nil {
			return err
		}
		s.last = max(s.last, last)
		s.res.Accepted += out.Accepted
		s.res.Duplicates += out.Duplicates
		for _, r := range out.Refusals {
			s.refuse(r.Index, r.UnitID, r.ResponseID, r.Reason)
		}
		return nil
	}
	return fault.Conflictf("the units of this batch in %s keep changing under concurrent writes: send the responses again (none counts twice)", sr.round.ID)
}

// decideUnit decides a unit's pending responses against what the unit has:
// new ones go into its write, ones it has (or the batch has twice) with the
// same content are duplicates, ones that do not fit its survey are refused,
// and so are ones whose id it has with other content: a response id names
// one response, like any request id, so other answers under it are never
// dropped in silence as a resend. All counted in out.
func decideUnit(sr surveyRound, pu *pendingUnit, st SurveyUnitState, out *SubmitResult) (SurveyWrite, error) {
	survey := sr.survey
	if st.Def != nil {
		var err error
		if survey, err = surveyOf(*st.Def); err != nil {
			return SurveyWrite{}, fmt.Errorf("the stored survey of %s: %w", pu.key.UnitID, err)
		}
	}
	w := SurveyWrite{Key: pu.key, Expect: st.Position, Synthetic: pu.synthetic}
	seen := make(map[string]ResponseDigest, len(pu.responses))
	refuse := func(r pendingResponse, reason string) {
		out.Refused++
		out.Refusals = append(out.Refusals, SurveyRefusal{Index: r.index, UnitID: pu.key.UnitID, ResponseID: r.answer.ResponseID, Reason: reason})
	}
	codes := survey.Codes()
	for _, r := range pu.responses {
		id := r.answer.ResponseID
		if r.elements != nil && !slices.Equal(r.elements, codes) {
			refuse(r, fmt.Sprintf("answers given for the elements %s: the unit's survey has %s, answered in that order",
				strings.Join(r.elements, ", "), strings.Join(codes, ", ")))
			continue
		}
		if len(r.answer.Answers) != len(survey.Elements) {
			refuse(r, fmt.Sprintf("%d answers: the unit's survey has %d elements (%s), answered in that order",
				len(r.answer.Answers), len(survey.Elements), strings.Join(codes, ", ")))
			continue
		}
		digest := r.answer.Digest()
		have, ok := seen[id]
		if !ok {
			have, ok = st.Stored(id)
		}
		switch {
		case ok && have == digest:
			out.Duplicates++
		case ok:
			refuse(r, fmt.Sprintf("response_id %s was already used for a response of %s with another collection date or other answers: "+
				"a response id names one response, which counts as first stored; send a new response under a new id", id, pu.key.UnitID))
		default:
			seen[id] = digest
			w.Responses = append(w.Responses, r.answer)
			if !r.profile.IsZero() {
				w.Profiles = append(w.Profiles, ProfiledResponse{ResponseID: id, Profile: r.profile})
			}
		}
	}
	out.Accepted += int64(len(w.Responses))
	return w, nil
}

// checkCollectionDate: a calendar date of the round's year, not after
// today in the unit's province. "" when it passes.
func checkCollectionDate(s string, year int32, today calendar.Date, zone calendar.Zone) string {
	d, err := calendar.ParseDate(s)
	if err != nil {
		return "collection_date: " + err.Error()
	}
	if int32(d.Year) != year {
		return fmt.Sprintf("collection_date %s is not in the round's year %d", s, year)
	}
	if d.Compare(today) > 0 {
		return fmt.Sprintf("collection_date %s is after today (%s %s) in the unit's province", s, today, zone.Name())
	}
	return ""
}

// surveyRound reads a round whose scheme version has a survey.
func (sv *Surveys) surveyRound(ctx context.Context, id string) (surveyRound, error) {
	r, err := sv.store.CachedRound(ctx, id)
	if err != nil {
		return surveyRound{}, err
	}
	v, err := sv.catalog.Get(r.SchemeID, r.SchemeVersion)
	if err != nil {
		return surveyRound{}, err
	}
	survey, ok := v.Survey()
	if !ok {
		return surveyRound{}, fault.Preconditionf("round %s: scheme %s has no survey (SKM rounds do): its records are recorded, not surveyed", id, v)
	}
	return surveyRound{round: r, version: v, survey: survey}, nil
}

// unit checks that the institution may be surveyed in the round and
// returns its province's time zone. fault.NotFound or fault.Precondition
// refuse its responses; other errors end the submission.
func (sv *Surveys) unit(ctx context.Context, sr surveyRound, unitID string) (calendar.Zone, error) {
	inst, err := sv.registry.Institution(ctx, unitID)
	if err != nil {
		return calendar.Zone{}, err
	}
	if inst.Retired {
		return calendar.Zone{}, fault.Preconditionf("institution %s is retired: it takes no survey responses", unitID)
	}
	if err := sr.version.Admit(unitID, inst.Kind); err != nil {
		return calendar.Zone{}, fault.Preconditionf("%v", err)
	}
	return zoneOf(inst.RegionCode), nil
}

// zoneOf is the time zone of a region; national bodies keep WIB.
func zoneOf(regionCode string) calendar.Zone {
	if regionCode == events.National {
		return calendar.WIB
	}
	z, err := calendar.ZoneOf(regionCode)
	if err != nil {
		return calendar.WIB
	}
	return z
}

// surveyOf reads a stated survey.
func surveyOf(d SurveyDef) (skm.Survey, error) {
	return skm.ParseSurvey(len(d.Elements), func(i int) (string, string) { return d.Elements[i].Code, d.Elements[i].Weight })
}

// DefineUnitSurvey states a unit's own survey.
type DefineUnitSurvey struct {
	RoundID, UnitID string
	Survey          SurveyDef
	By              string
}

// DefineUnitSurvey stores a unit's own survey for an OPEN round, before its
// first response: every element of the version's survey (the regulation's
// nine) and any of its own, weights as stated.
func (sv *Surveys) DefineUnitSurvey(ctx context.Context, cmd DefineUnitSurvey) (SurveyDef, bool, error) {
	sr, err := sv.surveyRound(ctx, cmd.RoundID)
	if err != nil {
		return SurveyDef{}, false, err
	}
	if sr.round.State != model.RoundOpen {
		return SurveyDef{}, false, fault.Preconditionf("round %s is %s: a unit's survey is stated while it is OPEN", cmd.RoundID, sr.round.State)
	}
	if _, err := sv.unit(ctx, sr, cmd.UnitID); err != nil {
		return SurveyDef{}, false, err
	}
	for _, e := range cmd.Survey.Elements {
		if err := checkFree(field{"survey name of " + e.Code, e.Name}); err != nil {
			return SurveyDef{}, false, err
		}
	}
	survey, err := surveyOf(cmd.Survey)
	if err != nil {
		return SurveyDef{}, false, err
	}
	have := map[string]bool{}
	for _, e := range cmd.Survey.Elements {
		have[e.Code] = true
	}
	for _, c := range sr.survey.Codes() {
		if !have[c] {
			return SurveyDef{}, false, fault.Invalidf("survey: element %q of the %s survey is missing: a unit's survey keeps the regulation's elements and may add its own", c, sr.version)
		}
	}
	if err := checkUnitWeights(survey); err != nil {
		return SurveyDef{}, false, err
	}
	key := SurveyKey{RoundID: cmd.RoundID, SchemeID: sr.round.SchemeID, Year: sr.round.Year, UnitID: cmd.UnitID}
	stored, created, err := sv.surveys.DefineUnitSurvey(ctx, key, cmd.Survey, cmd.By)
	if err != nil {
		return SurveyDef{}, false, err
	}
	if !created && !sameSurvey(stored, cmd.Survey) {
		return SurveyDef{}, false, fault.Existsf("unit %s has another survey in %s already: a survey never changes once stated", cmd.UnitID, cmd.RoundID)
	}
	return stored, created, nil
}

// checkUnitWeights: a unit's weights sum to exactly 1, so its index stays
// on the 25-100 scale and no element counts more than the unit says; the
// one exception is the regulation's own convention, nine elements of 0.111
// (summing to 0.999), which a unit may restate.
func checkUnitWeights(s skm.Survey) error {
	sum := s.WeightSum()
	conventional := len(s.Elements) == len(skm.Standard2017().Elements)
	for _, e := range s.Elements {
		conventional = conventional && e.Weight == skm.Weight2017
	}
	if sum.Cmp(big.NewRat(1, 1)) == 0 || conventional {
		return nil
	}
	return fault.Invalidf("survey: the weights sum to %s, not 1: a unit's weights are fractions of its index that sum to exactly 1 (1/9 each for nine elements, 1/10 each for ten; or the regulation's nine of 0.111)",
		sum.FloatString(6))
}

func sameSurvey(a, b SurveyDef) bool {
	if len(a.Elements) != len(b.Elements) {
		return false
	}
	for i := range a.Elements {
		wa, err1 := skm.ParseWeight(a.Elements[i].Weight)
		wb, err2 := skm.ParseWeight(b.Elements[i].Weight)
		if a.Elements[i].Code != b.Elements[i].Code || err1 != nil || err2 != nil || wa != wb {
			return false
		}
	}
	return true
}

// SurveyResult is a unit's result in a round.
type SurveyResult struct {
	RoundID, UnitID, ProvinceCode string
	Survey                        SurveyDef
	UnitSurvey                    bool
	Summary                       *skm.Summary // nil: no respondents
	Counts                        [][4]int64
	BandCode, BandLabel           string
	Population, RequiredSample    int64
	SampleShort                   bool
	Position                      uint64
	Record                        *model.Assessment
	RecordedRevision              uint64
	Synthetic                     bool
}

// Result computes a unit's result from the counts, exactly.
func (sv *Surveys) Result(ctx context.Context, roundID, unitID string) (SurveyResult, error) {
	sr, err := sv.surveyRound(ctx, roundID)
	if err != nil {
		return SurveyResult{}, err
	}
	inst, err := sv.registry.Institution(ctx, unitID)
	if err != nil {
		return SurveyResult{}, err
	}
	c, _ := sv.surveys.SurveyCounts(roundID, unitID)
	return sv.result(ctx, sr, inst, c, true)
}

// result computes a unit's result from its counts; withRecord reads the
// unit's latest record from the stream too (one unit's answer, not a
// listing's).
func (sv *Surveys) result(ctx context.Context, sr surveyRound, inst model.Institution, c SurveyCounts, withRecord bool) (SurveyResult, error) {
	res := SurveyResult{RoundID: sr.round.ID, UnitID: inst.ID, Position: c.Position, Population: inst.YearlyServiceUsers, Synthetic: c.Synthetic}
	if snap, err := snapshot(ctx, sv.registry, inst); err == nil {
		res.ProvinceCode = snap.ProvinceCode
	}
	survey, def := sr.survey, versionDef(sr.version)
	if c.Def != nil {
		var err error
		if survey, err = surveyOf(*c.Def); err != nil {
			return SurveyResult{}, err
		}
		def, res.UnitSurvey = *c.Def, true
	}
	res.Survey = def
	res.Counts = c.Counts
	if res.Counts == nil {
		res.Counts = make([][4]int64, len(survey.Elements))
	}
	if c.Respondents > 0 {
		t, err := skm.RestoreTally(survey.Codes(), c.Respondents, c.Counts)
		if err != nil {
			return SurveyResult{}, err
		}
		sum, err := skm.Result(survey, t, sr.version.Precision())
		if err != nil {
			return SurveyResult{}, err
		}
		res.Summary = &sum
		band, err := sr.version.BandFor(atScale(sr.version, sum.Index))
		if err != nil {
			return SurveyResult{}, err
		}
		res.BandCode, res.BandLabel = band.GetCode(), band.GetLabel()
	}
	if inst.YearlyServiceUsers > 0 {
		res.SampleShort, res.RequiredSample = skm.SampleShort(inst.YearlyServiceUsers, c.Respondents)
	}
	key := RecordKey{SchemeID: sr.round.SchemeID, Year: sr.round.Year, InstitutionID: inst.ID}
	if c.Position > 0 {
		res.RecordedRevision, _ = sv.store.LatestIs(key, sr.round.ID, model.SurveyRequestID(c.Position))
	}
	if !withRecord {
		return res, nil
	}
	a, err := sv.store.Assessment(ctx, key, sr.round.ID, 0)
	switch {
	case err == nil:
		res.Record = a
	case !fault.Is(err, fault.NotFound):
		return SurveyResult{}, err
	}
	return res, nil
}

// atScale is the index as a total of the version's scale: an index under
// the lowest edge (24.98, all answers of 1 under the 0.111 weights) is
// recorded at it, and banded there.
func atScale(v *scheme.Version, index decimal.Decimal) decimal.Decimal {
	if index.Cmp(v.Min()) < 0 {
		return v.Min()
	}
	return index
}

func versionDef(v *scheme.Version) SurveyDef {
	var d SurveyDef
	for _, e := range v.Proto().GetSurvey().GetElements() {
		d.Elements = append(d.Elements, SurveyElement{Code: e.GetCode(), Weight: e.GetWeight(), Name: e.GetName()})
	}
	return d
}

// Results lists a round's units' results by unit id (province "": all).
func (sv *Surveys) Results(ctx context.Context, roundID, province, after string, limit int) ([]SurveyResult, bool, error) {
	sr, err := sv.surveyRound(ctx, roundID)
	if err != nil {
		return nil, false, err
	}
	var out []SurveyResult
	for {
		ids, more := sv.surveys.SurveyUnits(roundID, after, limit)
		for _, id := range ids {
			after = id
			inst, err := sv.registry.Institution(ctx, id)
			if err != nil {
				return nil, false, fmt.Errorf("unit %s: %w", id, err)
			}
			c, _ := sv.surveys.SurveyCounts(roundID, id)
			r, err := sv.result(ctx, sr, inst, c, false)
			if err != nil {
				return nil, false, fmt.Errorf("unit %s: %w", id, err)
			}
			if province != "" && r.ProvinceCode != province {
				continue
			}
			out = append(out, r)
			if len(out) == limit {
				return out, more || id != ids[len(ids)-1], nil
			}
		}
		if !more {
			return out, false, nil
		}
	}
}

// surveyPositionOf is the position of a survey record being written.
func surveyPositionOf(a *model.Assessment) uint64 {
	p, _ := surveyPosition(a)
	return p
}

func surveyPosition(a *model.Assessment) (uint64, bool) {
	if a == nil {
		return 0, false
	}
	return model.SurveyPosition(a.Basis, a.RequestID)
}

// RecordDue writes the SKM record of every unit of an OPEN round whose
// responses moved since its last survey record, if that record is a
// minute old (SurveyRecordEvery); final writes every moved unit whatever
// its age (the close). It returns the first passing failure after trying
// every unit.
func (sv *Surveys) RecordDue(ctx context.Context) error {
	var first error
	for _, id := range sv.surveys.SurveyRounds() {
		r, err := sv.store.CachedRound(ctx, id)
		if err != nil || r.State != model.RoundOpen {
			continue
		}
		if err := sv.recordRound(ctx, id, false); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (sv *Surveys) recordRound(ctx context.Context, roundID string, final bool) error {
	sv.pass.Lock()
	defer sv.pass.Unlock()
	sr, err := sv.surveyRound(ctx, roundID)
	if err != nil {
		return err
	}
	var first error
	keep := func(err error) {
		switch {
		case err == nil:
		// A lasting failure of one unit (its figure cannot be recorded)
		// is reported and never holds up the round's other units or its
		// close; a passing one is the caller's to retry.
		case fault.Is(err, fault.Unavailable) || fault.Is(err, fault.Conflict):
			if first == nil {
				first = err
			}
		case sv.report != nil:
			sv.report(err)
		}
	}
	now := sv.clock.Now()
	var due []*model.Assessment
	after := ""
	for {
		ids, more := sv.surveys.SurveyUnits(roundID, after, 1000)
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return err // stopping: the next pass, or the next start, goes on
			}
			after = id
			a, err := sv.dueRecord(ctx, sr, id, now, final)
			if err != nil {
				keep(fmt.Errorf("survey record of %s in %s: %w", id, roundID, err))
				continue
			}
			if a != nil {
				due = append(due, a)
			}
			if len(due) == surveyRecordBatch {
				keep(sv.appendAll(ctx, sr.round, due, now))
				due = nil
			}
		}
		if !more {
			keep(sv.appendAll(ctx, sr.round, due, now))
			return first
		}
	}
}

// surveyRecordBatch is how many units' records are written in one atomic
// batch: a close of a round of tens of thousands of units costs a few
// hundred fsyncs, not one per unit.
const surveyRecordBatch = 250

// dueRecord is the unit's record from its counts when it is due: behind
// its counts and, unless final, not written by this replica in the last
// minute; nil otherwise.
func (sv *Surveys) dueRecord(ctx context.Context, sr surveyRound, unitID string, now time.Time, final bool) (*model.Assessment, error) {
	c, ok := sv.surveys.SurveyCounts(sr.round.ID, unitID)
	if !ok || c.Respondents == 0 {
		return nil, nil
	}
	key := RecordKey{SchemeID: sr.round.SchemeID, Year: sr.round.Year, InstitutionID: unitID}
	if !sv.due(sr.round, key, c, now, final) {
		return nil, nil
	}
	return sv.compose(ctx, sr, unitID, c)
}

// appendAll stores the records in one atomic batch, each after its unit's
// latest; when the batch is refused (a record or the round moved), one by
// one, each deciding again.
func (sv *Surveys) appendAll(ctx context.Context, r model.Round, as []*model.Assessment, now time.Time) error {
	if len(as) == 0 {
		return nil
	}
	fresh, err := sv.store.Round(ctx, r.ID)
	if err != nil {
		return err
	}
	if fresh.State != model.RoundOpen {
		return nil // closed meanwhile: the close recorded them
	}
	reqs := make([]Append, 0, len(as))
	for _, a := range as {
		key := RecordKey{SchemeID: a.SchemeID, Year: a.Year, InstitutionID: a.InstitutionID}
		if sv.store.SurveyRecorded(key, fresh.ID) >= surveyPositionOf(a) {
			continue // a later one landed meanwhile
		}
		tip, err := sv.store.Tip(ctx, key, fresh, a.RequestID, false)
		if err != nil {
			return err
		}
		if tip.Same == nil {
			reqs = append(reqs, Append{Assessment: *a, CorrectsRevision: tip.Revision, Tip: tip, Fence: fresh})
		}
	}
	if len(reqs) > 0 {
		_, err = sv.store.AppendBatch(ctx, reqs, fresh)
	}
	if err == nil {
		sv.wrote(as, now)
		return nil
	}
	if fault.Is(err, fault.Unavailable) || ctx.Err() != nil {
		return err
	}
	// Refused whole (a record or the round moved, or one record cannot
	// be stored): each on its own, so one unit never holds up the others.
	var first error
	for _, a := range as {
		key := RecordKey{SchemeID: a.SchemeID, Year: a.Year, InstitutionID: a.InstitutionID}
		if err := sv.append(ctx, key, a); err != nil {
			if first == nil {
				first = fmt.Errorf("survey record of %s in %s: %w", a.InstitutionID, a.RoundID, err)
			}
			continue
		}
		sv.wrote([]*model.Assessment{a}, now)
	}
	return first
}

// lastRecord is when (by the service's clock) this replica last wrote or
// found a unit's survey record, and for which counts.
type lastRecord struct {
	at       time.Time
	position uint64
}

// wrote remembers when this replica wrote the units' records.
func (sv *Surveys) wrote(as []*model.Assessment, now time.Time) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	for _, a := range as {
		sv.recorded[a.RoundID+"/"+a.InstitutionID] = lastRecord{at: now, position: surveyPositionOf(a)}
	}
}

// due says whether the unit's record is behind its counts and may be
// written now.
func (sv *Surveys) due(r model.Round, key RecordKey, c SurveyCounts, now time.Time, final bool) bool {
	// Records only move forward: never counts at or before the last
	// survey record's (a later replica's, the close's final one), and a
	// record typed in over a survey record stands until new responses.
	stored := sv.store.SurveyRecorded(key, r.ID)
	k := r.ID + "/" + key.InstitutionID
	sv.mu.Lock()
	last, wrote := sv.recorded[k]
	if stored > last.position {
		// Another replica wrote the unit's record since (or this one
		// restarted): its minute starts when this replica sees it, so the
		// replicas together write a unit at most about once a minute.
		last, wrote = lastRecord{at: now, position: stored}, true
		sv.recorded[k] = last
	}
	sv.mu.Unlock()
	if stored >= c.Position || last.position >= c.Position {
		return false // stored for these counts before (a record typed in over it stands)
	}
	return final || !wrote || now.Sub(last.at) >= SurveyRecordEvery
}

// compose is the unit's record for its counts (nil: no index yet).
func (sv *Surveys) compose(ctx context.Context, sr surveyRound, unitID string, c SurveyCounts) (*model.Assessment, error) {
	inst, err := sv.registry.Institution(ctx, unitID)
	if err != nil {
		return nil, err
	}
	res, err := sv.result(ctx, sr, inst, c, false)
	if err != nil || res.Summary == nil {
		return nil, err
	}
	v, r := sr.version, sr.round
	total := atScale(v, res.Summary.Index)
	result, err := scoring.Assess(v, model.Input{ReportedTotal: total.StringFixed(v.Precision())})
	if err != nil {
		return nil, err
	}
	result.Basis = model.BasisSurvey
	snap, err := snapshot(ctx, sv.registry, inst)
	if err != nil {
		return nil, err
	}
	reason := fmt.Sprintf("computed from %d survey responses: index %s", c.Respondents, res.Summary.IndexString())
	if total.Cmp(res.Summary.Index) != 0 {
		reason += fmt.Sprintf(", under the scale's %s and recorded there", v.Min())
	}
	if res.SampleShort {
		reason += fmt.Sprintf("; sample below the Krejcie-Morgan guidance (%d of %d for %d service users a year)", c.Respondents, res.RequiredSample, inst.YearlyServiceUsers)
	}
	id := model.SurveyRequestID(c.Position)
	return &model.Assessment{
		RoundID: r.ID, SchemeID: r.SchemeID, SchemeVersion: r.SchemeVersion, Year: r.Year,
		InstitutionID: unitID, Institution: snap, Result: result, Respondents: int32(min(c.Respondents, 100000000)),
		Reason: reason, RequestID: id, RequestFingerprint: id, RecordedBy: sv.ro.by, Synthetic: c.Synthetic,
	}, nil
}

// append stores the record after the unit's latest, while the round is
// OPEN; a concurrent write or round change reads again.
func (sv *Surveys) append(ctx context.Context, key RecordKey, a *model.Assessment) error {
	for range maxFenceRetries {
		r, err := sv.store.Round(ctx, a.RoundID)
		if err != nil {
			return err
		}
		if r.State != model.RoundOpen {
			return nil // closed meanwhile: the close recorded it
		}
		tip, err := sv.store.Tip(ctx, key, r, a.RequestID, true)
		if err != nil || tip.Same != nil {
			return err
		}
		// Another replica, further along the survey log, may have
		// recorded later counts: never write older ones over them.
		if latest, err := sv.store.Assessment(ctx, key, r.ID, 0); err == nil {
			if p, ok := surveyPosition(latest); ok && p >= surveyPositionOf(a) {
				return nil
			}
		}
		// These very counts were recorded before and a record was typed
		// in over them (a view loaded after a restart sees only the
		// latest revision): it stands until new responses arrive.
		if old, err := sv.store.FindRequest(ctx, key, a.RequestID); err != nil || old != nil {
			return err
		}
		_, _, err = sv.store.Append(ctx, Append{Assessment: *a, CorrectsRevision: tip.Revision, Tip: tip, Fence: r})
		if errors.Is(err, ErrRoundMoved) || fault.Is(err, fault.Conflict) {
			continue
		}
		return err
	}
	return fault.Conflictf("the record of %s keeps moving: the next round of survey records writes it", key.InstitutionID)
}

// closeIntake ends a round's intake before the round closes: the intake
// marker first (a batch after it is refused by the log), then, once the
// counts hold everything before it, the final record of every unit.
func (sv *Surveys) closeIntake(ctx context.Context, roundID string) error {
	sr, err := sv.surveyRound(ctx, roundID)
	if fault.Is(err, fault.Precondition) {
		return nil // no survey
	}
	if err != nil {
		return err
	}
	marker, err := sv.surveys.ChangeIntake(ctx, roundID, sr.round.SchemeID, sr.round.Year, false)
	if err != nil {
		return err
	}
	if err := sv.surveys.SyncSurveys(ctx); err != nil {
		return err
	}
	if err := sv.store.CatchUp(ctx, sr.round); err != nil {
		return err
	}
	if err := sv.recordRound(ctx, roundID, true); err != nil {
		return err
	}
	// A reopen while the final records were written opened the intake
	// again: responses after the marker would not be in them.
	in, err := sv.surveys.SurveyIntake(ctx, roundID, sr.round.SchemeID, sr.round.Year)
	if err != nil {
		return err
	}
	if in.Open || in.Position != marker {
		return fault.Conflictf("round %s was reopened while it closed: close it again", roundID)
	}
	return nil
}

// closeIntakeOf shuts the intake of a closed round, if it has a survey
// and its intake is open.
func (sv *Surveys) closeIntakeOf(ctx context.Context, roundID string) error {
	sr, err := sv.surveyRound(ctx, roundID)
	if fault.Is(err, fault.Precondition) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = sv.surveys.ChangeIntake(ctx, roundID, sr.round.SchemeID, sr.round.Year, false)
	return err
}

// reopenIntake opens a reopened round's intake again.
func (sv *Surveys) reopenIntake(ctx context.Context, r model.Round) error {
	v, err := sv.catalog.Get(r.SchemeID, r.SchemeVersion)
	if err != nil {
		return err
	}
	if _, ok := v.Survey(); !ok {
		return nil
	}
	_, err = sv.surveys.ChangeIntake(ctx, r.ID, r.SchemeID, r.Year, true)
	return err
}

// finishReopen opens the intake of an OPEN round whose intake is closed (a
// reopen cut short, or a close cut short before the round closed); done
// says it did.
func (sv *Surveys) finishReopen(ctx context.Context, roundID string) (model.Round, bool, error) {
	r, err := sv.store.Round(ctx, roundID)
	if err != nil || r.State != model.RoundOpen {
		return r, false, err
	}
	v, err := sv.catalog.Get(r.SchemeID, r.SchemeVersion)
	if err != nil {
		return r, false, err
	}
	if _, ok := v.Survey(); !ok {
		return r, false, nil
	}
	in, err := sv.surveys.SurveyIntake(ctx, r.ID, r.SchemeID, r.Year)
	if err != nil || in.Open {
		return r, false, err
	}
	if _, err = sv.surveys.ChangeIntake(ctx, r.ID, r.SchemeID, r.Year, true); err != nil {
		return r, false, err
	}
	// A close in progress may have closed the round meanwhile: its final
	// records did not count what the reopened intake takes, so shut it
	// again and say so.
	if now, err := sv.store.Round(ctx, r.ID); err != nil || now.State != model.RoundOpen {
		if err == nil {
			if _, err = sv.surveys.ChangeIntake(ctx, r.ID, r.SchemeID, r.Year, false); err == nil {
				err = fault.Conflictf("round %s closed while it was reopened: reopen it again", r.ID)
			}
		}
		return now, false, err
	}
	return r, true, nil
}

// ReportTo sets who hears a unit's record that failed for a lasting reason
// (its figure cannot be recorded): it never holds up the other units.
func (sv *Surveys) ReportTo(report func(error)) { sv.report = report }

// RecordSurveysEvery runs RecordDue every period until ctx ends, reporting
// failures to report.
func (sv *Surveys) RecordSurveysEvery(ctx context.Context, period time.Duration, report func(error)) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := sv.RecordDue(ctx); err != nil && ctx.Err() == nil {
			report(err)
		}
	}
}
