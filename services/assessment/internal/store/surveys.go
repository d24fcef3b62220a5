package store

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/services/assessment/internal/app"
	"github.com/predikat-id/predikat/services/assessment/internal/convert"
)

// Surveys keeps survey responses in the SURVEYS stream, one subject per
// unit and round (predikat.survey.unit.<scheme>.<year>.<unit>): a unit's
// own survey first if it states one, then its responses, every message
// published expecting the subject's last sequence as its writer read it.
// So a response id is stored once per unit and round, whoever sends it and
// however late: a writer that did not know of a message stored meanwhile is
// refused and reads the unit again. The cost per response is its bytes in
// the log (its id, its day, one byte per answer) and nothing else; what a
// writer must know of a unit (its response ids, each with a digest of its
// day and answers) is read from the unit's own
// subject when the unit is not among the recently written ones kept in a
// bounded cache.
//
// Every batch ends with a SurveyBatchStored expecting the round's intake
// subject unchanged, so a close (SurveyIntakeChanged, closed) settles
// exactly which responses count: those stored before it.
//
// The counts are this replica's fold of the stream (surveyView): per unit,
// the answer counts; rebuilt from the log at every start.
type Surveys struct {
	js       jetstream.JetStream
	stream   jetstream.Stream
	profiles jetstream.Stream
	view     *surveyView
	cache    *unitCache
	feed     *natsx.Follower
	log      *slog.Logger
	now      func() time.Time
}

// DefaultSurveyCacheBytes bounds the response ids kept of recently written
// units.
const DefaultSurveyCacheBytes = 64 << 20

// OpenSurveys creates or updates the survey streams.
func OpenSurveys(ctx context.Context, js jetstream.JetStream, replicas int, cacheBytes int64, log *slog.Logger) (*Surveys, error) {
	s := &Surveys{js: js, view: newSurveyView(), cache: newUnitCache(cacheBytes), log: log, now: time.Now}
	var err error
	if s.stream, err = natsx.EnsureStream(ctx, js, events.StreamConfig(events.Surveys, replicas)); err != nil {
		return nil, err
	}
	if !s.stream.CachedInfo().Config.AllowAtomicPublish {
		return nil, fmt.Errorf("stream %s does not allow atomic batches: NATS 2.12 or newer is needed", events.Surveys)
	}
	if s.profiles, err = natsx.EnsureStream(ctx, js, events.StreamConfig(events.SurveyProfiles, replicas)); err != nil {
		return nil, err
	}
	return s, nil
}

// Start folds the stream into the counts and keeps them current until ctx
// ends; it returns once everything stored before the call is counted.
func (s *Surveys) Start(ctx context.Context) error {
	feed, err := natsx.Follow(ctx, s.js, events.Surveys, nil, jetstream.DeliverAllPolicy, func(m jetstream.Msg) {
		md, err := m.Metadata()
		if err != nil {
			return
		}
		if err := s.view.apply(m.Subject(), m.Headers(), m.Data(), md.Sequence.Stream); err != nil {
			s.log.Error("survey message not counted", "subject", m.Subject(), "seq", md.Sequence.Stream, "err", err)
		}
	})
	if err != nil {
		return fmt.Errorf("count survey responses: %w", err)
	}
	s.feed = feed
	return nil
}

// SyncSurveys waits until the counts hold everything stored before the
// call.
func (s *Surveys) SyncSurveys(ctx context.Context) error {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return unavailable("read the survey stream", err)
	}
	if s.feed == nil {
		return fault.Unavailablef("survey counts are still loading, try again shortly")
	}
	if err := s.feed.WaitApplied(ctx, info.State.LastSeq); err != nil {
		return unavailable("wait for the survey counts", err)
	}
	return nil
}

// WaitSurveys waits until the counts hold position.
func (s *Surveys) WaitSurveys(ctx context.Context, position uint64) error {
	if s.feed == nil {
		return fault.Unavailablef("survey counts are still loading, try again shortly")
	}
	if err := s.feed.WaitApplied(ctx, position); err != nil {
		return unavailable("wait for the survey counts", err)
	}
	return nil
}

// SurveyIntake reads the round's last intake marker.
func (s *Surveys) SurveyIntake(ctx context.Context, roundID, schemeID string, year int32) (app.SurveyIntake, error) {
	m, err := s.stream.GetLastMsgForSubject(ctx, events.SurveyIntakeSubject(schemeID, year))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return app.SurveyIntake{Open: true}, nil
	}
	if err != nil {
		return app.SurveyIntake{}, unavailable("read the survey intake of "+roundID, err)
	}
	ev, err := events.DecodeAs[eventsv1.SurveyIntakeChanged](m.Subject, m.Data)
	if err != nil {
		return app.SurveyIntake{}, err
	}
	return app.SurveyIntake{Open: ev.GetOpen(), Position: m.Sequence}, nil
}

// ChangeIntake writes the round's intake marker, unless it already says so.
func (s *Surveys) ChangeIntake(ctx context.Context, roundID, schemeID string, year int32, open bool) (uint64, error) {
	for range maxIntakeTries {
		in, err := s.SurveyIntake(ctx, roundID, schemeID, year)
		if err != nil {
			return 0, err
		}
		if in.Open == open && (in.Position > 0 || open) {
			return in.Position, nil
		}
		ev := &eventsv1.SurveyIntakeChanged{
			// The change and where it was decided: the same id is the same
			// write, whoever retries it.
			EventId:   fmt.Sprintf("survey/%s/intake/%d/%s", roundID, in.Position, map[bool]string{true: "open", false: "closed"}[open]),
			EventTime: timestamppb.New(s.now()), RoundId: roundID, Open: open,
		}
		msg, err := events.NewMsg(events.SurveyIntakeSubject(schemeID, year), Source, roundID, ev)
		if err != nil {
			return 0, err
		}
		msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(in.Position, 10))
		ack, err := s.js.PublishMsg(ctx, msg)
		if natsx.IsWrongLastSequence(err) {
			continue // changed meanwhile: read again
		}
		if err != nil {
			return 0, unavailable("write the survey intake of "+roundID, err)
		}
		return ack.Sequence, nil
	}
	return 0, fault.Conflictf("the survey intake of %s is changing concurrently: try again", roundID)
}

const maxIntakeTries = 5

// SurveyUnit returns what a write to the unit must know: from the cache
// when this replica wrote or read the unit lately; as an empty unit when
// the counts have nothing of it (a write then expects the subject empty, and
// is refused if it is not); otherwise, or when fresh, read from the unit's
// subject.
func (s *Surveys) SurveyUnit(ctx context.Context, key app.SurveyKey, fresh bool) (app.SurveyUnitState, error) {
	k := cacheKey(key.RoundID, key.UnitID)
	if !fresh {
		if st, ok := s.cache.state(k); ok {
			return st, nil
		}
		if !s.view.has(key.RoundID, key.UnitID) {
			return (&cachedUnit{ids: map[string]app.ResponseDigest{}}).state(), nil
		}
	}
	u, err := s.readUnit(ctx, key)
	if err != nil {
		return app.SurveyUnitState{}, err
	}
	s.cache.put(k, u)
	if st, ok := s.cache.state(k); ok {
		return st, nil
	}
	return u.state(), nil // too big to keep: the writer's own copy
}

// readUnit reads every message of the unit's subject: its survey and its
// response ids, complete up to the last.
func (s *Surveys) readUnit(ctx context.Context, key app.SurveyKey) (*cachedUnit, error) {
	subject := events.SurveyUnitSubject(key.SchemeID, key.Year, key.UnitID)
	u := &cachedUnit{ids: map[string]app.ResponseDigest{}}
	for seq := uint64(1); ; {
		m, err := s.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return u, nil
		}
		if err != nil {
			return nil, unavailable("read the survey of "+key.UnitID, err)
		}
		if err := u.add(m.Subject, m.Header, m.Data); err != nil {
			return nil, err
		}
		u.position = m.Sequence
		seq = m.Sequence + 1
	}
}

// StoreSurveyBatch stores the writes and the batch's end atomically.
func (s *Surveys) StoreSurveyBatch(ctx context.Context, intake app.SurveyIntake, writes []app.SurveyWrite, by string) (uint64, error) {
	if len(writes) == 0 {
		return 0, nil
	}
	if len(writes)+1 > natsx.MaxAtomicBatch {
		return 0, fmt.Errorf("survey batch of %d units: at most %d", len(writes), natsx.MaxAtomicBatch-1)
	}
	now := timestamppb.New(s.now())
	msgs := make([]*nats.Msg, 0, len(writes)+1)
	var total int64
	for _, w := range writes {
		ev := &eventsv1.SurveyResponsesStored{
			EventId:   fmt.Sprintf("survey/%s/%s@%d:%s", w.Key.RoundID, w.Key.UnitID, w.Expect, idsDigest(w.Responses)),
			EventTime: now, RoundId: w.Key.RoundID, UnitId: w.Key.UnitID, SubmittedBy: by, Synthetic: w.Synthetic,
			Responses: make([]*eventsv1.StoredSurveyResponse, len(w.Responses)),
		}
		for i, r := range w.Responses {
			ev.Responses[i] = &eventsv1.StoredSurveyResponse{ResponseId: r.ResponseID, CollectionDate: r.CollectionDate, Answers: r.Answers}
		}
		total += int64(len(w.Responses))
		msg, err := events.NewMsg(events.SurveyUnitSubject(w.Key.SchemeID, w.Key.Year, w.Key.UnitID), Source, w.Key.UnitID, ev)
		if err != nil {
			return 0, err
		}
		msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(w.Expect, 10))
		msgs = append(msgs, msg)
	}
	first := writes[0].Key
	end := &eventsv1.SurveyBatchStored{
		EventId:   "survey/" + first.RoundID + "/batch/" + msgs[0].Header.Get(events.HeaderID),
		EventTime: now, RoundId: first.RoundID, Units: int32(len(writes)), Responses: total, SubmittedBy: by,
	}
	msg, err := events.NewMsg(events.SurveyBatchSubject(first.SchemeID, first.Year), Source, first.RoundID, end)
	if err != nil {
		return 0, err
	}
	// The intake check: a batch lands before the close, or not at all.
	msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(intake.Position, 10))
	msg.Header.Set(expectedLastSubjSeqSubject, events.SurveyIntakeSubject(first.SchemeID, first.Year))
	msgs = append(msgs, msg)

	ack, err := natsx.PublishAtomic(ctx, s.js.Conn(), msgs)
	switch {
	case natsx.IsWrongLastSequence(err), natsx.IsBatchDuplicate(err):
		// A unit or the intake moved, or this very batch was stored
		// already with its answer lost: what a writer knows of these
		// units is stale.
		for _, w := range writes {
			s.cache.drop(cacheKey(w.Key.RoundID, w.Key.UnitID))
		}
		return 0, fmt.Errorf("%w: %w", app.ErrBatchMoved, err)
	case err != nil:
		return 0, unavailable("store survey responses", err)
	}
	seq := ack.First()
	for _, w := range writes {
		s.cache.wrote(cacheKey(w.Key.RoundID, w.Key.UnitID), w.Expect, seq, w.Responses)
		seq++
	}
	s.storeProfiles(ctx, writes, now)
	return ack.Last, nil
}

// expectedLastSubjSeqSubject makes Nats-Expected-Last-Subject-Sequence
// apply to another subject than the message's own.
const expectedLastSubjSeqSubject = "Nats-Expected-Last-Subject-Sequence-Subject"

// storeProfiles keeps the profiles of the stored responses apart from the
// answers. The responses stand whether or not this succeeds: a profile is
// optional, and one whose write failed is logged and lost (sending the
// responses again finds them stored and sends no profile).
func (s *Surveys) storeProfiles(ctx context.Context, writes []app.SurveyWrite, now *timestamppb.Timestamp) {
	var acks []jetstream.PubAckFuture
	for _, w := range writes {
		if len(w.Profiles) == 0 {
			continue
		}
		ev := &eventsv1.SurveyProfilesStored{
			EventId:   fmt.Sprintf("surveyprofile/%s/%s@%d", w.Key.RoundID, w.Key.UnitID, w.Expect),
			EventTime: now, RoundId: w.Key.RoundID, UnitId: w.Key.UnitID,
		}
		for _, p := range w.Profiles {
			ev.Profiles = append(ev.Profiles, &eventsv1.StoredProfile{ResponseId: p.ResponseID, Profile: &assessmentv1.RespondentProfile{
				AgeBand: assessmentv1.AgeBand(p.Profile.AgeBand), Sex: assessmentv1.Sex(p.Profile.Sex),
				Education: assessmentv1.Education(p.Profile.Education), Occupation: assessmentv1.Occupation(p.Profile.Occupation),
			}})
		}
		msg, err := events.NewMsg(events.SurveyProfileSubject(w.Key.SchemeID, w.Key.Year, w.Key.UnitID), Source, w.Key.UnitID, ev)
		if err == nil {
			var f jetstream.PubAckFuture
			if f, err = s.js.PublishMsgAsync(msg); err == nil {
				acks = append(acks, f)
			}
		}
		if err != nil {
			s.log.Error("respondent profiles not kept", "round", w.Key.RoundID, "unit", w.Key.UnitID, "err", err)
		}
	}
	for _, f := range acks {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			s.log.Error("respondent profiles not kept", "subject", f.Msg().Subject, "err", err)
		case <-ctx.Done():
			return
		}
	}
}

// DefineUnitSurvey stores a unit's own survey as the first message of its
// subject.
func (s *Surveys) DefineUnitSurvey(ctx context.Context, key app.SurveyKey, def app.SurveyDef, by string) (app.SurveyDef, bool, error) {
	ev := &eventsv1.UnitSurveyDefined{
		EventId:   fmt.Sprintf("survey/%s/%s/defined", key.RoundID, key.UnitID),
		EventTime: timestamppb.New(s.now()), RoundId: key.RoundID, UnitId: key.UnitID,
		Survey: convert.SurveyDefToProto(def), DefinedBy: by,
	}
	msg, err := events.NewMsg(events.SurveyUnitSubject(key.SchemeID, key.Year, key.UnitID), Source, key.UnitID, ev)
	if err != nil {
		return app.SurveyDef{}, false, err
	}
	msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, "0")
	ack, err := s.js.PublishMsg(ctx, msg)
	if err == nil && !ack.Duplicate {
		s.cache.drop(cacheKey(key.RoundID, key.UnitID))
		return def, true, nil
	}
	// A clustered stream answers a repeated message id as a duplicate
	// before it checks the expected sequence: either way the subject has
	// a survey (or responses), and what it holds is the answer.
	if err != nil && !natsx.IsWrongLastSequence(err) {
		return app.SurveyDef{}, false, unavailable("store the survey of "+key.UnitID, err)
	}
	// The subject has messages: the same survey defined before answers as
	// stored; anything else came too late.
	u, rerr := s.readUnit(ctx, key)
	if rerr != nil {
		return app.SurveyDef{}, false, rerr
	}
	if u.def != nil {
		return *u.def, false, nil
	}
	return app.SurveyDef{}, false, fault.Preconditionf("unit %s has responses in %s already: its survey is the scheme version's, and a survey never changes under counted responses", key.UnitID, key.RoundID)
}

// SurveyCounts returns a unit's counts in a round.
func (s *Surveys) SurveyCounts(roundID, unitID string) (app.SurveyCounts, bool) {
	return s.view.counts(roundID, unitID)
}

// SurveyUnits lists a round's units by id.
func (s *Surveys) SurveyUnits(roundID, after string, limit int) ([]string, bool) {
	return s.view.units(roundID, after, limit)
}

// SurveyRounds lists the rounds with survey data.
func (s *Surveys) SurveyRounds() []string { return s.view.rounds() }

// idsDigest names a write by its response ids, so that two writers' writes
// at the same position never share a message id.
func idsDigest(rs []app.SurveyAnswer) string {
	h := sha256.New()
	for _, r := range rs {
		h.Write([]byte(r.ResponseID))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// cachedUnit is what this replica knows of a unit's subject: complete up
// to position. ids holds each stored response's content digest, derived
// from what the log holds of it, so a response id sent again with other
// content is told from a resend.
type cachedUnit struct {
	position uint64
	def      *app.SurveyDef
	ids      map[string]app.ResponseDigest
	bytes    int64
}

func (u *cachedUnit) state() app.SurveyUnitState {
	ids := u.ids
	return app.SurveyUnitState{Position: u.position, Def: u.def, Stored: func(id string) (app.ResponseDigest, bool) {
		d, ok := ids[id]
		return d, ok
	}}
}

// add reads one message of the unit's subject.
func (u *cachedUnit) add(subject string, h nats.Header, data []byte) error {
	ev, err := events.Decode(subject, h, data)
	if err != nil {
		return err
	}
	switch e := ev.(type) {
	case *eventsv1.UnitSurveyDefined:
		def := convert.SurveyDefFromProto(e.GetSurvey())
		u.def = &def
	case *eventsv1.SurveyResponsesStored:
		for _, r := range e.GetResponses() {
			u.ids[r.GetResponseId()] = app.SurveyAnswer{CollectionDate: r.GetCollectionDate(), Answers: r.GetAnswers()}.Digest()
			u.bytes += idCost(r.GetResponseId())
		}
	}
	return nil
}

// idCost is what one id costs in the cache: its bytes and a map entry with
// its digest.
func idCost(id string) int64 { return int64(len(id)) + 56 }

// unitCache keeps the units this replica wrote or read lately, least
// recently used dropped first, within a bound on the ids it holds.
type unitCache struct {
	mu    sync.Mutex
	limit int64
	bytes int64
	units map[string]*list.Element // of *cacheEntry
	lru   *list.List               // most recently used first
}

type cacheEntry struct {
	key  string
	unit *cachedUnit
}

func newUnitCache(limit int64) *unitCache {
	if limit <= 0 {
		limit = DefaultSurveyCacheBytes
	}
	return &unitCache{limit: limit, units: map[string]*list.Element{}, lru: list.New()}
}

func cacheKey(roundID, unitID string) string { return roundID + "/" + unitID }

// state returns what a writer must know of a cached unit. Its ids are
// read live, under the cache's lock: an id another write adds meanwhile is
// stored, so calling it a duplicate is right (and that write moved the
// unit, so this writer's own write is refused and decided again).
func (c *unitCache) state(k string) (app.SurveyUnitState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.units[k]
	if e == nil {
		return app.SurveyUnitState{}, false
	}
	c.lru.MoveToFront(e)
	u := e.Value.(*cacheEntry).unit
	return app.SurveyUnitState{Position: u.position, Def: u.def, Stored: func(id string) (app.ResponseDigest, bool) {
		c.mu.Lock()
		defer c.mu.Unlock()
		d, ok := u.ids[id]
		return d, ok
	}}, true
}

func (c *unitCache) put(k string, u *cachedUnit) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.remove(k)
	if u.bytes > c.limit {
		return // would push every other unit out: its writers read it
	}
	c.units[k] = c.lru.PushFront(&cacheEntry{key: k, unit: u})
	c.bytes += u.bytes
	c.evict()
}

// wrote adds the responses this replica just stored at seq, on a unit that
// was at expect: a known unit moves on; an unknown unit written from empty
// is now known completely; anything else is read again when next needed.
func (c *unitCache) wrote(k string, expect, seq uint64, rs []app.SurveyAnswer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var u *cachedUnit
	if e := c.units[k]; e != nil {
		u = e.Value.(*cacheEntry).unit
		c.lru.MoveToFront(e)
	}
	switch {
	case u != nil && u.position == expect:
	case u == nil && expect == 0:
		u = &cachedUnit{ids: map[string]app.ResponseDigest{}}
		c.units[k] = c.lru.PushFront(&cacheEntry{key: k, unit: u})
	default:
		c.remove(k)
		return
	}
	for _, r := range rs {
		u.ids[r.ResponseID] = r.Digest()
		cost := idCost(r.ResponseID)
		u.bytes += cost
		c.bytes += cost
	}
	u.position = seq
	c.evict()
}

func (c *unitCache) drop(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.remove(k)
}

func (c *unitCache) remove(k string) {
	if e := c.units[k]; e != nil {
		c.bytes -= e.Value.(*cacheEntry).unit.bytes
		c.lru.Remove(e)
		delete(c.units, k)
	}
}

// evict drops the least recently used units until the ids fit the limit.
func (c *unitCache) evict() {
	for c.bytes > c.limit && c.lru.Len() > 0 {
		c.remove(c.lru.Back().Value.(*cacheEntry).key)
	}
}

var _ app.SurveyStore = (*Surveys)(nil)
