package rebuild_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	"github.com/predikat-id/predikat/pkg/platform/redisx"
	rt "github.com/predikat-id/predikat/pkg/platform/testenv/eventtest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/redistest"
	"github.com/predikat-id/predikat/services/ranking/internal/rebuild"
	"github.com/predikat-id/predikat/services/ranking/internal/store"
)

type fixture struct {
	js  jetstream.JetStream
	pub *rt.Publisher
	st  *store.Store
	b   *rebuild.Builder
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	ns := natstest.Start(tb)
	js, err := jetstream.New(ns.Conn(tb), jetstream.WithPublishAsyncMaxPending(8192))
	if err != nil {
		tb.Fatal(err)
	}
	rs := redistest.Start(tb)
	rdb, err := redisx.NewClient(rs.Addr(), redisx.Options{ReadTimeout: 30 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rdb.Close() })
	st := store.New(rdb)
	return &fixture{js: js, pub: rt.NewPublisher(tb, js), st: st, b: rebuild.NewBuilder(js, st, slog.New(slog.DiscardHandler))}
}

// events makes n first records of scheme in year, spread over provinces and
// kinds; every tenth institution gets a correction, every twentieth is
// band-only.
func (f *fixture) events(scheme string, year int32, n int) []*eventsv1.AssessmentRecorded {
	return f.eventsFrom(scheme, year, 0, n)
}

// eventsFrom is events for institutions lo to hi-1.
func (f *fixture) eventsFrom(scheme string, year int32, lo, hi int) []*eventsv1.AssessmentRecorded {
	kinds := []rt.Inst{{Kind: rt.Pemkab}, {Kind: rt.Pemkot}, {Kind: rt.Polres}, {Kind: rt.Kantah}}
	out := make([]*eventsv1.AssessmentRecorded, 0, (hi-lo)+(hi-lo)/10+1)
	for i := lo; i < hi; i++ {
		in := kinds[i%4]
		in.ID = fmt.Sprintf("i-%07d", i)
		in.Name = "Institution " + in.ID
		sub := 1 + i%60
		if in.Kind == rt.Pemkot {
			sub = 71 + i%20
		}
		in.Region = fmt.Sprintf("%02d.%02d", 11+i%34, sub)
		r := rt.Rec{Scheme: scheme, Year: year, Inst: in, Total: fmt.Sprintf("%d.%02d", 40+i%60, i%100)}
		if i%20 == 7 {
			r.Total, r.Band = "", "B"
		}
		out = append(out, f.pub.Event(r))
		if i%10 == 3 {
			r.Total = fmt.Sprintf("%d.%02d", 50+i%50, (i+1)%100)
			out = append(out, f.pub.Event(r))
		}
	}
	return out
}

// A rebuild reads the latest revision of every record, writes every board
// and reports its rate.
func TestRebuildCountsAndRate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const n = 5000
	rt.PublishAsync(t, f.js, f.events("ombudsman", 2024, n))
	res, err := f.b.Run(context.Background(), rebuild.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	// n records (corrections replace their first revision), n/20 of them
	// band-only (all land offices). Regency and city governments are on
	// four boards (pemda and their own group, national and province),
	// police and land offices on two.
	want := int64(n/4*4 + n/4*4 + n/4*2 + (n/4-n/20)*2)
	if res.AssessmentsRead != n || res.ReportedBand != n/20 || res.EntriesWritten != want || res.LayoutVersion != store.LayoutVersion || res.StreamSequence != n+n/10 {
		t.Fatalf("result = %+v", res)
	}
	t.Logf("rebuilt %d assessments into %d boards in %s: %.0f assessments/s", res.AssessmentsRead, res.BoardsWritten, res.Elapsed,
		float64(res.AssessmentsRead)/res.Elapsed.Seconds())
	// Corrections are on the board with their latest score.
	st, err := f.st.Standing(context.Background(), "ombudsman", 2024, "i-0000003")
	if err != nil || st.Entry.Revision != 2 || st.Entry.Score != 5304 {
		t.Fatalf("corrected entry = %+v, %v", st.Entry, err)
	}
	// A rebuild that died halfway left a generation behind: the next one
	// deletes it.
	ctx := context.Background()
	rdb := f.st.Client()
	rdb.ZAdd(ctx, store.Base+"{ombudsman:2024}:g999:z:pemda:00", redis.Z{Score: 1, Member: "x"})
	rdb.SAdd(ctx, store.Base+"pending", "{ombudsman:2024}|999")
	// A second, filtered rebuild replaces the round's generation.
	res2, err := f.b.Run(context.Background(), rebuild.Filter{Scheme: "ombudsman", Year: 2024})
	if err != nil || res2.AssessmentsRead != n || res2.BoardsWritten != res.BoardsWritten {
		t.Fatalf("second rebuild = %+v, %v", res2, err)
	}
	keys, _ := rdb.Keys(ctx, store.Base+"{ombudsman:2024}:g*:e").Result()
	if len(keys) != 1 {
		t.Fatalf("entry hashes after two rebuilds: %v", keys)
	}
	if n, _ := rdb.Exists(ctx, store.Base+"{ombudsman:2024}:g999:z:pemda:00").Result(); n != 0 {
		t.Fatal("the dead rebuild's generation is still there")
	}
	if n, _ := rdb.SCard(ctx, store.Base+"pending").Result(); n != 0 {
		t.Fatalf("%d pending generations left", n)
	}
}

// benchRounds runs body as the sub-benchmark "assessments", its timer
// stopped, on a scheme of its own each time the framework runs it with
// another n (each run publishes a round of n records).
func (f *fixture) benchRounds(b *testing.B, body func(b *testing.B, scheme string, n int)) {
	run := 0
	b.Run("assessments", func(b *testing.B) {
		run++
		b.StopTimer()
		body(b, fmt.Sprintf("bench%d", run), b.N)
	})
}

// BenchmarkRebuild rebuilds b.N assessments (ns/op is per assessment) and
// reports the rate. For the 1,000,000-assessment run:
//
//	go test -run '^$' -bench Rebuild -benchtime 1000000x -timeout 30m ./internal/rebuild/
func BenchmarkRebuild(b *testing.B) {
	f := newFixture(b)
	f.benchRounds(b, func(b *testing.B, scheme string, n int) {
		start := time.Now()
		evs := f.events(scheme, 2024, n)
		rt.PublishAsync(b, f.js, evs)
		b.Logf("published %d events in %s", len(evs), time.Since(start).Round(time.Millisecond))
		b.StartTimer()
		res, err := f.b.Run(context.Background(), rebuild.Filter{Scheme: scheme})
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if res.AssessmentsRead != int64(n) {
			b.Fatalf("read %d assessments, want %d", res.AssessmentsRead, n)
		}
		rate := float64(res.AssessmentsRead) / res.Elapsed.Seconds()
		b.ReportMetric(rate, "assessments/s")
		b.Logf("rebuilt %d assessments (%d board entries, %d boards) in %s: %.0f assessments/s",
			res.AssessmentsRead, res.EntriesWritten, res.BoardsWritten, res.Elapsed.Round(time.Millisecond), rate)
	})
}

// A rebuild leaves out what the round's fences refuse: the latest revision
// that counts takes the place of a refused one, and a record with nothing
// but refused revisions is not on the boards.
func TestRebuildHonoursFences(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := rt.Inst{ID: "pemkab-a", Name: "Kabupaten A", Kind: rt.Pemkab, Region: "63.05"}
	b := rt.Inst{ID: "pemkab-b", Name: "Kabupaten B", Kind: rt.Pemkab, Region: "63.06"}
	fence := f.pub.Stored(t, rt.Rec{Year: 2024, Inst: a, Total: "70.00", RoundRevision: 3})
	f.pub.Stored(t, rt.Rec{Year: 2024, Inst: a, Total: "90.00", RoundRevision: 3})
	f.pub.Stored(t, rt.Rec{Year: 2024, Inst: b, Total: "95.00", RoundRevision: 3})
	f.pub.PublishRoundChanged(t, "ombudsman", 2024, eventsv1.RoundChangeType_ROUND_CHANGE_TYPE_CLOSED,
		&eventsv1.AssessmentFence{RoundRevision: 3, Sequence: fence})
	if _, err := f.b.Run(context.Background(), rebuild.Filter{}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := f.st.Standing(ctx, "ombudsman", 2024, a.ID)
	if err != nil || !st.Found || st.Entry.Revision != 1 {
		t.Fatalf("%s after the rebuild: %+v, %v; want revision 1", a.ID, st, err)
	}
	if st, err := f.st.Standing(ctx, "ombudsman", 2024, b.ID); err != nil || st.Found {
		t.Fatalf("%s, refused, after the rebuild: %+v, %v", b.ID, st, err)
	}
	fences, err := f.st.Fences(ctx, "ombudsman", 2024)
	if err != nil || len(fences) != 1 || fences[0] != (store.Fence{RoundRevision: 3, Seq: fence}) {
		t.Fatalf("fences after the rebuild: %v, %v", fences, err)
	}
}
