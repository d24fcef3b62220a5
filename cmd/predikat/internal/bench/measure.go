package bench

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// call is one operation by caller w (0 <= w < callers); i counts that
// caller's calls from 0, warm-up included.
type call func(ctx context.Context, w, i int) error

// budget says how long a cell runs: a fixed number of calls when ops > 0,
// otherwise a fixed duration. A warm-up of a tenth of that (not recorded)
// comes first, so connections, caches and the Go runtime are warm.
type budget struct {
	dur time.Duration
	ops int
}

// stats is the outcome of one cell.
type stats struct {
	Ops       int
	Elapsed   time.Duration
	OpsPerSec float64
	P50, P99  time.Duration
	Max       time.Duration
}

// run drives fn with callers concurrent callers within b and measures it.
// A failed call fails the cell: a benchmark of errors measures nothing.
func run(ctx context.Context, callers int, b budget, profile string, fn call) (stats, error) {
	next := make([]int, callers) // each caller's next i, across warm-up and measurement
	warm := budget{dur: b.dur / 10, ops: b.ops / 10}
	if _, err := drive(ctx, callers, warm, next, fn); err != nil {
		return stats{}, fmt.Errorf("warm-up: %w", err)
	}
	if profile != "" {
		if err := os.MkdirAll(filepath.Dir(profile), 0o755); err != nil {
			return stats{}, err
		}
		f, err := os.Create(profile)
		if err != nil {
			return stats{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return stats{}, err
		}
		defer pprof.StopCPUProfile()
	}
	return drive(ctx, callers, b, next, fn)
}

func drive(ctx context.Context, callers int, b budget, next []int, fn call) (stats, error) {
	if b.dur <= 0 && b.ops <= 0 {
		return stats{}, nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		wg    sync.WaitGroup
		taken atomic.Int64
		lats  = make([][]time.Duration, callers)
	)
	start := time.Now()
	deadline := start.Add(b.dur)
	for w := range callers {
		wg.Go(func() {
			own := make([]time.Duration, 0, 1024)
			for ctx.Err() == nil {
				if b.ops > 0 {
					if taken.Add(1) > int64(b.ops) {
						break
					}
				} else if !time.Now().Before(deadline) {
					break
				}
				t0 := time.Now()
				err := fn(ctx, w, next[w])
				d := time.Since(t0)
				next[w]++
				if err != nil {
					if ctx.Err() == nil {
						cancel(fmt.Errorf("caller %d, call %d: %w", w, next[w]-1, err))
					}
					break
				}
				own = append(own, d)
			}
			lats[w] = own
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return stats{}, err
	}
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	st := summarize(all, elapsed)
	return st, nil
}

// summarize computes throughput and nearest-rank percentiles.
func summarize(lat []time.Duration, elapsed time.Duration) stats {
	st := stats{Ops: len(lat), Elapsed: elapsed}
	if len(lat) == 0 {
		return st
	}
	slices.Sort(lat)
	if elapsed > 0 {
		st.OpsPerSec = float64(len(lat)) / elapsed.Seconds()
	}
	st.P50 = percentile(lat, 0.50)
	st.P99 = percentile(lat, 0.99)
	st.Max = lat[len(lat)-1]
	return st
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
