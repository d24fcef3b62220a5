package store

import (
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/services/assessment/internal/certificate"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/round"
	"google.golang.org/protobuf/proto"
)

// View is this replica's index of the latest revision of every record, by
// round and institution, and of every award. It is derived from the streams
// and rebuilt at every start, so it never needs a migration.
//
// Of a record it keeps only what decisions and listings need (a slot, a few
// dozen bytes); the record itself stays in the stream and is read by its
// sequence when a listing, a retry or a publication needs it. Holding every
// decoded record instead cost over a kilobyte per record: at a million
// records, most of the service's heap and most of its GC work.
type View struct {
	mu      sync.RWMutex
	byRound map[string]map[string]slot
	// codes interns the band and province codes the slots refer to.
	codes  codes
	seed   maphash.Seed
	awards map[string]*assessmentv1.Award
	// fingerprints holds, by award id, the fingerprint of the GrantAward
	// request that granted it, for awards granted with one.
	fingerprints map[string]string

	assessmentsFeed, awardsFeed *natsx.Follower

	// certCodes holds, by certificate verification code, the award it
	// resolves to; codeClashes the awards of a code two awards share (it
	// then resolves to none). log reports a clash.
	certCodes   map[string]string
	codeClashes map[string][]string
	log         *slog.Logger
}

// slot is what the view keeps of the latest revision of a record: where it
// sits (its stream sequence), the OPEN round revision it was decided on (0:
// a correction, or stored before that was kept; with the sequence it says
// whether a close's fence leaves it out), its revision, a hash of its
// request id (a retry of the latest revision is recognised without reading
// it), and what listings filter on.
type slot struct {
	seq, roundRevision, revision uint64
	request                      uint64
	kind                         int32
	band, province               uint32
	basis                        uint8
	afterPublication, synthetic  bool
	// surveyPos is the survey position of the latest-placed survey record
	// among the revisions this view saw of the record (0: none): the
	// service never writes a unit's survey record for counts at or before
	// it, so records only move forward and a typed-in record stands until
	// new responses arrive.
	surveyPos uint64
}

// entry is a revision read in full, with where it sits.
type entry struct {
	a                  *assessmentv1.Assessment
	seq, roundRevision uint64
}

// codes interns short strings (band and province codes): a slot holds a
// number, not a string header and its bytes.
type codes struct {
	names []string
	index map[string]uint32
}

func (c *codes) of(name string) uint32 {
	if i, ok := c.index[name]; ok {
		return i
	}
	if c.index == nil {
		c.index = map[string]uint32{}
	}
	i := uint32(len(c.names))
	c.names = append(c.names, name)
	c.index[name] = i
	return i
}

func (c *codes) name(i uint32) string { return c.names[i] }

func newView() *View {
	return &View{byRound: map[string]map[string]slot{}, seed: maphash.MakeSeed(),
		awards: map[string]*assessmentv1.Award{}, fingerprints: map[string]string{}}
}

// requestHash is how a slot names the request that stored it.
func (v *View) requestHash(requestID string) uint64 { return maphash.String(v.seed, requestID) }

// slotOf is what the view keeps of a; call with v.mu held for writing.
func (v *View) slotOf(a *assessmentv1.Assessment, seq, roundRevision uint64) slot {
	return slot{
		seq: seq, roundRevision: roundRevision, revision: a.GetRevision(), request: v.requestHash(a.GetRequestId()),
		kind: int32(a.GetInstitution().GetKind()), band: v.codes.of(a.GetBandCode()), province: v.codes.of(a.GetInstitution().GetProvinceCode()),
		basis: uint8(a.GetBasis()), afterPublication: a.GetAfterPublication(), synthetic: a.GetSynthetic(),
		surveyPos: surveyPosOf(a),
	}
}

// surveyPosOf is the survey position a record was computed from, 0 for
// any other record.
func surveyPosOf(a *assessmentv1.Assessment) uint64 {
	p, _ := model.SurveyPosition(model.Basis(a.GetBasis()), a.GetRequestId())
	return p
}

// putAssessment keeps the later of what the view holds and e. A revision
// refused past a fence shares its revision number with the one stored after
// it, so the stream position decides, not the revision.
func (v *View) putAssessment(e entry) {
	v.mu.Lock()
	defer v.mu.Unlock()
	roundID, inst := e.a.GetRoundId(), e.a.GetInstitutionId()
	m := v.byRound[roundID]
	if m == nil {
		m = map[string]slot{}
		v.byRound[roundID] = m
	}
	if cur, ok := m[inst]; !ok || cur.seq < e.seq {
		sl := v.slotOf(e.a, e.seq, e.roundRevision)
		sl.surveyPos = max(sl.surveyPos, cur.surveyPos)
		m[strings.Clone(inst)] = sl
	}
}

// replaceAssessment puts e (nil: none) in place of the revision refused
// at refusedSeq, unless the view has moved past that revision meanwhile: a
// revision stored after it (the round reopened and recorded again) counts
// and must not be rolled back.
func (v *View) replaceAssessment(roundID, institutionID string, refusedSeq uint64, e *entry) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if cur, ok := v.byRound[roundID][institutionID]; ok && cur.seq > refusedSeq {
		return
	}
	if e == nil {
		delete(v.byRound[roundID], institutionID)
		return
	}
	m := v.byRound[roundID]
	if m == nil {
		m = map[string]slot{}
		v.byRound[roundID] = m
	}
	m[strings.Clone(institutionID)] = v.slotOf(e.a, e.seq, e.roundRevision)
}

// assessment returns the slot of a record; ok is false when the view has none.
func (v *View) assessment(roundID, institutionID string) (slot, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	sl, ok := v.byRound[roundID][institutionID]
	return sl, ok
}

// holds says whether the view already holds the revision stored at seq on
// subject, or a later one: its writer on this replica put it in the view
// when the write was acknowledged, so the consumer need not decode it.
func (v *View) holds(subject string, seq uint64) bool {
	k, err := events.ParseAssessmentSubject(subject)
	if err != nil {
		return false
	}
	sl, ok := v.assessment(round.ID(k.Scheme, k.Year), k.InstitutionID)
	return ok && sl.seq >= seq
}

// placed is a slot with the institution it belongs to.
type placed struct {
	institutionID string
	slot
}

// slots returns the round's records with their positions, in no order.
func (v *View) slots(roundID string) []placed {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]placed, 0, len(v.byRound[roundID]))
	for id, sl := range v.byRound[roundID] {
		out = append(out, placed{id, sl})
	}
	return out
}

// page returns the slots of a round's latest records passing keep, ordered
// by institution id, after the id `after`, at most limit, and whether more
// follow.
func (v *View) page(roundID, after string, limit int, keep func(kind int32, province, band string, basis uint8) bool) ([]placed, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	m := v.byRound[roundID]
	ids := make([]string, 0, len(m))
	for id := range m {
		if id > after {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	var out []placed
	for _, id := range ids {
		sl := m[id]
		if !keep(sl.kind, v.codes.name(sl.province), v.codes.name(sl.band), sl.basis) {
			continue
		}
		if len(out) == limit {
			return out, true
		}
		out = append(out, placed{id, sl})
	}
	return out, false
}

// history returns the slot of one institution's latest record in every
// round, by round id.
func (v *View) history(institutionID string) map[string]slot {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := map[string]slot{}
	for roundID, m := range v.byRound {
		if sl, ok := m[institutionID]; ok {
			out[roundID] = sl
		}
	}
	return out
}

func (v *View) putAward(a *assessmentv1.Award, fingerprint string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	// Only a grant carries a fingerprint; its revocation keeps it.
	if fingerprint != "" {
		v.fingerprints[a.GetId()] = fingerprint
	}
	v.indexCode(a.GetId())
	// A revocation always wins over the grant, whatever order they arrive in.
	if cur := v.awards[a.GetId()]; cur.GetState() == assessmentv1.AwardState_AWARD_STATE_REVOKED {
		return
	}
	v.awards[a.GetId()] = a
}

// follow fills the view from both streams and returns once it holds
// everything stored before the call. accepted turns a revision into the
// entry to keep: itself, or, when it was refused past a fence, the latest
// revision before it that was not (nil: none).
func (v *View) follow(ctx context.Context, js jetstream.JetStream, log *slog.Logger, accepted func(*stored) *entry) error {
	v.mu.Lock()
	v.log = log
	v.mu.Unlock()
	var err error
	v.assessmentsFeed, err = natsx.Follow(ctx, js, events.Assessments, []string{events.AssessmentRecordedAll}, jetstream.DeliverLastPerSubjectPolicy, func(m jetstream.Msg) {
		if md, err := m.Metadata(); err == nil && v.holds(m.Subject(), md.Sequence.Stream) {
			return // this replica wrote it and put it in the view then
		}
		var ev eventsv1.AssessmentRecorded
		if err := proto.Unmarshal(m.Data(), &ev); err != nil {
			log.Error("undecodable assessment event", "subject", m.Subject(), "err", err)
			return
		}
		md, err := m.Metadata()
		if err != nil {
			log.Error("assessment event without metadata", "subject", m.Subject(), "err", err)
			return
		}
		if e := accepted(&stored{ev: &ev, seq: md.Sequence.Stream}); e != nil {
			v.putAssessment(*e)
		}
	})
	if err != nil {
		return err
	}
	v.awardsFeed, err = natsx.Follow(ctx, js, events.Awards, nil, jetstream.DeliverAllPolicy, func(m jetstream.Msg) {
		var award *assessmentv1.Award
		switch m.Headers().Get(events.HeaderType) {
		case "predikat.events.v1.AwardGranted":
			var ev eventsv1.AwardGranted
			if err := proto.Unmarshal(m.Data(), &ev); err == nil {
				award = ev.GetAward()
			}
		case "predikat.events.v1.AwardRevoked":
			var ev eventsv1.AwardRevoked
			if err := proto.Unmarshal(m.Data(), &ev); err == nil {
				award = ev.GetAward()
			}
		}
		if award == nil {
			log.Error("undecodable award event", "subject", m.Subject())
			return
		}
		v.putAward(award, m.Headers().Get(events.HeaderRequestFingerprint))
	})
	return err
}

// awardCount is how many awards of the round stand (granted, not
// revoked), rule and manual alike.
func (v *View) awardCount(roundID string) int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	n := 0
	for _, a := range v.awards {
		if a.GetRoundId() == roundID && a.GetState() == assessmentv1.AwardState_AWARD_STATE_GRANTED {
			n++
		}
	}
	return n
}

func (v *View) correctionCount(roundID string) int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	n := 0
	for _, sl := range v.byRound[roundID] {
		if sl.afterPublication {
			n++
		}
	}
	return n
}

// loadEntries reads in full the latest record of every institution in a
// round, as the view holds it. The round's last revisions are read in one
// pass of the stream (a consumer delivering the last message of each of its
// subjects); a record whose last message is not the revision the view
// holds (written since, or refused past a fence) is read by its sequence.
func (s *Store) loadEntries(ctx context.Context, roundID string) ([]entry, error) {
	slots := s.view.slots(roundID)
	if len(slots) == 0 {
		return nil, nil
	}
	last := map[uint64]*stored{}
	if r, ok := s.roundCache.get(roundID); ok {
		var err error
		if last, err = s.lastOfRound(ctx, r.SchemeID, r.Year); err != nil {
			return nil, err
		}
	}
	out := make([]entry, len(slots))
	var missing []uint64
	var at []int
	for i, pl := range slots {
		st := last[pl.seq]
		if st == nil {
			missing = append(missing, pl.seq)
			at = append(at, i)
			continue
		}
		out[i] = entry{a: st.ev.GetAssessment(), seq: st.seq, roundRevision: st.ev.GetRoundRevision()}
	}
	got, err := s.loadAll(ctx, missing)
	if err != nil {
		return nil, err
	}
	for j, st := range got {
		out[at[j]] = entry{a: st.ev.GetAssessment(), seq: st.seq, roundRevision: st.ev.GetRoundRevision()}
	}
	return out, nil
}

// lastOfRound reads the last message of every subject of a (scheme, year),
// by sequence: one consumer's pass over the stream instead of a request
// per record.
func (s *Store) lastOfRound(ctx context.Context, schemeID string, year int32) (map[uint64]*stored, error) {
	cons, err := s.js.OrderedConsumer(ctx, events.Assessments, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{events.AssessmentFilter(schemeID, year)}, DeliverPolicy: jetstream.DeliverLastPerSubjectPolicy,
	})
	if err != nil {
		return nil, unavailable("read round results", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(1024))
	if err != nil {
		return nil, unavailable("read round results", err)
	}
	defer it.Stop()
	out := map[uint64]*stored{}
	for {
		m, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return nil, unavailable("read round results", err)
		}
		md, err := m.Metadata()
		if err != nil {
			return nil, unavailable("read round results", err)
		}
		var ev eventsv1.AssessmentRecorded
		if err := proto.Unmarshal(m.Data(), &ev); err != nil {
			return nil, fmt.Errorf("decode assessment at sequence %d: %w", md.Sequence.Stream, err)
		}
		out[md.Sequence.Stream] = &stored{ev: &ev, seq: md.Sequence.Stream, fingerprint: m.Headers().Get(events.HeaderRequestFingerprint)}
		if md.NumPending == 0 {
			return out, nil
		}
	}
}

// provinces returns the distinct province codes of a round's latest
// records, sorted.
func (v *View) provinces(roundID string) []string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	seen := map[uint32]bool{}
	var out []string
	for _, sl := range v.byRound[roundID] {
		if !seen[sl.province] {
			seen[sl.province] = true
			out = append(out, v.codes.name(sl.province))
		}
	}
	sort.Strings(out)
	return out
}

// indexCode puts an award's certificate verification code in the index;
// call with v.mu held for writing. Codes are 60 bits of a hash, so two
// awards sharing one is all but impossible; if it happens the code
// resolves to neither (a certificate must never verify as another award),
// and it is logged for an operator.
func (v *View) indexCode(awardID string) {
	if v.certCodes == nil {
		v.certCodes, v.codeClashes = map[string]string{}, map[string][]string{}
	}
	code := certificate.Code(awardID)
	cur, ok := v.certCodes[code]
	if !ok {
		v.certCodes[code] = awardID
		return
	}
	if cur == awardID || slices.Contains(v.codeClashes[code], awardID) {
		return
	}
	if len(v.codeClashes[code]) == 0 {
		v.codeClashes[code] = []string{cur}
	}
	v.codeClashes[code] = append(v.codeClashes[code], awardID)
	if v.log != nil {
		v.log.Error("two awards share a certificate verification code: it resolves to neither", "code", code, "awards", v.codeClashes[code])
	}
}

// awardOfCode returns the award a verification code (canonical form)
// resolves to: fault.NotFound when none; an error when awards share it.
func (v *View) awardOfCode(code string) (string, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if clash := v.codeClashes[code]; len(clash) > 0 {
		if v.log != nil {
			v.log.Error("verification of a code two awards share refused", "code", code, "awards", clash)
		}
		return "", fault.Preconditionf("verification code %s belongs to %d awards, so it verifies none of them: report it to the operators", code, len(clash))
	}
	id, ok := v.certCodes[code]
	if !ok {
		return "", fault.NotFoundf("no award has the verification code %s: check it against the certificate (a mistyped code resolves to nothing)", code)
	}
	return id, nil
}
