package redisx_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/predikat-id/predikat/pkg/platform/redisx"
	"github.com/predikat-id/predikat/pkg/platform/testenv/redistest"
)

func TestStartLocalServesAndStops(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	p, err := redisx.StartLocal(ctx, t.TempDir(), 0)
	if err != nil {
		t.Fatalf("StartLocal: %v", err)
	}
	t.Cleanup(p.Stop)
	if _, port, _ := net.SplitHostPort(p.Addr()); port == "6379" || port == "0" {
		t.Fatalf("addr %s: want a free port other than 6379", p.Addr())
	}
	c, err := redisx.NewClient(p.URL(), redisx.Options{ClientName: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("set: %v", err)
	}
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("get = %q, %v", v, err)
	}
	p.Stop()
	select {
	case <-p.Done():
	default:
		t.Fatal("Stop returned before the process exited")
	}
	p.Stop() // harmless twice
}

func TestStartLocalEndsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	p, err := redisx.StartLocal(ctx, t.TempDir(), 0)
	if err != nil {
		t.Fatalf("StartLocal: %v", err)
	}
	cancel()
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		p.Stop()
		t.Fatal("redis-server still running 5s after its context ended")
	}
}

func TestStartLocalOnGivenPort(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	p, err := redisx.StartLocal(t.Context(), t.TempDir(), port)
	if err != nil {
		t.Fatalf("StartLocal: %v", err)
	}
	defer p.Stop()
	if p.Addr() != "127.0.0.1:"+strconv.Itoa(port) {
		t.Fatalf("addr = %s", p.Addr())
	}
	// A second server on the same port fails with the server's own reason.
	_, err = redisx.StartLocal(t.Context(), t.TempDir(), port)
	if err == nil || !strings.Contains(err.Error(), "redis-server") {
		t.Fatalf("second server on a taken port: %v", err)
	}
}

func TestStartLocalRefuses6379(t *testing.T) {
	t.Parallel()
	_, err := redisx.StartLocal(t.Context(), t.TempDir(), 6379)
	if err == nil || !strings.Contains(err.Error(), "6379") {
		t.Fatalf("err = %v, want a refusal naming 6379", err)
	}
}

func TestStartLocalWithoutRedisServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := redisx.StartLocal(t.Context(), t.TempDir(), 0)
	if !errors.Is(err, redisx.ErrNotInstalled) {
		t.Fatalf("err = %v, want ErrNotInstalled", err)
	}
	for _, hint := range []string{"apt-get install -y redis-server", "make run"} {
		if !strings.Contains(err.Error(), hint) {
			t.Errorf("error %q does not tell to %q", err, hint)
		}
	}
}

func TestNewClientAddresses(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"127.0.0.1:6380", "redis://127.0.0.1:6380/2", "redis://:secret@localhost:6380"} {
		c, err := redisx.NewClient(ok, redisx.Options{})
		if err != nil {
			t.Errorf("NewClient(%q): %v", ok, err)
			continue
		}
		c.Close()
	}
	for _, bad := range []string{"", "localhost", "http://x:1"} {
		if _, err := redisx.NewClient(bad, redisx.Options{}); err == nil {
			t.Errorf("NewClient(%q) accepted", bad)
		}
	}
}

// A Redis that is gone fails fast, and the error reads as unavailability;
// once Redis is back the same client works again.
func TestOutageFailsFastAndRecovers(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	c, err := redisx.NewClient(srv.Addr(), redisx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := t.Context()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	start := time.Now()
	err = c.Ping(ctx).Err()
	if err == nil {
		t.Fatal("ping succeeded with Redis stopped")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("failing took %s, want fast", took)
	}
	if !redisx.IsUnavailable(err) {
		t.Fatalf("IsUnavailable(%v) = false", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.Ping(ctx).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("client did not recover after Redis came back")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestIsUnavailable(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	c := srv.Client(t)
	ctx := t.Context()
	c.Set(ctx, "s", "x", 0)
	err := c.LPush(ctx, "s", "y").Err() // WRONGTYPE: Redis answered, it is there
	if err == nil || redisx.IsUnavailable(err) {
		t.Fatalf("WRONGTYPE counted as unavailable: %v", err)
	}
	if redisx.IsUnavailable(nil) || redisx.IsUnavailable(context.Canceled) {
		t.Fatal("nil or cancellation counted as unavailable")
	}
	for _, e := range []error{redis.ErrClosed, redis.ErrPoolTimeout, context.DeadlineExceeded} {
		if !redisx.IsUnavailable(e) {
			t.Errorf("IsUnavailable(%v) = false", e)
		}
	}
}
