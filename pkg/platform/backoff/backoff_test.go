package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestExponentialGrowsToItsCap(t *testing.T) {
	e := Exponential{Config{BaseDelay: 100 * time.Millisecond, Multiplier: 2, MaxDelay: time.Second}}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := e.Backoff(i); got != w*time.Millisecond {
			t.Errorf("Backoff(%d) = %v, want %v", i, got, w*time.Millisecond)
		}
	}
	if got := e.Backoff(1 << 30); got != time.Second {
		t.Errorf("Backoff(huge) = %v", got)
	}
}

func TestJitterStaysInItsBand(t *testing.T) {
	e := Exponential{Config{BaseDelay: time.Second, Multiplier: 2, Jitter: 0.2, MaxDelay: 4 * time.Second}}
	seen := map[time.Duration]bool{}
	for range 200 {
		d := e.Backoff(5)
		if d < 3200*time.Millisecond || d > 4800*time.Millisecond {
			t.Fatalf("Backoff(5) = %v, outside 4s ± 20%%", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Fatalf("jitter gave only %d distinct delays", len(seen))
	}
}

func TestRetry(t *testing.T) {
	e := Exponential{Config{BaseDelay: time.Millisecond, Multiplier: 2, MaxDelay: 4 * time.Millisecond}}
	calls, heard := 0, 0
	err := Retry(context.Background(), e, 0, func(context.Context) error {
		calls++
		if calls < 4 {
			return errors.New("not yet")
		}
		return nil
	}, func(error, time.Duration) { heard++ })
	if err != nil || calls != 4 || heard != 3 {
		t.Fatalf("Retry = %v after %d calls, %d retries heard", err, calls, heard)
	}
	stop := errors.New("stop")
	calls = 0
	err = Retry(context.Background(), e, 0, func(context.Context) error { calls++; return Permanent(stop) }, nil)
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("permanent: %v after %d calls", err, calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Retry(ctx, e, 0, func(context.Context) error { return errors.New("x") }, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
