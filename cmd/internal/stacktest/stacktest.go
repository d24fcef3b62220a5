// Package stacktest helps the tests that run more than one service: the
// registry and the services that read it, on one test NATS server.
package stacktest

import (
	"context"
	"testing"
	"time"

	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/grpcserver"
	"github.com/predikat-id/predikat/pkg/platform/testenv/eventtest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	registry "github.com/predikat-id/predikat/services/registry/wiring"
)

// Registry is a running registry service.
type Registry struct {
	Addr   string
	Client registryv1.RegistryServiceClient
}

// StartRegistry runs the registry service on ns until the test ends.
func StartRegistry(t testing.TB, ns *natstest.Server) *Registry {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- registry.Run(ctx, registry.Config{Addr: "127.0.0.1:0", NATS: ns.Conn(t), Replicas: 1, Logger: natstest.Logger(t),
			OnServing: func(a string) { addr <- a }})
	}()
	var a string
	select {
	case a = <-addr:
	case err := <-done:
		cancel()
		t.Fatalf("registry did not start: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("registry not ready in 20s")
	}
	cc, err := grpcserver.Dial(a)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cc.Close()
		cancel()
		<-done
	})
	return &Registry{Addr: a, Client: registryv1.NewRegistryServiceClient(cc)}
}

// Create registers the institutions.
func (r *Registry) Create(t testing.TB, insts ...eventtest.Inst) {
	t.Helper()
	for _, in := range insts {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := r.Client.CreateInstitution(ctx, &registryv1.CreateInstitutionRequest{InstitutionId: in.ID,
			Institution: &registryv1.Institution{Name: in.Name, Kind: in.Kind, RegionCode: in.Region}})
		cancel()
		if err != nil {
			t.Fatalf("create %s: %v", in.ID, err)
		}
	}
}
