package rebuild_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/predikat-id/predikat/pkg/events"
	rt "github.com/predikat-id/predikat/pkg/platform/testenv/eventtest"
	"github.com/predikat-id/predikat/services/ranking/internal/rebuild"
)

// publishChunked publishes n first records (and their corrections, see
// events) in chunks, so a million of them never sit in memory at once.
func (f *fixture) publishChunked(tb testing.TB, scheme string, year int32, n int) {
	tb.Helper()
	const chunk = 4_000 // below the async publish window of newFixture
	for lo := 0; lo < n; lo += chunk {
		rt.PublishAsync(tb, f.js, f.eventsFrom(scheme, year, lo, min(lo+chunk, n)))
	}
}

// readLastPerSubject is the raw baseline: the last message of every subject
// matching filter read through an ephemeral consumer, exactly as the
// bench's stream read does, and nothing else.
func readLastPerSubject(ctx context.Context, js jetstream.JetStream, filter string) (int, time.Duration, error) {
	t0 := time.Now()
	cons, err := js.CreateConsumer(ctx, events.Assessments, jetstream.ConsumerConfig{
		DeliverPolicy: jetstream.DeliverLastPerSubjectPolicy, AckPolicy: jetstream.AckNonePolicy,
		MemoryStorage: true, InactiveThreshold: time.Minute, FilterSubject: filter,
	})
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = js.DeleteConsumer(context.WithoutCancel(ctx), events.Assessments, cons.CachedInfo().Name) }()
	pending := int(cons.CachedInfo().NumPending)
	it, err := cons.Messages(jetstream.PullMaxMessages(4096))
	if err != nil {
		return 0, 0, err
	}
	defer it.Stop()
	n := 0
	for n < pending {
		m, err := it.Next(jetstream.NextMaxWait(20 * time.Second))
		if err != nil {
			return n, 0, err
		}
		if _, err := m.Metadata(); err != nil {
			return n, 0, err
		}
		n++
	}
	return n, time.Since(t0), nil
}

// cpuNow is the CPU time of this process and of redis-server so far.
func cpuNow(tb testing.TB, rdb redis.UniversalClient) (self, rds time.Duration) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		k, v, _ := strings.Cut(line, ":")
		if k == "used_cpu_user" || k == "used_cpu_sys" {
			x, _ := strconv.ParseFloat(v, 64)
			rds += time.Duration(x * float64(time.Second))
		}
	}
	return self, rds
}

// heapPeak samples the heap while a function runs.
type heapPeak struct {
	stop chan struct{}
	done sync.WaitGroup
	peak atomic.Uint64
}

func watchHeap() *heapPeak {
	h := &heapPeak{stop: make(chan struct{})}
	h.done.Go(func() {
		var ms runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > h.peak.Load() {
				h.peak.Store(ms.HeapAlloc)
			}
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	})
	return h
}

func (h *heapPeak) end() uint64 {
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	h.done.Wait()
	return h.peak.Load()
}

// heapProfile writes the allocations so far to $REBUILD_MEMPROFILE.<name>
// when set: "go tool pprof -sample_index alloc_space -base <base> <after>"
// shows what the first rebuild allocated.
func heapProfile(tb testing.TB, name string) {
	path := os.Getenv("REBUILD_MEMPROFILE")
	if path == "" {
		return
	}
	fh, err := os.Create(path + "." + name)
	if err != nil {
		tb.Fatal(err)
	}
	defer fh.Close()
	if err := pprof.Lookup("allocs").WriteTo(fh, 0); err != nil {
		tb.Fatal(err)
	}
}

// profile writes a CPU profile of the first rebuild to $REBUILD_CPUPROFILE
// when set; the returned stop may be called more than once.
func profile(tb testing.TB) func() {
	path := os.Getenv("REBUILD_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	fh, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := pprof.StartCPUProfile(fh); err != nil {
		tb.Fatal(err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			pprof.StopCPUProfile()
			_ = fh.Close()
		})
	}
}

// BenchmarkRebuildVsRead rebuilds a round of b.N assessments and reads the
// same snapshot raw (the baseline the target is set against), alternately,
// three times each, and reports the ratio of the medians (rebuild/read) and
// the heap the rebuild added at its peak (the process holds the embedded
// NATS server too). For the 1,000,000-record run:
//
//	go test -run '^$' -bench RebuildVsRead -benchtime 1000000x -timeout 30m ./internal/rebuild/
func BenchmarkRebuildVsRead(b *testing.B) {
	f := newFixture(b)
	f.benchRounds(b, func(b *testing.B, scheme string, n int) {
		start := time.Now()
		f.publishChunked(b, scheme, 2024, n)
		b.Logf("published %d records in %s", n, time.Since(start).Round(time.Millisecond))
		ctx := context.Background()
		var reads, builds, rpeaks, rcpu, bcpu, redcpu []float64
		var peak uint64
		var allocs uint64
		for i := range 3 {
			runtime.GC()
			var rm runtime.MemStats
			runtime.ReadMemStats(&rm)
			rh := watchHeap()
			c0, _ := cpuNow(b, f.st.Client())
			got, el, err := readLastPerSubject(ctx, f.js, events.AssessmentFilter(scheme, 2024))
			c1, _ := cpuNow(b, f.st.Client())
			rcpu = append(rcpu, float64(c1-c0)/float64(n)/1e3)
			rpeaks = append(rpeaks, float64(rh.end()-min(rh.end(), rm.HeapAlloc))/(1<<20))
			if err != nil || got != n {
				b.Fatalf("raw read: %d of %d, %v", got, n, err)
			}
			reads = append(reads, float64(n)/el.Seconds())
			runtime.GC()
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			s0, r0 := cpuNow(b, f.st.Client())
			h := watchHeap()
			stop := func() {}
			if i == 0 {
				heapProfile(b, "base")
				stop = profile(b)
				b.StartTimer()
			}
			res, err := f.b.Run(ctx, rebuild.Filter{Scheme: scheme})
			if i == 0 {
				b.StopTimer()
				stop()
				heapProfile(b, "after")
			}
			p := h.end()
			s1, r1 := cpuNow(b, f.st.Client())
			bcpu = append(bcpu, float64(s1-s0)/float64(n)/1e3)
			redcpu = append(redcpu, float64(r1-r0)/float64(n)/1e3)
			runtime.ReadMemStats(&ms1)
			if err != nil {
				b.Fatal(err)
			}
			if res.AssessmentsRead != int64(n) {
				b.Fatalf("read %d assessments, want %d", res.AssessmentsRead, n)
			}
			builds = append(builds, float64(n)/res.Elapsed.Seconds())
			if p > ms0.HeapAlloc {
				peak = max(peak, p-ms0.HeapAlloc)
			}
			allocs = max(allocs, ms1.TotalAlloc-ms0.TotalAlloc)
		}
		fmt.Fprintf(os.Stderr, "n=%d raw read/s %.0f; rebuild/s %.0f; raw read peak heap MB %.0f\n", n, reads, builds, rpeaks)
		if os.Getenv("REBUILD_CMDSTATS") != "" {
			cs, _ := f.st.Client().Info(ctx, "commandstats").Result()
			fmt.Fprintln(os.Stderr, cs)
		}
		fmt.Fprintf(os.Stderr, "n=%d CPU µs/record: raw read %.2f; rebuild %.2f + redis-server %.2f\n", n, rcpu, bcpu, redcpu)
		slices.Sort(reads)
		slices.Sort(builds)
		b.ReportMetric(builds[1]/reads[1], "ratio")
		b.ReportMetric(builds[1], "rebuilt/s")
		b.ReportMetric(reads[1], "read/s")
		b.ReportMetric(float64(peak)/float64(n), "peak-heap-B/rec")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		b.ReportMetric(float64(allocs)/float64(n), "alloc-B/rec")
	})
}
