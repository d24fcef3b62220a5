package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/predikat-id/predikat/pkg/events"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"github.com/predikat-id/predikat/services/assessment/internal/app"
)

// groupCommitter is a committer on a server of its own, with a stream of
// ASSESSMENTS' settings on g.>.
func groupCommitter(t *testing.T) (*committer, jetstream.Stream) {
	t.Helper()
	js := natstest.Start(t).JetStream(t)
	cfg := events.StreamConfig(events.Assessments, 1)
	cfg.Name, cfg.Subjects = "GROUP", []string{"g.>"}
	stream, err := natsx.EnsureStream(context.Background(), js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &committer{js: js}, stream
}

// groupOutcome is what one record of a group was answered.
type groupOutcome struct {
	ack *jetstream.PubAck
	err error
}

// publishAsGroup queues msgs (with their expectations), in their order,
// while every slot is taken, so they can only go out as groups, then frees
// the slots and returns each record's answer.
func publishAsGroup(t *testing.T, c *committer, msgs []*nats.Msg, expect []uint64) []groupOutcome {
	t.Helper()
	c.mu.Lock()
	c.inflight = commitSlots
	c.mu.Unlock()
	out := make([]groupOutcome, len(msgs))
	var wg sync.WaitGroup
	for i, m := range msgs {
		wg.Go(func() {
			out[i].ack, out[i].err = c.publish(context.Background(), m, expect[i])
		})
		waitQueued(t, c, i+1)
	}
	for range commitSlots {
		c.release()
	}
	wg.Wait()
	return out
}

func waitQueued(t *testing.T, c *committer, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Microsecond) {
		c.mu.Lock()
		queued := len(c.queue)
		c.mu.Unlock()
		if queued == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records queued, want %d", queued, n)
		}
	}
}

func groupMsgs(prefix string, n int) ([]*nats.Msg, []uint64) {
	msgs := make([]*nats.Msg, n)
	for i := range msgs {
		msgs[i] = &nats.Msg{Subject: fmt.Sprintf("%s.%d", prefix, i), Data: []byte(fmt.Sprint(i)),
			Header: nats.Header{jetstream.MsgIDHeader: []string{fmt.Sprintf("%s-%d", prefix, i)}}}
	}
	return msgs, make([]uint64, n)
}

// Records that wait together are stored as one atomic batch, each answered
// with its own sequence; a group one of whose records the stream refuses
// is published again record by record, so that record alone is refused and
// a record stored before (by its message id) is answered as a duplicate
// of itself, as alone.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	c, stream := groupCommitter(t)

	msgs, expect := groupMsgs("g.a", 40)
	got := publishAsGroup(t, c, msgs, expect)
	for i, o := range got {
		if o.err != nil || o.ack.Sequence != uint64(i+1) || o.ack.Duplicate {
			t.Fatalf("record %d: %+v %v, want sequence %d", i, o.ack, o.err, i+1)
		}
	}
	if c.batches.Load() != 1 || c.batched.Load() != 40 {
		t.Fatalf("%d batches of %d records, want 1 of 40", c.batches.Load(), c.batched.Load())
	}
	for i := range 40 {
		m, err := stream.GetLastMsgForSubject(ctx, fmt.Sprintf("g.a.%d", i))
		if err != nil || string(m.Data) != fmt.Sprint(i) || m.Sequence != uint64(i+1) {
			t.Fatalf("g.a.%d: %v, %v", i, m, err)
		}
	}

	// A group of new records, one expecting a sequence its subject is not
	// at, one already stored under its message id, and one revision of a
	// stored record.
	msgs, expect = groupMsgs("g.b", 30)
	msgs[7].Subject, expect[7] = "g.a.7", 3 // g.a.7 is at 8
	msgs[12].Header.Set(jetstream.MsgIDHeader, "g.a-12")
	msgs[20].Subject, expect[20] = "g.a.20", 21
	got = publishAsGroup(t, c, msgs, expect)
	if c.batches.Load() != 1 || c.refused.Load() != 1 {
		t.Fatalf("%d batches stored, %d refused: want the second group refused whole", c.batches.Load(), c.refused.Load())
	}
	for i, o := range got {
		switch i {
		case 7:
			if !natsx.IsWrongLastSequence(o.err) {
				t.Fatalf("record 7 expecting the wrong sequence: %+v %v, want the stream's refusal", o.ack, o.err)
			}
		case 12:
			if o.err != nil || !o.ack.Duplicate || o.ack.Sequence != 13 {
				t.Fatalf("record 12 under a stored message id: %+v %v, want a duplicate of sequence 13", o.ack, o.err)
			}
		default:
			if o.err != nil || o.ack.Duplicate || o.ack.Sequence <= 40 {
				t.Fatalf("record %d: %+v %v, want stored", i, o.ack, o.err)
			}
		}
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 40+28 {
		t.Fatalf("stream holds %d messages, want 68", info.State.Msgs)
	}
}

// Two writers of one record never share a group: both expect the same
// sequence, so a batch holding both would be refused whole. The second
// waits for the next group; a group is at most maxAtomicGroup records,
// oldest first.
func TestTakeGroup(t *testing.T) {
	var c committer
	subjects := []string{"a", "b", "a", "c", "b", "d"}
	for _, s := range subjects {
		c.queue = append(c.queue, &pendingPub{ctx: context.Background(), msg: &nats.Msg{Subject: s}})
	}
	for i := range maxAtomicGroup + 10 {
		c.queue = append(c.queue, &pendingPub{ctx: context.Background(), msg: &nats.Msg{Subject: fmt.Sprint("n", i)}})
	}
	subjectsOf := func(g []*pendingPub) []string {
		var out []string
		for _, p := range g {
			out = append(out, p.msg.Subject)
		}
		return out
	}
	first := subjectsOf(c.takeLocked())
	if len(first) != maxAtomicGroup || fmt.Sprint(first[:4]) != "[a b c d]" {
		t.Fatalf("first group %v (%d), want a b c d then new subjects, %d in all", first[:6], len(first), maxAtomicGroup)
	}
	second := subjectsOf(c.takeLocked())
	if len(second) != 2+10+4 || fmt.Sprint(second[:2]) != "[a b]" {
		t.Fatalf("second group %v, want the second a and b first, then what did not fit", second)
	}
	if len(c.queue) != 0 {
		t.Fatalf("%d left in the queue", len(c.queue))
	}
}

// Two writers of a new record in the queue at once: exactly one stores it,
// the other is refused as it would be alone, and the group goes on.
func TestGroupCommitRacingWriters(t *testing.T) {
	ctx := context.Background()
	c, stream := groupCommitter(t)
	msgs, expect := groupMsgs("g.c", 20)
	msgs[19].Subject = "g.c.0"
	got := publishAsGroup(t, c, msgs, expect)
	for i, o := range got[1:19] {
		if o.err != nil {
			t.Fatalf("record %d: %v", i+1, o.err)
		}
	}
	a, b := got[0], got[19]
	if (a.err == nil) == (b.err == nil) || !natsx.IsWrongLastSequence(errors.Join(a.err, b.err)) {
		t.Fatalf("two writers of g.c.0: %v and %v, want one stored and one refused", a.err, b.err)
	}
	info, err := stream.Info(ctx)
	if err != nil || info.State.Msgs != 19 {
		t.Fatalf("stream: %+v %v, want 19 messages", info, err)
	}
}

// holdSlots takes every slot, so records queue; the returned func frees
// them and the queue goes out as groups.
func holdSlots(c *committer) (release func()) {
	c.mu.Lock()
	c.inflight = commitSlots
	c.mu.Unlock()
	return func() {
		for range commitSlots {
			c.release()
		}
	}
}

// A caller that gives up while its record waits is answered at once, and
// its record is never sent: sent late, it could still win its record from
// the caller's next request.
func TestGroupCommitDropsWhatItsCallerGaveUp(t *testing.T) {
	ctx := context.Background()
	c, stream := groupCommitter(t)
	release := holdSlots(c)
	msgs, _ := groupMsgs("g.d", 3)
	cctx, cancel := context.WithCancel(ctx)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i, m := range msgs {
		pctx := ctx
		if i == 1 {
			pctx = cctx
		}
		wg.Go(func() { _, errs[i] = c.publish(pctx, m, 0) })
		waitQueued(t, c, i+1)
	}
	cancel()
	release()
	wg.Wait()
	if !errors.Is(errs[1], context.Canceled) || errs[0] != nil || errs[2] != nil {
		t.Fatalf("answers %v, want only the second cancelled", errs)
	}
	if _, err := stream.GetLastMsgForSubject(ctx, "g.d.1"); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Fatalf("the given-up record was sent: %v", err)
	}
}

// A group whose batch gets no answer may have been stored: its records
// get the error, as a lost publish's caller would, and are not sent again
// (a stored one would come back as a duplicate, not as the caller's new
// revision). A stream that takes no atomic batch refuses it: its records
// go one by one.
func TestGroupCommitWithoutAnAnswerOrABatch(t *testing.T) {
	ctx := context.Background()
	js := natstest.Start(t).JetStream(t)
	c := &committer{js: js}
	msgs, expect := groupMsgs("nostream", minAtomicGroup)
	for i, o := range publishAsGroup(t, c, msgs, expect) {
		if o.err == nil || natsx.IsWrongLastSequence(o.err) {
			t.Fatalf("record %d to no stream: %+v %v, want the lost answer's error", i, o.ack, o.err)
		}
	}
	if c.refused.Load() != 0 || c.batches.Load() != 0 {
		t.Fatalf("%d refused, %d stored: a lost answer is neither", c.refused.Load(), c.batches.Load())
	}

	cfg := events.StreamConfig(events.Assessments, 1)
	cfg.Name, cfg.Subjects, cfg.AllowAtomicPublish = "PLAIN", []string{"p.>"}, false
	stream, err := natsx.EnsureStream(ctx, js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	msgs, expect = groupMsgs("p.a", minAtomicGroup)
	for i, o := range publishAsGroup(t, c, msgs, expect) {
		if o.err != nil || o.ack.Duplicate {
			t.Fatalf("record %d: %+v %v, want stored one by one", i, o.ack, o.err)
		}
	}
	info, err := stream.Info(ctx)
	if err != nil || info.State.Msgs != minAtomicGroup || c.refused.Load() != 1 {
		t.Fatalf("stream %+v (%v), %d refused: want every record stored after one refusal", info.State, err, c.refused.Load())
	}
}

// Records of the service, with their real messages, go through the group
// commit whole: each is a new revision, readable as stored.
func TestGroupCommitOfRecords(t *testing.T) {
	a, _, _ := twoReplicas(t)
	c := a.st.commits
	release := holdSlots(c)
	const n = 40
	got := make([]app.Recorded, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			got[i], errs[i] = a.record(t, fmt.Sprintf("kab-g%02d", i), fmt.Sprintf("%d.50", 50+i), 0, fmt.Sprintf("g-%d", i))
		})
	}
	waitQueued(t, c, n)
	release()
	wg.Wait()
	if c.batches.Load() != 1 || c.batched.Load() != n {
		t.Fatalf("%d batches of %d records, want 1 of %d", c.batches.Load(), c.batched.Load(), n)
	}
	for i := range n {
		if errs[i] != nil || !got[i].Created || got[i].Assessment.Revision != 1 {
			t.Fatalf("record %d: %+v %v, want a new revision 1", i, got[i], errs[i])
		}
		stored, err := a.st.Assessment(context.Background(), "ombudsman", 2024, "ombudsman-2024", fmt.Sprintf("kab-g%02d", i), 0)
		if err != nil || stored.GetTotal() != fmt.Sprintf("%d.50", 50+i) || stored.GetRequestId() != fmt.Sprintf("g-%d", i) {
			t.Fatalf("kab-g%02d as stored: %v %v", i, stored, err)
		}
	}
}

// Records decided on the OPEN round and stored together after its close:
// the close's fence lies before the whole batch, so every one is refused
// and none counts.
func TestGroupCommitAfterACloseIsRefused(t *testing.T) {
	ctx := context.Background()
	a, _, _ := twoReplicas(t)
	c := a.st.commits
	release := holdSlots(c)
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = a.record(t, fmt.Sprintf("kab-c%02d", i), "70.00", 0, fmt.Sprintf("c-%d", i))
		})
	}
	waitQueued(t, c, n)
	if _, err := a.app.CloseRound.Handle(ctx, app.CloseRound{RoundID: "ombudsman-2024"}); err != nil {
		t.Fatal(err)
	}
	release()
	wg.Wait()
	if c.batches.Load() != 1 {
		t.Fatalf("%d batches, want the queued records stored as one", c.batches.Load())
	}
	for i := range n {
		if !fault.Is(errs[i], fault.Precondition) {
			t.Fatalf("record %d stored after the close: %v, want refused", i, errs[i])
		}
		if _, err := a.st.Assessment(ctx, "ombudsman", 2024, "ombudsman-2024", fmt.Sprintf("kab-c%02d", i), 0); !fault.Is(err, fault.NotFound) {
			t.Fatalf("kab-c%02d counts in the round: %v", i, err)
		}
	}
}

// A caller joins the round read in flight only if that read was sent
// after the caller's append was acknowledged (records acknowledged
// together share one read); a read sent at the same instant or before may
// have been answered before the append, so the caller reads again.
func TestFreshRoundJoinsOnlyAReadSentAfterTheAck(t *testing.T) {
	ctx := context.Background()
	a, _, _ := twoReplicas(t)
	rr := &a.st.roundReads
	const id, fakeRev = "ombudsman-2024", uint64(1) << 40
	// readWith puts a read in flight, sent at sent and answering fakeRev,
	// and returns the revision a caller acknowledged at acked gets: the
	// in-flight read's if it joins it, a read of its own otherwise.
	readWith := func(sent, acked time.Time) uint64 {
		inFlight := &roundRead{done: make(chan struct{}), started: sent, rev: fakeRev}
		rr.mu.Lock()
		if rr.inFlight == nil {
			rr.inFlight, rr.queued = map[string]*roundRead{}, map[string]*roundRead{}
		}
		rr.inFlight[id] = inFlight
		rr.mu.Unlock()
		got := make(chan uint64, 1)
		go func() {
			_, rev, err := a.st.freshRound(ctx, id, acked)
			if err != nil {
				t.Error(err)
			}
			got <- rev
		}()
		close(inFlight.done)
		return <-got
	}
	sent := time.Now()
	if rev := readWith(sent, sent.Add(-time.Nanosecond)); rev != fakeRev {
		t.Fatalf("acknowledged before the read in flight was sent: revision %d, want that read's", rev)
	}
	sent = time.Now()
	if rev := readWith(sent, sent); rev == fakeRev || rev == 0 {
		t.Fatalf("acknowledged when the read in flight was sent: revision %d, want a read of its own", rev)
	}
}
