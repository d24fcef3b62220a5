// Package backoff is the one retry delay of the services: capped exponential
// growth with jitter, in the shape of grpc-go's internal/backoff, so that a
// loop that retries a broken watch, a consumer or a connection says only how
// it retries, never how delays grow.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Config says how delays grow.
type Config struct {
	// BaseDelay is the delay after the first failure.
	BaseDelay time.Duration
	// Multiplier grows the delay after each further failure.
	Multiplier float64
	// Jitter spreads each delay by ± this fraction, so replicas that failed
	// together do not retry together.
	Jitter float64
	// MaxDelay caps the delay.
	MaxDelay time.Duration
}

// DefaultConfig suits the services' retries of their own infrastructure
// (NATS consumers, Redis, a peer's watch): quick first retries, a few
// seconds at most between attempts.
var DefaultConfig = Config{BaseDelay: 100 * time.Millisecond, Multiplier: 2, Jitter: 0.2, MaxDelay: 5 * time.Second}

// Strategy gives the delay before retry number retries (0 for the first).
type Strategy interface {
	Backoff(retries int) time.Duration
}

// Exponential is the capped exponential Strategy.
type Exponential struct {
	Config Config
}

// Backoff returns the delay before retry number retries.
func (e Exponential) Backoff(retries int) time.Duration {
	c := e.Config
	if retries <= 0 {
		return c.BaseDelay
	}
	d, maxD := float64(c.BaseDelay), float64(c.MaxDelay)
	for d < maxD && retries > 0 {
		d *= c.Multiplier
		retries--
	}
	d = min(d, maxD)
	d *= 1 + c.Jitter*(rand.Float64()*2-1)
	if d < 0 {
		return 0
	}
	return time.Duration(d)
}

// Sleep waits d or until ctx ends; it reports whether the full delay passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Retry calls f until it returns nil, ctx ends, or f reports a permanent
// failure (an error wrapped by Permanent). Between failures it waits as s
// says; onRetry, if set, hears each failure and the coming delay. A call
// that ran long enough to count as healthy (more than reset) starts the
// delays over.
func Retry(ctx context.Context, s Strategy, reset time.Duration, f func(context.Context) error, onRetry func(err error, delay time.Duration)) error {
	retries := 0
	for {
		start := time.Now()
		err := f(ctx)
		if err == nil {
			return nil
		}
		if p, ok := err.(permanent); ok {
			return p.err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if reset > 0 && time.Since(start) > reset {
			retries = 0
		}
		d := s.Backoff(retries)
		retries++
		if onRetry != nil {
			onRetry(err, d)
		}
		if !Sleep(ctx, d) {
			return ctx.Err()
		}
	}
}

type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as not worth retrying: Retry returns it at once.
func Permanent(err error) error { return permanent{err} }
