package natstest

import (
	"log/slog"
	"sync"
	"testing"
)

// Logger returns a logger that writes to t's log at Info level and above, so
// connection and server events show up next to the test that caused them.
// Lines logged after the test has finished (late callbacks from client or
// server goroutines) are dropped: testing panics on them.
func Logger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	// Registered now, so it runs after every cleanup registered later (they
	// run last-in first-out): the servers and connections those cleanups shut
	// down can still log while closing.
	t.Cleanup(w.stop)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(p), nil
	}
	// Output rather than Log: Log would tag every line with a slog-internal
	// file:line, which says nothing about the test.
	return w.t.Output().Write(p)
}

func (w *testWriter) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
}
