package natsx_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
)

func TestIsTransient(t *testing.T) {
	t.Parallel()
	api := func(code jetstream.ErrorCode, status int, desc string) error {
		return fmt.Errorf("ensure stream %q: %w", "X", &jetstream.APIError{ErrorCode: code, Code: status, Description: desc})
	}
	cases := []struct {
		err  error
		want bool
	}{
		{api(10005, 400, "no suitable peers for placement"), true},
		{api(10008, 503, "JetStream system temporarily unavailable"), true},
		{api(10009, 500, "JetStream cluster can not handle request"), true},
		{api(10118, 500, "stream is offline"), true},
		{api(10999, 503, "something new, but unavailable"), true},
		{jetstream.ErrJetStreamNotEnabled, true},
		{fmt.Errorf("wrapped: %w", nats.ErrNoResponders), true},
		{nats.ErrTimeout, true},
		{context.DeadlineExceeded, true},
		{api(10074, 500, "replicas > 1 not supported in non-clustered mode"), false},
		{api(10052, 500, "stream configuration update can not change storage type"), false},
		{jetstream.ErrInvalidBucketName, false},
		{nats.ErrConnectionClosed, false},
		{errors.New("permission denied"), false},
		{nil, false},
	}
	for _, c := range cases {
		if got := natsx.IsTransient(c.err); got != c.want {
			t.Errorf("IsTransient(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// TestEnsureWaitsForJetStream starts a server whose JetStream is not on
// yet, as happens while a cluster forms: EnsureStream and EnsureKV must
// wait for it instead of failing.
func TestEnsureWaitsForJetStream(t *testing.T) {
	t.Parallel()
	srv, nc := natstest.StartWithoutJetStream(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	done := make(chan error, 1)
	go func() {
		if _, err := natsx.EnsureStream(ctx, js, jetstream.StreamConfig{Name: "LATE", Subjects: []string{"late.>"}}, natsx.LogTo(natstest.Logger(t))); err != nil {
			done <- err
			return
		}
		_, err := natsx.EnsureKV(ctx, js, jetstream.KeyValueConfig{Bucket: "late"}, natsx.LogTo(natstest.Logger(t)))
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("ensure returned before JetStream was on: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	if err := srv.EnableJetStream(&server.JetStreamConfig{StoreDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("ensure after JetStream came up: %v", err)
	}
}

func TestEnsureGivesUpWithTheLastError(t *testing.T) {
	t.Parallel()
	_, nc := natstest.StartWithoutJetStream(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 700*time.Millisecond)
	defer cancel()
	_, err = natsx.EnsureStream(ctx, js, jetstream.StreamConfig{Name: "NEVER", Subjects: []string{"never.>"}}, natsx.LogTo(natstest.Logger(t)))
	if !errors.Is(err, context.DeadlineExceeded) || !natsx.IsTransient(err) {
		t.Fatalf("want the deadline and the last JetStream error, got %v", err)
	}
}

func TestEnsureFailsAtOnceOnAPermanentError(t *testing.T) {
	t.Parallel()
	js := natstest.Start(t).JetStream(t)
	start := time.Now()
	// R3 on a server that is not clustered can never work.
	_, err := natsx.EnsureStream(testCtx(t), js, jetstream.StreamConfig{Name: "R3", Subjects: []string{"r3.>"}, Replicas: 3})
	if err == nil {
		t.Fatal("R3 on a single server accepted")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("a permanent error took %s: it was retried", d)
	}
}

// TestConnectTakesAServerList: PREDIKAT_NATS_URL may list every server of
// a cluster, comma-separated; a server that is down is skipped.
func TestConnectTakesAServerList(t *testing.T) {
	t.Parallel()
	ns := natstest.Start(t)
	down := fmt.Sprintf("nats://127.0.0.1:%d", freePort(t))
	nc, err := natsx.Connect(testCtx(t), down+", "+ns.URL(), "server-list", natstest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if got := nc.ConnectedUrl(); got != ns.URL() {
		t.Errorf("connected to %q, want the live server %q", got, ns.URL())
	}
	if n := len(nc.Servers()); n < 2 {
		t.Errorf("server pool %v, want both servers", nc.Servers())
	}
}
