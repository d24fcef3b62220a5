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
	dir := b.TempDir()
	if n, _ := strconv.Atoi(os.Getenv("PREDIKAT_BENCH_PRELOAD")); n > 0 {
		// Loaded without fsync (it would take minutes), measured with it.
		stop, js := benchServer(b, dir, false)
		preload(b, js, n)
		stop()
	}
	stop, js := benchServer(b, dir, true)
	b.Cleanup(stop)
	r := openReplica(b, js, true)
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
	if _, err := r.app.CreateRound.Handle(ctx, app.CreateRound{SchemeID: "ombudsman", Year: 2024, By: "bench"}); err != nil {
		b.Fatal(err)
	}
	cfg := events.StreamConfig(events.Assessments, 1)
	cfg.Name, cfg.Subjects = "BENCH_PUBLISH", []string{"bench.publish.>"}
	if _, err := natsx.EnsureStream(ctx, js, cfg); err != nil {
		b.Fatal(err)
	}
	tmpl, err := events.NewMsg("bench.publish.x", Source, "kab-x", sampleRecorded(0))
	if err != nil {
		b.Fatal(err)
	}

	var ids atomic.Int64
	for _, callers := range []int{1, 50} {
		b.Run(fmt.Sprintf("c%d/record", callers), func(b *testing.B) {
			b.SetParallelism(max(1, callers/2))
			if callers == 1 {
				runOne(b, func(ctx context.Context, inst string, rev uint64) error {
					return benchRecord(ctx, r, inst, rev)
				}, &ids)
				return
			}
			b.RunParallel(func(pb *testing.PB) {
				inst := fmt.Sprintf("kab-%d", ids.Add(1))
				for rev := uint64(0); pb.Next(); rev++ {
					if err := benchRecord(ctx, r, inst, rev); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run(fmt.Sprintf("c%d/publish", callers), func(b *testing.B) {
			b.SetParallelism(max(1, callers/2))
			pub := func(ctx context.Context, inst string, rev uint64) error {
				m := &nats.Msg{Subject: "bench.publish." + inst, Data: tmpl.Data, Header: nats.Header{}}
				for k, v := range tmpl.Header {
					m.Header[k] = v
				}
				m.Header.Set(jetstream.MsgIDHeader, inst+"-"+strconv.FormatUint(rev, 10))
				_, err := js.PublishMsg(ctx, m)
				return err
			}
			if callers == 1 {
				runOne(b, pub, &ids)
				return
			}
			b.RunParallel(func(pb *testing.PB) {
				inst := fmt.Sprintf("kab-%d", ids.Add(1))
				for rev := uint64(0); pb.Next(); rev++ {
					if err := pub(ctx, inst, rev); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
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
	ctx := context.Background()
	dir := b.TempDir()
	if n, _ := strconv.Atoi(os.Getenv("PREDIKAT_BENCH_PRELOAD")); n > 0 {
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
	cfg.Name, cfg.Subjects = "BENCH_PUBLISH", []string{"bench.publish.>"}
	if _, err := natsx.EnsureStream(ctx, js, cfg); err != nil {
		b.Fatal(err)
	}
	tmpl, err := events.NewMsg("bench.publish.x", Source, "kab-x", sampleRecorded(0))
	if err != nil {
		b.Fatal(err)
	}
	record := func(ctx context.Context, inst string, rev uint64) error { return benchRecord(ctx, r, inst, rev) }
	publish := func(ctx context.Context, inst string, rev uint64) error {
		m := &nats.Msg{Subject: "bench.publish." + inst, Data: tmpl.Data, Header: nats.Header{}}
		for k, v := range tmpl.Header {
			m.Header[k] = v
		}
		m.Header.Set(jetstream.MsgIDHeader, inst+"-"+strconv.FormatUint(rev, 10))
		_, err := js.PublishMsg(ctx, m)
		return err
	}
	for _, callers := range []int{1, 50} {
		b.Run(fmt.Sprintf("c%d", callers), func(b *testing.B) {
			revs := [2][]uint64{make([]uint64, callers), make([]uint64, callers)}
			var ops [2]int64
			var took [2]time.Duration
			for b.Loop() {
				for k, op := range []func(context.Context, string, uint64) error{record, publish} {
					n, d := slice(b, fmt.Sprintf("c%d", callers), 100*time.Millisecond, revs[k], op)
					ops[k] += n
					took[k] += d
				}
			}
			recRate, pubRate := float64(ops[0])/took[0].Seconds(), float64(ops[1])/took[1].Seconds()
			b.ReportMetric(recRate, "records/s")
			b.ReportMetric(pubRate, "publishes/s")
			b.ReportMetric(recRate/pubRate, "ratio")
		})
	}
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
	ctx := context.Background()
	stop, js := benchServer(b, b.TempDir(), true)
	b.Cleanup(stop)
	r := openReplica(b, js, true)
	if _, err := r.app.CreateRound.Handle(ctx, app.CreateRound{SchemeID: "ombudsman", Year: 2024, By: "bench"}); err != nil {
		b.Fatal(err)
	}
	cfg := events.StreamConfig(events.Assessments, 1)
	cfg.Name, cfg.Subjects = "BENCH_BATCH", []string{"bench.batch.>"}
	if _, err := natsx.EnsureStream(ctx, js, cfg); err != nil {
		b.Fatal(err)
	}
	tmpl, err := events.NewMsg("bench.batch.x", Source, "kab-x", sampleRecorded(0))
	if err != nil {
		b.Fatal(err)
	}
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
			m := &nats.Msg{Subject: fmt.Sprintf("bench.batch.%d.%d", n, i), Data: tmpl.Data, Header: nats.Header{}}
			for k, v := range tmpl.Header {
				m.Header[k] = v
			}
			m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, "0")
			m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("atomic-%d-%d", n, i))
			msgs[i] = m
		}
		_, err := natsx.PublishAtomic(ctx, js.Conn(), msgs)
		return err
	}
	for _, callers := range []int{1, 50} {
		b.Run(fmt.Sprintf("c%d", callers), func(b *testing.B) {
			revs := [2][]uint64{make([]uint64, callers), make([]uint64, callers)}
			var ops [2]int64
			var took [2]time.Duration
			for b.Loop() {
				for k, op := range []func(context.Context, string, uint64) error{batch, atomicBatch} {
					n, d := slice(b, fmt.Sprintf("batch-c%d", callers), 200*time.Millisecond, revs[k], op)
					ops[k] += n
					took[k] += d
				}
			}
			recRate, pubRate := size*float64(ops[0])/took[0].Seconds(), size*float64(ops[1])/took[1].Seconds()
			b.ReportMetric(recRate, "records/s")
			b.ReportMetric(pubRate, "atomic-records/s")
			b.ReportMetric(recRate/pubRate, "ratio")
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
