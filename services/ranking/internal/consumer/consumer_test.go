package consumer

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/predikat-id/predikat/pkg/events"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	"github.com/predikat-id/predikat/pkg/platform/redisx"
	rt "github.com/predikat-id/predikat/pkg/platform/testenv/eventtest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/redistest"
	"github.com/predikat-id/predikat/services/ranking/internal/rebuild"
	"github.com/predikat-id/predikat/services/ranking/internal/store"
)

type fixture struct {
	t    *testing.T
	ns   *natstest.Server
	js   jetstream.JetStream
	pub  *rt.Publisher
	st   *store.Store
	cons *Consumer
	n    int
}

// newFixture runs a consumer on a real NATS and a real Redis with boards
// built from the (empty) log; hook, if set, is the consumer's beforeApply.
func newFixture(t *testing.T, hook func(context.Context, string)) *fixture {
	t.Helper()
	ns := natstest.Start(t)
	js, err := jetstream.New(ns.Conn(t))
	if err != nil {
		t.Fatal(err)
	}
	rs := redistest.Start(t)
	rdb, err := redisx.NewClient(rs.Addr(), redisx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	f := &fixture{t: t, ns: ns, js: js, pub: rt.NewPublisher(t, js), st: store.New(rdb)}
	log := natstest.Logger(t)
	ctx, cancel := context.WithCancel(context.Background())
	coord := rebuild.NewCoordinator(ctx, rebuild.NewBuilder(js, f.st, log), log)
	if _, err := coord.Rebuild(ctx, rebuild.Filter{}); err != nil {
		t.Fatal(err)
	}
	f.cons = New(js, f.st, coord, log)
	f.cons.beforeApply = hook
	var wg sync.WaitGroup
	wg.Go(func() { f.cons.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		coord.Wait()
	})
	return f
}

// record publishes n more assessments.
func (f *fixture) record(n int) {
	f.t.Helper()
	for range n {
		f.n++
		in := rt.Inst{ID: fmt.Sprintf("pemkab-%03d", f.n), Name: fmt.Sprintf("Kabupaten %03d", f.n), Kind: rt.Pemkab, Region: "63.05"}
		f.pub.Record(f.t, rt.Rec{Year: 2024, Inst: in, Total: "80.00"})
	}
}

func (f *fixture) applied() uint64 {
	st, err := f.st.State(context.Background())
	if err != nil {
		return 0
	}
	return st.Applied[store.SeqAssessments]
}

// waitApplied waits until Redis holds every assessment published.
func (f *fixture) waitApplied(within time.Duration) {
	f.t.Helper()
	deadline := time.Now().Add(within)
	for f.applied() < uint64(f.n) {
		if time.Now().After(deadline) {
			f.t.Fatalf("applied %d of %d within %s", f.applied(), f.n, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (f *fixture) watch() Report {
	st, err := f.st.State(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return f.cons.Watch(context.Background(), st.Applied, st.Rebuilding)
}

// The consumer's server-side state is deleted under it: the subscription
// is re-created and every event is applied.
func TestResumesWhenTheConsumerIsDeleted(t *testing.T) {
	f := newFixture(t, nil)
	f.record(5)
	f.waitApplied(10 * time.Second)
	ctx := context.Background()
	if err := f.js.DeleteConsumer(ctx, events.Assessments, Durable); err != nil {
		t.Fatal(err)
	}
	f.record(5)
	f.waitApplied(15 * time.Second)
	// Deleted and re-created behind the consumer's back, with a pull
	// request the new one never got.
	if err := f.js.DeleteConsumer(ctx, events.Assessments, Durable); err != nil {
		t.Fatal(err)
	}
	cfg := config(sources[0])
	cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, uint64(f.n)+1
	if _, err := f.js.CreateOrUpdateConsumer(ctx, events.Assessments, cfg); err != nil {
		t.Fatal(err)
	}
	f.record(5)
	f.waitApplied(15 * time.Second)
}

// NATS restarts while events keep coming: the consumer resumes, and the
// watchdog sees it behind, then caught up.
func TestResumesAfterNATSRestart(t *testing.T) {
	f := newFixture(t, nil)
	f.record(3)
	f.waitApplied(10 * time.Second)
	for range 2 {
		f.ns.Restart(t)
		// As in the stack's NATS restart test: a publish right at the
		// restart may be lost with the old connection; events keep coming
		// a moment later.
		for !f.js.Conn().IsConnected() {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		f.record(3)
		f.waitApplied(15 * time.Second)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !f.watch().CaughtUp() {
		if time.Now().After(deadline) {
			t.Fatalf("not caught up: %+v", f.watch())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A consumer that holds events but applies none is flagged stalled: its
// subscription is re-created, then a rebuild asked for; once it applies
// again it is caught up.
func TestWatchdogFlagsAStalledConsumer(t *testing.T) {
	old := StallAfter
	StallAfter = 500 * time.Millisecond
	t.Cleanup(func() { StallAfter = old })
	release := make(chan struct{})
	var blocked sync.Once
	hook := func(ctx context.Context, stream string) {
		if stream != events.Assessments {
			return
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
	}
	f := newFixture(t, hook)
	if r := f.watch(); !r.CaughtUp() {
		t.Fatalf("an empty log is not caught up: %+v", r)
	}
	f.record(3)
	var actions []Action
	deadline := time.Now().Add(15 * time.Second)
	for len(actions) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("actions %v within 15s", actions)
		}
		r := f.watch()
		if r.CaughtUp() {
			t.Fatalf("caught up while nothing is applied: %+v", r)
		}
		for _, s := range r.Stalled() {
			if s.Stream != events.Assessments {
				t.Fatalf("stalled: %v", s)
			}
			if s.Action != None {
				actions = append(actions, s.Action)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if actions[0] != Resubscribe || actions[1] != Rebuild {
		t.Fatalf("actions = %v, want resubscribe, then rebuild", actions)
	}
	blocked.Do(func() { close(release) })
	f.waitApplied(10 * time.Second)
	deadline = time.Now().Add(10 * time.Second)
	for {
		r := f.watch()
		if r.CaughtUp() && len(r.Stalled()) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not caught up after release: %+v", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestJudgeEscalates(t *testing.T) {
	var p progress
	t0 := time.Now()
	k := [3]uint64{1, 2, 1}
	step := func(d time.Duration, key [3]uint64, caught bool) (bool, Action) {
		return p.judge(t0.Add(d), key, caught, false, 10*time.Second)
	}
	if s, a := step(0, k, false); s || a != None {
		t.Fatal("first look")
	}
	if s, a := step(9*time.Second, k, false); s || a != None {
		t.Fatal("before StallAfter")
	}
	if s, a := step(10*time.Second, k, false); !s || a != Resubscribe {
		t.Fatal("at StallAfter: resubscribe")
	}
	if s, a := step(15*time.Second, k, false); !s || a != None {
		t.Fatal("between repairs")
	}
	if s, a := step(20*time.Second, k, false); !s || a != Rebuild {
		t.Fatal("still stuck: rebuild")
	}
	if s, a := step(21*time.Second, [3]uint64{2, 2, 2}, false); s || a != None {
		t.Fatal("progress resets")
	}
	if s, a := step(40*time.Second, [3]uint64{2, 2, 2}, true); s || a != None {
		t.Fatal("caught up is never stalled")
	}
}

// standingRevision is the revision of inst on the boards (0: absent).
func (f *fixture) standingRevision(inst string) uint64 {
	st, err := f.st.Standing(context.Background(), "ombudsman", 2024, inst)
	if err != nil || !st.Found {
		return 0
	}
	return st.Entry.Revision
}

func (f *fixture) waitRevision(inst string, want uint64, within time.Duration) {
	f.t.Helper()
	deadline := time.Now().Add(within)
	for f.standingRevision(inst) != want {
		if time.Now().After(deadline) {
			f.t.Fatalf("%s on the boards at revision %d, want %d", inst, f.standingRevision(inst), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A record stored after a close's fence never counts: one applied before
// the fence was known is taken off the boards when the close arrives, and
// one arriving after it is refused by the apply itself.
func TestFenceKeepsRefusedRecordsOffTheBoards(t *testing.T) {
	f := newFixture(t, nil)
	a := rt.Inst{ID: "pemkab-a", Name: "Kabupaten A", Kind: rt.Pemkab, Region: "63.05"}
	b := rt.Inst{ID: "pemkab-b", Name: "Kabupaten B", Kind: rt.Pemkab, Region: "63.06"}
	c := rt.Inst{ID: "pemkab-c", Name: "Kabupaten C", Kind: rt.Pemkab, Region: "63.07"}
	fence := f.pub.Stored(t, rt.Rec{Year: 2024, Inst: a, Total: "70.00", RoundRevision: 3})
	// Decided on revision 3 too, stored after the close settled its fence.
	f.pub.Stored(t, rt.Rec{Year: 2024, Inst: a, Total: "90.00", RoundRevision: 3})
	f.waitRevision(a.ID, 2, 10*time.Second)

	f.pub.PublishRoundChanged(t, "ombudsman", 2024, eventsv1.RoundChangeType_ROUND_CHANGE_TYPE_CLOSED,
		&eventsv1.AssessmentFence{RoundRevision: 3, Sequence: fence})
	f.waitRevision(a.ID, 1, 20*time.Second)

	f.pub.Stored(t, rt.Rec{Year: 2024, Inst: b, Total: "95.00", RoundRevision: 3}) // refused
	f.pub.Stored(t, rt.Rec{Year: 2024, Inst: c, Total: "60.00", RoundRevision: 5}) // a later revision counts
	f.waitRevision(c.ID, 1, 10*time.Second)
	if rev := f.standingRevision(b.ID); rev != 0 {
		t.Fatalf("%s refused by the fence is on the boards at revision %d", b.ID, rev)
	}
	if due, err := f.st.FenceChecks(context.Background(), "ombudsman", 2024); err != nil || len(due) != 0 {
		t.Fatalf("fence checks still due: %v, %v", due, err)
	}
}
