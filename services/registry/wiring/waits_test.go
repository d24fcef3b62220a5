package wiring_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/pkitest"
	"github.com/predikat-id/predikat/services/registry/wiring"
	"google.golang.org/grpc/health/grpc_health_v1"
)

// TestWaitsForJetStream starts the registry against a NATS whose JetStream
// is not on yet (a cluster still forming): the registry must not exit, and
// must answer NOT_SERVING until its buckets can be placed.
func TestWaitsForJetStream(t *testing.T) {
	srv, nc := natstest.StartWithoutJetStream(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()

	sec := pkitest.Security(t, "registry")
	ctx, cancel := context.WithCancel(context.Background())
	serving := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- wiring.Run(ctx, wiring.Config{Addr: addr, NATS: nc, Logger: natstest.Logger(t),
			Security: sec, OnServing: func(a string) { serving <- a }})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("registry stopped with error: %v", err)
		}
	})

	health := grpc_health_v1.NewHealthClient(pkitest.Dial(t, addr, "admin"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := health.Check(ctxT(t), &grpc_health_v1.HealthCheckRequest{})
		if err == nil {
			if resp.GetStatus() != grpc_health_v1.HealthCheckResponse_NOT_SERVING {
				t.Fatalf("health %v without JetStream, want NOT_SERVING", resp.GetStatus())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health check: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("registry exited while JetStream was off: %v", err)
	case <-serving:
		t.Fatal("registry serving without JetStream")
	case <-time.After(300 * time.Millisecond):
	}

	if err := srv.EnableJetStream(&server.JetStreamConfig{StoreDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-serving:
	case err := <-done:
		t.Fatalf("registry exited: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("registry not serving 15s after JetStream came up")
	}
}
