package bench

import (
	"context"
	"errors"
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
// caller's calls of this subject from 0, warm-up included.
type call func(ctx context.Context, w, i int) error

// budget says how long one subject of a cell runs: a fixed number of calls
// when ops > 0, otherwise a fixed duration.
type budget struct {
	dur time.Duration
	ops int
}

func (b budget) div(n int) budget { return budget{dur: b.dur / time.Duration(n), ops: b.ops / n} }

// rounds is how many slices a cell's budget is cut into: an operation and
// its baselines take turns slice by slice, so a machine that slows down for
// a second slows all of them alike and the ratio stays honest.
const rounds = 4

// subject is one thing a cell measures: the operation or a baseline.
type subject struct {
	name string
	fn   call
}

// stats is the outcome of one subject of a cell.
type stats struct {
	Ops       int
	Elapsed   time.Duration
	OpsPerSec float64
	P50, P99  time.Duration
	Max       time.Duration
	// CPU per call: of this process (client and services together) and of
	// the redis-server child, over the subject's slices.
	CPUPerOp, RedisCPUPerOp time.Duration
}

// compare measures subjects with callers concurrent callers each: a
// warm-up of a tenth of the budget each (not recorded), then rounds slices
// taking turns (the first subject to go rotates). A failed call fails the
// cell: a benchmark of errors measures nothing.
func compare(ctx context.Context, callers int, b budget, subs []subject) ([]stats, error) {
	next := make([][]int, len(subs)) // each subject's callers' next i
	lats := make([][]time.Duration, len(subs))
	els := make([]time.Duration, len(subs))
	cpu := make([]time.Duration, len(subs))
	rcpu := make([]time.Duration, len(subs))
	for k, s := range subs {
		next[k] = make([]int, callers)
		if _, _, err := drive(ctx, callers, b.div(10), next[k], s.fn); err != nil {
			return nil, fmt.Errorf("%s, warm-up: %w", s.name, err)
		}
	}
	slice := b.div(rounds)
	for r := range rounds {
		for j := range subs {
			k := (r + j) % len(subs)
			c0, rc0 := processCPU()
			l, el, err := drive(ctx, callers, slice, next[k], subs[k].fn)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", subs[k].name, err)
			}
			c1, rc1 := processCPU()
			lats[k] = append(lats[k], l...)
			els[k] += el
			cpu[k] += c1 - c0
			rcpu[k] += rc1 - rc0
		}
	}
	out := make([]stats, len(subs))
	for k := range subs {
		out[k] = summarize(lats[k], els[k])
		if n := out[k].Ops; n > 0 {
			out[k].CPUPerOp, out[k].RedisCPUPerOp = cpu[k]/time.Duration(n), rcpu[k]/time.Duration(n)
		}
	}
	return out, nil
}

// profileRun runs fn alone for b under the CPU profiler, writing the
// profile to path: what the process spends its time on while serving
// that operation (client, server and everything they call share it).
func profileRun(ctx context.Context, path string, callers int, b budget, fn call) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	next := make([]int, callers)
	// i continues after the measured calls' range, so calls that must be
	// unique (records) stay unique.
	for w := range next {
		next[w] = 1 << 30
	}
	_, _, err = drive(ctx, callers, b, next, fn)
	return err
}

// run measures one subject alone.
func run(ctx context.Context, callers int, b budget, fn call) (stats, error) {
	st, err := compare(ctx, callers, b, []subject{{"call", fn}})
	if err != nil {
		return stats{}, err
	}
	return st[0], nil
}

// drive runs fn with callers concurrent callers within b and returns every
// call's latency and the wall time.
func drive(ctx context.Context, callers int, b budget, next []int, fn call) ([]time.Duration, time.Duration, error) {
	if b.dur <= 0 && b.ops <= 0 {
		return nil, 0, nil
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
			own := make([]time.Duration, 0, 256)
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
				if errors.Is(err, errPoolDry) {
					// Nothing left to record: this caller stops, the
					// calls made until then count.
					break
				}
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
		return nil, 0, err
	}
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	return all, elapsed, nil
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
