package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
)

// batchYears are the Ombudsman rounds the batches record in. A batch
// stores only new records (revision 1), so every record of every batch
// needs an institution-round pair not recorded before: these years hold
// none of the run's other records (2024 is RecordAssessment's round, 2023
// and 2022 the fan-out's, 2021 and 2020 the fan-out's spares).
var batchYears = []int32{2013, 2014, 2015, 2016, 2017, 2018, 2019, 2025}

// errPoolDry stops a caller whose batch found no fresh institution-round
// pair left: the cell counts the batches sent until then.
var errPoolDry = errors.New("no institution-round pair left for a batch")

// pairPool hands out runs of institutions not yet recorded in a round:
// each batch takes k consecutive institutions of one year.
type pairPool struct {
	mu    sync.Mutex
	years []int32
	n     int // institutions per year
	year  int // index into years of the year being used
	next  int // the next institution of that year
	// share is what the current cell may still take (-1: no limit), so
	// a cell measured again on a busy machine cannot leave the cells
	// after it without pairs.
	share int
}

func newPairPool(years []int32, institutions int) *pairPool {
	return &pairPool{years: years, n: institutions, share: -1}
}

// shareFor gives the next cell its fair part of the pairs left: an equal
// share with the cells after it (cells is how many are left, this one
// included). What a cell leaves goes to the cells after it.
func (p *pairPool) shareFor(cells int) {
	left := p.left()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.share = left / max(cells, 1)
}

// take returns the year and first institution of k fresh pairs, or false
// when no year has k institutions left.
func (p *pairPool) take(k int) (int32, int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.share >= 0 && k > p.share {
		return 0, 0, false
	}
	for p.year < len(p.years) {
		if p.next+k <= p.n {
			at := p.next
			p.next += k
			if p.share >= 0 {
				p.share -= k
			}
			return p.years[p.year], at, true
		}
		p.year, p.next = p.year+1, 0
	}
	return 0, 0, false
}

// left is how many pairs are left, for the report.
func (p *pairPool) left() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.year >= len(p.years) {
		return 0
	}
	return (len(p.years)-p.year)*p.n - p.next
}

const batchName = "BatchRecordAssessments"

// batchGroup measures BatchRecordAssessments: the first batch size at
// every caller count, the others at one caller (an import is one caller),
// beside a raw atomic batch of the same size and RecordAssessment, all in
// records/s.
func (r *runner) batchGroup(ctx context.Context) error {
	if err := r.ensurePublishStream(ctx, "BENCH_BATCH", "bench.batch.>"); err != nil {
		return err
	}
	type cell struct{ k, callers int }
	var cells []cell
	for i, k := range r.p.batches {
		if k > len(r.insts) {
			continue
		}
		callers := r.p.callers
		if i > 0 {
			callers = callers[:1]
		}
		for _, c := range callers {
			cells = append(cells, cell{k, c})
		}
	}
	for i, x := range cells {
		r.pairs.shareFor(len(cells) - i)
		if err := r.batchCell(ctx, x.k, x.callers); err != nil {
			if err := r.failRow(ctx, batchName, x.k, x.callers, err); err != nil {
				return err
			}
		}
	}
	r.rep.Setup["batch_pairs_left"] = r.pairs.left()
	return nil
}

func (r *runner) batchCell(ctx context.Context, k, c int) error {
	var dry atomic.Bool
	op := subject{fmt.Sprintf("%s of %d", batchName, k), func(ctx context.Context, _, _ int) error {
		year, at, ok := r.pairs.take(k)
		if !ok {
			dry.Store(true)
			return errPoolDry
		}
		si := r.schemeOf(year)
		req := &assessmentv1.BatchRecordAssessmentsRequest{RoundId: fmt.Sprintf("%s-%d", schemeID, year)}
		for j := at; j < at+k; j++ {
			req.Records = append(req.Records, &assessmentv1.BatchRecord{InstitutionId: r.insts[j].id, Input: si.input(j, 0, 60),
				RequestId: fmt.Sprintf("batch-%d-%d", year, j)})
		}
		resp, err := r.s.assessment.BatchRecordAssessments(ctx, req)
		if err != nil {
			return fmt.Errorf("batch of %d in %s from %s: %w", k, req.GetRoundId(), r.insts[at].id, err)
		}
		for _, x := range resp.GetResults() {
			if !x.GetCreated() {
				return fmt.Errorf("batch in %s: %s answered as stored before", req.GetRoundId(), x.GetAssessment().GetInstitutionId())
			}
		}
		return nil
	}}
	raw, err := r.atomicSubject(k, "bench.batch", fmt.Sprintf("k%d-c%d", k, c))
	if err != nil {
		return err
	}
	sts, prof, err := r.cell(ctx, k, c, op, raw, subject{recordName, r.recordCall(c)})
	if err != nil {
		return err
	}
	// A call is a batch of k records: the rows are in records/s, the
	// record's against one record a call.
	rowA := versus(batchName, k, c, perRecord(sts[0], k), raw.name, perRecord(sts[1], k), targetBatchVsAtomic, prof)
	rowB := versus(batchName, k, c, perRecord(sts[0], k), recordName, sts[2], 0, prof)
	rowA.Note = fmt.Sprintf("ops/s are records/s (a call is a batch of %d; p50 and p99 per batch); RecordAssessment one record a call", k)
	if dry.Load() {
		rowA.Note += "; the fresh institution-round pairs ran out during the cell: it counts the batches sent until then"
	}
	r.add(rowA, rowB)
	return nil
}

// perRecord is st of calls that each carry k records, in records/s.
func perRecord(st stats, k int) stats {
	st.OpsPerSec *= float64(k)
	return st
}

// atomicSubject is the raw baseline of a batch: k messages of the event a
// record stores, each with its own subject under prefix, message id and
// expected last subject sequence 0 (as the service writes them), published
// as one atomic batch (natsx.PublishAtomic) to a stream with the settings
// of ASSESSMENTS.
func (r *runner) atomicSubject(k int, prefix, tag string) (subject, error) {
	tmpl, err := events.NewMsg("bench.batch.x", "/predikat/assessment", r.insts[0].id,
		r.si.recordedEvent(schemeID, schemeYear, r.insts[0], 9000, time.Now()))
	if err != nil {
		return subject{}, err
	}
	return subject{fmt.Sprintf("JetStream atomic batch of %d", k), func(ctx context.Context, w, i int) error {
		msgs := make([]*nats.Msg, k)
		for j := range msgs {
			m := &nats.Msg{Subject: fmt.Sprintf("%s.%s.%d.%d.%d", prefix, tag, w, i, j), Data: tmpl.Data, Header: nats.Header{}}
			for h, v := range tmpl.Header {
				m.Header[h] = v
			}
			m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s-%d-%d-%d", tag, w, i, j))
			m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, "0")
			msgs[j] = m
		}
		_, err := natsx.PublishAtomic(ctx, r.s.benchNC, msgs)
		return err
	}}, nil
}

// fsyncGroup measures what an atomic batch costs against single
// publishes, with the server's fsync of every write: one atomic batch of
// k, k synchronous publishes one after another, and one publish, at one
// caller. If the server wrote a batch with one fsync, the batch costs
// about one publish plus the bytes; with one fsync per message, about k.
func (r *runner) fsyncGroup(ctx context.Context) error {
	k := r.p.batches[0]
	if err := r.ensurePublishStream(ctx, "BENCH_BATCH", "bench.batch.>"); err != nil {
		return err
	}
	batch, err := r.atomicSubject(k, "bench.batch", "fsync")
	if err != nil {
		return err
	}
	one, err := r.publishSubject("fsync-one", 1)
	if err != nil {
		return err
	}
	single, err := r.publishSubject("fsync-each", 1)
	if err != nil {
		return err
	}
	each := subject{fmt.Sprintf("%d sync publishes", k), func(ctx context.Context, w, i int) error {
		for j := range k {
			if err := single.fn(ctx, w, i*k+j); err != nil {
				return err
			}
		}
		return nil
	}}
	sts, _, err := r.cell(ctx, k, 1, batch, each, one)
	if err != nil {
		return r.failRow(ctx, batch.name, k, 1, err)
	}
	rowEach := growthRow(batch.name+" vs publishes", k, 1, sts[0], each.name, sts[1], "")
	rowOne := growthRow(batch.name+" vs publishes", k, 1, sts[0], publishName, sts[2], "")
	for _, row := range []*Row{&rowEach, &rowOne} {
		row.Target, row.Pass = "", nil
	}
	rowEach.Note = fmt.Sprintf("ratio is p50 over the baseline's p50: an atomic batch of %d against %d synchronous publishes in a row and against one; the server fsyncs every write (sync_always)", k, k)
	r.add(rowEach, rowOne)
	return r.readersCell(ctx, k)
}

// readersCell measures what a stream's readers cost its writers: the raw
// atomic batch into a stream read as ASSESSMENTS is (a durable consumer
// acknowledging every message, as the ranking service's, and an ordered
// consumer, as an assessment replica's view; here in the harness's
// process) against the same batch into the unread stream of the batch
// rows' baseline. BatchRecordAssessments writes into the read one.
func (r *runner) readersCell(ctx context.Context, k int) error {
	const stream = "BENCH_BATCH_READ"
	name := fmt.Sprintf("JetStream atomic batch of %d with readers", k)
	if err := r.ensurePublishStream(ctx, stream, "bench.batchread.>"); err != nil {
		return r.failRow(ctx, name, k, 1, err)
	}
	stop, err := readLikeAssessments(ctx, r.s.js, stream)
	if err != nil {
		return r.failRow(ctx, name, k, 1, err)
	}
	defer stop()
	read, err := r.atomicSubject(k, "bench.batchread", "read")
	if err != nil {
		return err
	}
	read.name = name
	unread, err := r.atomicSubject(k, "bench.batch", "unread")
	if err != nil {
		return err
	}
	sts, _, err := r.cell(ctx, k, 1, read, unread)
	if err != nil {
		return r.failRow(ctx, name, k, 1, err)
	}
	row := versus(name, k, 1, perRecord(sts[0], k), unread.name, perRecord(sts[1], k), 0, "")
	row.Note = "ops/s are records/s; a durable consumer acknowledging every message and an ordered consumer read the stream, as the ranking service and the assessment view read ASSESSMENTS; the batch rows' baseline is the unread stream"
	r.add(row)
	return nil
}

// readLikeAssessments attaches to stream the readers ASSESSMENTS has: a
// durable consumer acknowledging every message and an ordered consumer.
func readLikeAssessments(ctx context.Context, js jetstream.JetStream, stream string) (stop func(), err error) {
	durable, err := js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{Durable: "bench-ranking",
		AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 1024})
	if err != nil {
		return nil, fmt.Errorf("durable reader of %s: %w", stream, err)
	}
	acking, err := durable.Consume(func(m jetstream.Msg) { _ = m.Ack() }, jetstream.PullMaxMessages(512))
	if err != nil {
		return nil, fmt.Errorf("durable reader of %s: %w", stream, err)
	}
	ordered, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy})
	if err != nil {
		acking.Stop()
		return nil, fmt.Errorf("ordered reader of %s: %w", stream, err)
	}
	following, err := ordered.Consume(func(jetstream.Msg) {})
	if err != nil {
		acking.Stop()
		return nil, fmt.Errorf("ordered reader of %s: %w", stream, err)
	}
	return func() { following.Stop(); acking.Stop() }, nil
}
