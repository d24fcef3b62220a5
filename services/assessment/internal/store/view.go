package store

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	"google.golang.org/protobuf/proto"
)

// View is this replica's index of the latest revision of every record, by
// round and institution. It is derived from the stream and rebuilt at every
// start, so it never needs a migration.
type View struct {
	mu       sync.RWMutex
	byRound  map[string]map[string]*assessmentv1.Assessment
	applied  uint64
	progress chan struct{}
}

func newView() *View {
	return &View{byRound: map[string]map[string]*assessmentv1.Assessment{}, progress: make(chan struct{})}
}

func (v *View) apply(seq uint64, a *assessmentv1.Assessment) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if a != nil {
		m := v.byRound[a.GetRoundId()]
		if m == nil {
			m = map[string]*assessmentv1.Assessment{}
			v.byRound[a.GetRoundId()] = m
		}
		if m[a.GetInstitutionId()].GetRevision() < a.GetRevision() {
			m[a.GetInstitutionId()] = a
		}
	}
	if seq > v.applied {
		v.applied = seq
	}
	close(v.progress)
	v.progress = make(chan struct{})
}

func (v *View) waitApplied(ctx context.Context, seq uint64) error {
	for {
		v.mu.RLock()
		done, ch := v.applied >= seq, v.progress
		v.mu.RUnlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// follow starts an ordered consumer delivering the last message of every
// subject, then every new one, and returns once the view has caught up with
// the stream as it was at the call.
func (v *View) follow(ctx context.Context, js jetstream.JetStream, st jetstream.Stream, log *slog.Logger) error {
	info, err := st.Info(ctx)
	if err != nil {
		return err
	}
	target := info.State.LastSeq
	cons, err := js.OrderedConsumer(ctx, info.Config.Name, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{"predikat.assessment.recorded.>"},
		DeliverPolicy:  jetstream.DeliverLastPerSubjectPolicy,
	})
	if err != nil {
		return err
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		md, err := m.Metadata()
		if err != nil {
			return
		}
		var ev eventsv1.AssessmentRecorded
		if err := proto.Unmarshal(m.Data(), &ev); err != nil {
			log.Error("undecodable assessment event", "subject", m.Subject(), "seq", md.Sequence.Stream, "err", err)
			v.apply(md.Sequence.Stream, nil)
			return
		}
		v.apply(md.Sequence.Stream, ev.GetAssessment())
	})
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); cc.Stop() }()
	if err := v.waitApplied(ctx, target); err != nil {
		return fmt.Errorf("catch up to sequence %d: %w", target, err)
	}
	return nil
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
