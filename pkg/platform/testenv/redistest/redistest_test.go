package redistest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/predikat-id/predikat/pkg/platform/testenv/redistest"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestStartAndUse(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	if strings.HasSuffix(srv.Addr(), ":6379") {
		t.Fatalf("addr %s uses the default port", srv.Addr())
	}
	c := srv.Client(t)
	if err := c.Set(ctx(t), "k", "v", 0).Err(); err != nil {
		t.Fatalf("set: %v", err)
	}
	got, err := c.Get(ctx(t), "k").Result()
	if err != nil || got != "v" {
		t.Fatalf("get = %q, %v", got, err)
	}
	srv.Flush(t)
	if _, err := c.Get(ctx(t), "k").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("after flush get err = %v, want redis.Nil", err)
	}
}

func TestStopAndStartAgain(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	addr := srv.Addr()
	c := srv.Client(t)
	if err := c.Set(ctx(t), "k", "v", 0).Err(); err != nil {
		t.Fatalf("set: %v", err)
	}

	srv.Stop()
	// A client without retries: the default one would back off for a while.
	probe := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1})
	defer probe.Close()
	if err := probe.Ping(ctx(t)).Err(); err == nil {
		t.Fatal("PING answered after Stop")
	}
	srv.Stop() // harmless twice

	if err := srv.Start(); err != nil {
		t.Fatalf("start again: %v", err)
	}
	if srv.Addr() != addr {
		t.Fatalf("addr changed: %s -> %s", addr, srv.Addr())
	}
	// The old client reconnects on its own; persistence is off, so the key
	// is gone, as after a real Redis crash without snapshots.
	if err := c.Ping(ctx(t)).Err(); err != nil {
		t.Fatalf("PING after restart: %v", err)
	}
	if _, err := c.Get(ctx(t), "k").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("get after restart err = %v, want redis.Nil", err)
	}
	if err := srv.Start(); err == nil {
		t.Fatal("second Start while running succeeded")
	}
}

func TestServersAreIsolated(t *testing.T) {
	t.Parallel()
	a, b := redistest.Start(t), redistest.Start(t)
	if a.Addr() == b.Addr() {
		t.Fatalf("both servers on %s", a.Addr())
	}
	if err := a.Client(t).Set(ctx(t), "only-a", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Client(t).Exists(ctx(t), "only-a").Result(); err != nil || n != 0 {
		t.Fatalf("key leaked to b: n=%d err=%v", n, err)
	}
}

// fatalRecorder records Fatalf instead of failing the real test, so the
// missing-binary path can be checked.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = strings.TrimSpace(fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (r *fatalRecorder) Skip(...any)          { r.msg = "skipped"; runtime.Goexit() }
func (r *fatalRecorder) Skipf(string, ...any) { r.msg = "skipped"; runtime.Goexit() }
func (r *fatalRecorder) SkipNow()             { r.msg = "skipped"; runtime.Goexit() }

func TestMissingBinaryFails(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // a PATH without redis-server
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		redistest.Start(rec)
	}()
	<-done
	want := `redis-server not found: run "make test" (it installs it) or "sudo apt-get install -y redis-server"`
	if rec.msg != want {
		t.Fatalf("message = %q, want %q", rec.msg, want)
	}
}
