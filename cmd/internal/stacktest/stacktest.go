// Package stacktest helps the tests that run more than one service: the
// registry and the services that read it, on one test NATS server, started
// by cmd/internal/stack as the dev stack and the benchmark start them.
package stacktest

import (
	"context"
	"testing"
	"time"

	"github.com/predikat-id/predikat/cmd/internal/stack"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/grpcserver"
	"github.com/predikat-id/predikat/pkg/platform/testenv/eventtest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
)

// Registry is a running registry service.
type Registry struct {
	Addr   string
	Client registryv1.RegistryServiceClient
}

// StartRegistry runs the registry service in process on ns until the test
// ends.
func StartRegistry(t testing.TB, ns *natstest.Server) *Registry {
	t.Helper()
	svcs, err := stack.NewServices(context.Background(), stack.ServicesOptions{
		NATSURL: ns.URL(), NATSConn: ns.Conn(t), Logger: natstest.Logger(t), ReadyTimeout: 20 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := svcs.Start(stack.Registry, "127.0.0.1:0", "")
	if err != nil {
		svcs.Stop()
		t.Fatalf("registry did not start: %v", err)
	}
	cc, err := grpcserver.Dial(addr)
	if err != nil {
		svcs.Stop()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cc.Close()
		svcs.Stop()
	})
	return &Registry{Addr: addr, Client: registryv1.NewRegistryServiceClient(cc)}
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
