package store

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/predikat-id/predikat/pkg/events"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"github.com/predikat-id/predikat/services/assessment/internal/app"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

// BenchmarkRecord compares RecordAssessment's use case (the whole write
// path below gRPC: round, tip, registry, scoring, the append and its
// checks) with a bare synchronous publish of the same event to a stream
// with the settings of ASSESSMENTS, on a server that fsyncs every write as
// the stack's does. Read record against publish of the same run:
//
//	go test -run '^$' -bench Record -count 3 ./services/assessment/internal/store
//
// PREDIKAT_BENCH_PRELOAD=n stores n other records first (the cost of a
// record must not grow with the stream).
func BenchmarkRecord(b *testing.B) {
	ctx := context.Background()
	js, r, tmpl := benchRound(b, true, "BENCH_PUBLISH", "bench.publish")
	if os.Getenv("PREDIKAT_BENCH_CONSUMER") != "" {
		// A durable consumer acknowledging every record, as the ranking
		// service's is: its acknowledgements are writes of the server too.
		cons, err := js.CreateOrUpdateConsumer(ctx, events.Assessments, jetstream.ConsumerConfig{Durable: "bench", AckPolicy: jetstream.AckExplicitPolicy})
		if err != nil {
			b.Fatal(err)
		}
		cc, err := cons.Consume(func(m jetstream.Msg) { _ = m.Ack() })
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(cc.Stop)
	}
	record := func(ctx context.Context, inst string, rev uint64) error { return benchRecord(ctx, r, inst, rev) }
	publish := publisher(js, tmpl, "bench.publish.")

	var ids atomic.Int64
	for _, callers := range []int{1, 50} {
		b.Run(fmt.Sprintf("c%d/record", callers), func(b *testing.B) { runCallers(b, callers, record, &ids) })
		b.Run(fmt.Sprintf("c%d/publish", callers), func(b *testing.B) { runCallers(b, callers, publish, &ids) })
	}
}

// benchRound is the setup the write benchmarks share: a server that
// fsyncs every write (holding PREDIKAT_BENCH_PRELOAD records of another
// round first if preloaded), a replica with the round ombudsman-2024 open,
// a stream of its own with the settings of ASSESSMENTS on subject.> for
// bare publishes, and a message of one record to publish there.
func benchRound(b *testing.B, preloaded bool, stream, subject string) (jetstream.JetStream, replica, *nats.Msg) {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	if n, _ := strconv.Atoi(os.Getenv("PREDIKAT_BENCH_PRELOAD")); preloaded && n > 0 {
		// Loaded without fsync (it would take minutes), measured with it.
		stop, js := benchServer(b, dir, false)
		preload(b, js, n)
		stop()
	}
	stop, js := benchServer(b, dir, true)
	b.Cleanup(stop)
	r := openReplica(b, js, true)
	if _, err := r.app.CreateRound.Handle(ctx, app.CreateRound{SchemeID: "ombudsman", Year: 2024, By: "bench"}); err != nil {
		b.Fatal(err)
	}
	cfg := events.StreamConfig(events.Assessments, 1)
	cfg.Name, cfg.Subjects = stream, []string{subject + ".>"}
	if _, err := natsx.EnsureStream(ctx, js, cfg); err != nil {
		b.Fatal(err)
	}
	tmpl, err := events.NewMsg(subject+".x", Source, "kab-x", sampleRecorded(0))
	if err != nil {
		b.Fatal(err)
	}
	return js, r, tmpl
}

// fromTemplate is tmpl (its data shared, its headers copied) on subject.
func fromTemplate(tmpl *nats.Msg, subject string) *nats.Msg {
	m := &nats.Msg{Subject: subject, Data: tmpl.Data, Header: nats.Header{}}
	for k, v := range tmpl.Header {
		m.Header[k] = v
	}
	return m
}

// publisher publishes tmpl as revision rev of inst, under prefix+inst,
// and waits for the stream's acknowledgement.
func publisher(js jetstream.JetStream, tmpl *nats.Msg, prefix string) func(ctx context.Context, inst string, rev uint64) error {
	return func(ctx context.Context, inst string, rev uint64) error {
		m := fromTemplate(tmpl, prefix+inst)
		m.Header.Set(jetstream.MsgIDHeader, inst+"-"+strconv.FormatUint(rev, 10))
		_, err := js.PublishMsg(ctx, m)
		return err
	}
}

// runCallers times op from callers goroutines (one: the benchmark's own),
// each on an institution of its own.
func runCallers(b *testing.B, callers int, op func(ctx context.Context, inst string, rev uint64) error, ids *atomic.Int64) {
	b.SetParallelism(max(1, callers/2))
	if callers == 1 {
		runOne(b, op, ids)
		return
	}
	b.RunParallel(func(pb *testing.PB) {
		inst := fmt.Sprintf("kab-%d", ids.Add(1))
		for rev := uint64(0); pb.Next(); rev++ {
			if err := op(context.Background(), inst, rev); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func runOne(b *testing.B, op func(ctx context.Context, inst string, rev uint64) error, ids *atomic.Int64) {
	inst := fmt.Sprintf("kab-%d", ids.Add(1))
	for rev := uint64(0); b.Loop(); rev++ {
		if err := op(context.Background(), inst, rev); err != nil {
			b.Fatal(err)
		}
	}
}

func benchRecord(ctx context.Context, r replica, inst string, rev uint64) error {
	reason := ""
	if rev > 0 {
		reason = "benchmark correction"
	}
	got, err := r.app.RecordAssessment.Handle(ctx, app.RecordAssessment{RoundID: "ombudsman-2024", InstitutionID: inst,
		Input: model.Input{ReportedTotal: fmt.Sprintf("%d.%02d", 60+rev%40, rev%100)}, CorrectsRevision: rev, Reason: reason,
		RequestID: fmt.Sprintf("bench-%s-r%d", inst, rev+1), By: "bench"})
	if err != nil {
		return err
	}
	if !got.Created || got.Assessment.Revision != rev+1 {
		return fmt.Errorf("record %s: created=%v revision %d, want %d", inst, got.Created, got.Assessment.Revision, rev+1)
	}
	return nil
}

func benchServer(b testing.TB, dir string, sync bool) (stop func(), js jetstream.JetStream) {
	srv, err := natsx.StartEmbedded(natsx.EmbeddedConfig{Host: "127.0.0.1", Port: -1, StoreDir: dir, SyncAlways: sync,
		ServerName: "bench", AllowAnonymous: true}, natstest.Logger(b))
	if err != nil {
		b.Fatal(err)
	}
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	if js, err = jetstream.New(nc); err != nil {
		b.Fatal(err)
	}
	return func() { nc.Close(); srv.Shutdown() }, js
}

// preload stores n records of another round, as the bench's boards are,
// and stops the server.
func preload(b *testing.B, js jetstream.JetStream, n int) {
	ctx := context.Background()
	if _, err := natsx.EnsureStream(ctx, js, events.StreamConfig(events.Assessments, 1)); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		ev := sampleRecorded(i)
		a := ev.GetAssessment()
		a.RoundId, a.Year = "ombudsman-2023", 2023
		msg, err := events.NewMsg(events.AssessmentSubject("ombudsman", 2023, a.GetInstitutionId()), Source, a.GetInstitutionId(), ev)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := js.PublishMsgAsync(msg); err != nil {
			b.Fatal(err)
		}
		if i%2000 == 1999 { // below the client's 4,000 unacknowledged
			<-js.PublishAsyncComplete()
		}
	}
	<-js.PublishAsyncComplete()
}

// sampleRecorded is an AssessmentRecorded event as the service stores it.
func sampleRecorded(i int) *eventsv1.AssessmentRecorded {
	return &eventsv1.AssessmentRecorded{EventId: fmt.Sprintf("e-%d", i), Assessment: sampleAssessment(i), RoundRevision: 1}
}

// BenchmarkRecordVsPublish measures RecordAssessment's use case and the
// bare publish in alternating slices of 100 ms, so both see the same disk
// and the same neighbours, and reports the ratio of their rates (the
// target: at least 0.7 at 1 and at 50 callers):
//
//	go test -run '^$' -bench RecordVsPublish -benchtime 20x ./services/assessment/internal/store
func BenchmarkRecordVsPublish(b *testing.B) {
	js, r, tmpl := benchRound(b, true, "BENCH_PUBLISH", "bench.publish")
	record := func(ctx context.Context, inst string, rev uint64) error { return benchRecord(ctx, r, inst, rev) }
	publish := publisher(js, tmpl, "bench.publish.")
	for _, callers := range []int{1, 50} {
		b.Run(fmt.Sprintf("c%d", callers), func(b *testing.B) {
			alternate(b, fmt.Sprintf("c%d", callers), callers, 100*time.Millisecond, 1,
				[2]string{"records/s", "publishes/s"}, [2]func(context.Context, string, uint64) error{record, publish})
		})
	}
}

// alternate runs the two ops in alternating slices of about d, each from
// callers goroutines, and reports their rates (per records an op) under
// units, and the first's rate over the second's as the ratio.
func alternate(b *testing.B, name string, callers int, d time.Duration, per float64, units [2]string, ops [2]func(context.Context, string, uint64) error) {
	revs := [2][]uint64{make([]uint64, callers), make([]uint64, callers)}
	var done [2]int64
	var took [2]time.Duration
	for b.Loop() {
		for k, op := range ops {
			n, t := slice(b, name, d, revs[k], op)
			done[k] += n
			took[k] += t
		}
	}
	first, second := per*float64(done[0])/took[0].Seconds(), per*float64(done[1])/took[1].Seconds()
	b.ReportMetric(first, units[0])
	b.ReportMetric(second, units[1])
	b.ReportMetric(first/second, "ratio")
}

// slice runs op from one goroutine per revs entry for about d and returns how many
// completed and how long that took.
func slice(b *testing.B, name string, d time.Duration, revs []uint64, op func(context.Context, string, uint64) error) (int64, time.Duration) {
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := range revs {
		wg.Go(func() {
			inst := fmt.Sprintf("kab-%s-w%d", name, w)
			for time.Now().Before(deadline) {
				if err := op(context.Background(), inst, revs[w]); err != nil {
					b.Error(err)
					return
				}
				revs[w]++
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return n.Load(), time.Since(start)
}

// BenchmarkBatchVsAtomic measures BatchRecordAssessments' use case (100
// new records of a round) and a bare atomic batch of 100 of the same
// events, in alternating slices, and reports the ratio of their records/s
// (the target: at least 0.5):
//
//	go test -run '^$' -bench BatchVsAtomic -benchtime 20x ./services/assessment/internal/store
func BenchmarkBatchVsAtomic(b *testing.B) {
	const size = 100
	js, r, tmpl := benchRound(b, false, "BENCH_BATCH", "bench.batch")
	var batches atomic.Int64
	batch := func(ctx context.Context, _ string, _ uint64) error {
		n := batches.Add(1)
		cmd := app.BatchRecord{RoundID: "ombudsman-2024", Records: make([]app.RecordAssessment, size)}
		for i := range cmd.Records {
			cmd.Records[i] = app.RecordAssessment{InstitutionID: fmt.Sprintf("kab-b%d-%d", n, i),
				Input: model.Input{ReportedTotal: fmt.Sprintf("%d.%02d", 60+i%40, i)}, RequestID: fmt.Sprintf("batch-%d-%d", n, i), By: "bench"}
		}
		got, err := r.app.BatchRecord.Handle(ctx, cmd)
		if err == nil && (len(got) != size || !got[0].Created) {
			err = fmt.Errorf("batch %d: %d records answered, first created %v", n, len(got), got[0].Created)
		}
		return err
	}
	atomicBatch := func(ctx context.Context, _ string, _ uint64) error {
		n := batches.Add(1)
		msgs := make([]*nats.Msg, size)
		for i := range msgs {
			m := fromTemplate(tmpl, fmt.Sprintf("bench.batch.%d.%d", n, i))
			m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, "0")
			m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("atomic-%d-%d", n, i))
			msgs[i] = m
		}
		_, err := natsx.PublishAtomic(ctx, js.Conn(), msgs)
		return err
	}
	for _, callers := range []int{1, 50} {
		b.Run(fmt.Sprintf("c%d", callers), func(b *testing.B) {
			alternate(b, fmt.Sprintf("batch-c%d", callers), callers, 200*time.Millisecond, size,
				[2]string{"records/s", "atomic-records/s"}, [2]func(context.Context, string, uint64) error{batch, atomicBatch})
		})
	}
}

// BenchmarkStoreHeap reports what the storage of one replica retains once
// its view holds n records (PREDIKAT_BENCH_PRELOAD, default 100,000): the
// heap after a GC, less the heap before it started (the embedded NATS
// server shares this process):
//
//	PREDIKAT_BENCH_PRELOAD=1000000 go test -run '^$' -bench StoreHeap -benchtime 1x ./services/assessment/internal/store
func BenchmarkStoreHeap(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("PREDIKAT_BENCH_PRELOAD"))
	if n <= 0 {
		n = 100_000
	}
	dir := b.TempDir()
	stop, js := benchServer(b, dir, false)
	preload(b, js, n)
	stop()
	stop, js = benchServer(b, dir, false)
	b.Cleanup(stop)
	for b.Loop() {
		before := heapAfterGC()
		r := openReplica(b, js, true)
		after := heapAfterGC()
		b.ReportMetric(float64(after-before)/(1<<20), "MB")
		b.ReportMetric(float64(after-before)/float64(n), "B/record")
		runtime.KeepAlive(r)
	}
}
