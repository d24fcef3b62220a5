package rebuild

import (
	"context"
	"errors"
	"log/slog"
	"sync"
)

// Coordinator serialises rebuilds with the local consumer: the consumer
// applies events under Apply (a shared lock), a rebuild runs under the
// exclusive lock. Concurrent requests join: a request while a rebuild that
// covers it runs waits for that one's result; otherwise it waits for the
// running one to end and then starts its own. A rebuild runs on the
// coordinator's context, so it finishes even if the caller goes away.
type Coordinator struct {
	base      context.Context
	b         *Builder
	log       *slog.Logger
	onRebuilt func(Result, error)

	gate sync.RWMutex

	mu      sync.Mutex
	running *job
	jobs    sync.WaitGroup
	closed  bool
}

type job struct {
	f    Filter
	done chan struct{}
	res  Result
	err  error
}

// NewCoordinator returns a coordinator whose rebuilds run on base.
func NewCoordinator(base context.Context, b *Builder, log *slog.Logger) *Coordinator {
	return &Coordinator{base: base, b: b, log: log}
}

// Apply runs fn while no rebuild runs.
func (c *Coordinator) Apply(fn func() error) error {
	c.gate.RLock()
	defer c.gate.RUnlock()
	return fn()
}

// Wait waits until no rebuild runs (after the base context ended, a
// running rebuild stops soon).
// No rebuild starts after Wait was called.
func (c *Coordinator) Wait() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.jobs.Wait()
}

// Rebuild rebuilds the rounds f selects, or joins a running rebuild that
// covers them, and returns its result. ctx only bounds the wait.
func (c *Coordinator) Rebuild(ctx context.Context, f Filter) (Result, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return Result{}, errors.New("the ranking service is shutting down")
		}
		j := c.running
		if j == nil {
			j = &job{f: f, done: make(chan struct{})}
			c.running = j
			c.jobs.Go(func() { c.run(j) })
		}
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return Result{}, context.Cause(ctx)
		case <-j.done:
		}
		if j.f.Covers(f) {
			return j.res, j.err
		}
	}
}

// OnRebuilt, when set before the first rebuild, is told the outcome of
// every rebuild (metrics).
func (c *Coordinator) OnRebuilt(fn func(Result, error)) { c.onRebuilt = fn }

func (c *Coordinator) run(j *job) {
	c.log.Info("rebuilding boards from the assessment log", "rounds", j.f.String())
	c.gate.Lock()
	j.res, j.err = c.b.Run(c.base, j.f)
	c.gate.Unlock()
	if c.onRebuilt != nil {
		c.onRebuilt(j.res, j.err)
	}
	if j.err != nil {
		c.log.Warn("board rebuild failed", "rounds", j.f.String(), "err", j.err)
	} else {
		c.log.Info("boards rebuilt", "rounds", j.f.String(), "assessments", j.res.AssessmentsRead,
			"boards", j.res.BoardsWritten, "entries", j.res.EntriesWritten, "band_only", j.res.ReportedBand,
			"stream_seq", j.res.StreamSequence, "elapsed", j.res.Elapsed,
			"assessments_per_s", rate(j.res.AssessmentsRead, j.res.Elapsed))
	}
	c.mu.Lock()
	c.running = nil
	c.mu.Unlock()
	close(j.done)
}

func rate(n int64, d interface{ Seconds() float64 }) int64 {
	if s := d.Seconds(); s > 0 {
		return int64(float64(n) / s)
	}
	return 0
}
