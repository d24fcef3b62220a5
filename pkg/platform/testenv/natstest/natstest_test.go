package natstest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
)

func TestStartAndUse(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	if strings.HasSuffix(srv.URL(), ":4222") {
		t.Fatalf("URL %s uses the default port", srv.URL())
	}
	nc := srv.Conn(t)
	sub, err := nc.SubscribeSync("hello")
	if err != nil {
		t.Fatal(err)
	}
	// SUB is sent asynchronously; the publish goes through another
	// connection, so wait until the server has registered the interest.
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Conn(t).Publish("hello", []byte("world")); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("next msg: %v", err)
	}
	if string(msg.Data) != "world" {
		t.Fatalf("got %q", msg.Data)
	}
}

func TestServersAreIsolated(t *testing.T) {
	t.Parallel()
	a, b := natstest.Start(t), natstest.Start(t)
	if a.URL() == b.URL() || a.StoreDir() == b.StoreDir() {
		t.Fatalf("servers share URL or store: %s %s", a.URL(), b.URL())
	}
}

func TestRestartKeepsDataAndClientsReconnect(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	srv := natstest.Start(t)
	url := srv.URL()
	js := srv.JetStream(t)

	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "LOG", Subjects: []string{"log.>"}})
	if err != nil {
		t.Fatalf("create stream: %v", err)
	}
	if _, err := js.Publish(ctx, "log.a", []byte("before")); err != nil {
		t.Fatalf("publish: %v", err)
	}

	srv.Restart(t)
	if srv.URL() != url {
		t.Fatalf("URL changed across restart: %s -> %s", url, srv.URL())
	}

	// The same client, never told about the restart, reconnects and sees the
	// data acknowledged before it. Until it has reconnected, requests may
	// time out, so retry for a while.
	var info *jetstream.StreamInfo
	deadline := time.Now().Add(10 * time.Second)
	for {
		reqCtx, reqCancel := context.WithTimeout(ctx, time.Second)
		info, err = s.Info(reqCtx)
		reqCancel()
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("stream info after restart: %v", err)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("messages after restart = %d, want 1", info.State.Msgs)
	}
	if _, err := js.Publish(ctx, "log.b", []byte("after")); err != nil {
		t.Fatalf("publish after restart: %v", err)
	}
	m, err := s.GetMsg(ctx, 1)
	if err != nil {
		t.Fatalf("get first message: %v", err)
	}
	if string(m.Data) != "before" {
		t.Fatalf("first message = %q, want before", m.Data)
	}
}

func TestShutdownIsIdempotent(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	srv.Shutdown()
	srv.Shutdown() // and once more at cleanup
}
