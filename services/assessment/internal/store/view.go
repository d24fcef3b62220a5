package store

import (
	"context"
	"log/slog"
	"sort"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"google.golang.org/protobuf/proto"
)

// View is this replica's index of the latest revision of every record, by
// round and institution, and of every award. It is derived from the streams
// and rebuilt at every start, so it never needs a migration.
type View struct {
	mu      sync.RWMutex
	byRound map[string]map[string]entry
	awards  map[string]*assessmentv1.Award
	// fingerprints holds, by award id, the fingerprint of the GrantAward
	// request that granted it, for awards granted with one.
	fingerprints map[string]string

	assessmentsFeed, awardsFeed *natsx.Follower
}

// entry is the latest revision of a record and where it sits: its stream
// sequence and the OPEN round revision it was decided on (0: a correction,
// or stored before that was kept), which say whether a close's fence
// leaves it out.
type entry struct {
	a                  *assessmentv1.Assessment
	seq, roundRevision uint64
}

func newView() *View {
	return &View{byRound: map[string]map[string]entry{}, awards: map[string]*assessmentv1.Award{}, fingerprints: map[string]string{}}
}

// putAssessment keeps the later of what the view holds and e. A revision
// refused past a fence shares its revision number with the one stored after
// it, so the stream position decides, not the revision.
func (v *View) putAssessment(e entry) {
	v.mu.Lock()
	defer v.mu.Unlock()
	m := v.byRound[e.a.GetRoundId()]
	if m == nil {
		m = map[string]entry{}
		v.byRound[e.a.GetRoundId()] = m
	}
	if cur, ok := m[e.a.GetInstitutionId()]; !ok || cur.seq < e.seq {
		m[e.a.GetInstitutionId()] = e
	}
}

// replaceAssessment sets the record of e's institution to e, even when the
// view holds a later position: the revision there was refused.
func (v *View) replaceAssessment(roundID, institutionID string, e *entry) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if e == nil {
		delete(v.byRound[roundID], institutionID)
		return
	}
	v.byRound[roundID][institutionID] = *e
}

// entries returns the round's records with their positions.
func (v *View) entries(roundID string) []entry {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]entry, 0, len(v.byRound[roundID]))
	for _, e := range v.byRound[roundID] {
		out = append(out, e)
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
	var err error
	v.assessmentsFeed, err = natsx.Follow(ctx, js, events.Assessments, []string{events.AssessmentRecordedAll}, jetstream.DeliverLastPerSubjectPolicy, func(m jetstream.Msg) {
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

// Records returns the latest records of a round passing keep, ordered by
// institution id, after the id `after`, at most limit, and whether more follow.
func (v *View) Records(roundID, after string, limit int, keep func(*assessmentv1.Assessment) bool) ([]*assessmentv1.Assessment, bool) {
	v.mu.RLock()
	m := v.byRound[roundID]
	ids := make([]string, 0, len(m))
	for id := range m {
		if id > after {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	var out []*assessmentv1.Assessment
	more := false
	for _, id := range ids {
		if !keep(m[id].a) {
			continue
		}
		if len(out) == limit {
			more = true
			break
		}
		out = append(out, m[id].a)
	}
	v.mu.RUnlock()
	return out, more
}

// History returns the latest record of one institution in every round.
func (v *View) History(institutionID string) []*assessmentv1.Assessment {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []*assessmentv1.Assessment
	for _, m := range v.byRound {
		if e, ok := m[institutionID]; ok {
			out = append(out, e.a)
		}
	}
	return out
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
	for _, e := range v.byRound[roundID] {
		if e.a.GetAfterPublication() {
			n++
		}
	}
	return n
}
