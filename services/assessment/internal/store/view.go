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
	byRound map[string]map[string]*assessmentv1.Assessment
	awards  map[string]*assessmentv1.Award
	// fingerprints holds, by award id, the fingerprint of the GrantAward
	// request that granted it, for awards granted with one.
	fingerprints map[string]string

	assessmentsFeed, awardsFeed *natsx.Follower
}

func newView() *View {
	return &View{byRound: map[string]map[string]*assessmentv1.Assessment{}, awards: map[string]*assessmentv1.Award{}, fingerprints: map[string]string{}}
}

func (v *View) putAssessment(a *assessmentv1.Assessment) {
	v.mu.Lock()
	defer v.mu.Unlock()
	m := v.byRound[a.GetRoundId()]
	if m == nil {
		m = map[string]*assessmentv1.Assessment{}
		v.byRound[a.GetRoundId()] = m
	}
	if m[a.GetInstitutionId()].GetRevision() < a.GetRevision() {
		m[a.GetInstitutionId()] = a
	}
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
// everything stored before the call.
func (v *View) follow(ctx context.Context, js jetstream.JetStream, log *slog.Logger) error {
	var err error
	v.assessmentsFeed, err = natsx.Follow(ctx, js, events.Assessments, []string{events.AssessmentRecordedAll}, jetstream.DeliverLastPerSubjectPolicy, func(m jetstream.Msg) {
		var ev eventsv1.AssessmentRecorded
		if err := proto.Unmarshal(m.Data(), &ev); err != nil {
			log.Error("undecodable assessment event", "subject", m.Subject(), "err", err)
			return
		}
		v.putAssessment(ev.GetAssessment())
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
		if !keep(m[id]) {
			continue
		}
		if len(out) == limit {
			more = true
			break
		}
		out = append(out, m[id])
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
		if a := m[institutionID]; a != nil {
			out = append(out, a)
		}
	}
	return out
}

func (v *View) correctionCount(roundID string) int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	n := 0
	for _, a := range v.byRound[roundID] {
		if a.GetAfterPublication() {
			n++
		}
	}
	return n
}
