// Package wiring wires the registry service together: storage on JetStream KV,
// the in-memory index, the application layer over them, the gRPC handlers and
// the shared server bootstrap.
// main (and the dev stack in cmd/predikat) parse flags and call Run.
package wiring

import (
	"context"
	"fmt"
	"github.com/predikat-id/predikat/pkg/platform/security"
	"github.com/prometheus/client_golang/prometheus"
	"log/slog"
	"net"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/auth"
	"github.com/predikat-id/predikat/pkg/platform/config"
	"github.com/predikat-id/predikat/pkg/platform/grpcserver"
	"github.com/predikat-id/predikat/pkg/platform/metrics"
	"github.com/predikat-id/predikat/services/registry/internal/app"
	"github.com/predikat-id/predikat/services/registry/internal/index"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
	"github.com/predikat-id/predikat/services/registry/internal/server"
	"github.com/predikat-id/predikat/services/registry/internal/store"
	"google.golang.org/grpc"
)

// DefaultAddr is where the registry listens unless told otherwise.
const DefaultAddr = config.DefaultRegistry

// Config is everything the registry needs from its environment.
type Config struct {
	// Addr is the gRPC listen address.
	Addr string
	// Security is the service's certificate, its callers' CA, bearer
	// tokens and the access policy; Run refuses to start without them.
	Security security.Config
	// NATS is a connected client; the caller owns it.
	NATS *nats.Conn
	// Replicas of the KV buckets (1 for one NATS server, 3 on a cluster).
	Replicas int
	// Logger for everything the service says.
	Logger *slog.Logger
	// Metrics is where /metrics is served (empty: nowhere).
	Metrics metrics.Config
	// OnServing, if set, is called with the bound address once the service
	// answers and its index is complete.
	OnServing func(addr string)
}

// Run serves the registry until ctx ends, then shuts down gracefully.
func Run(ctx context.Context, cfg Config) error {
	log := cfg.Logger.With("service", "registry")
	js, err := jetstream.New(cfg.NATS)
	if err != nil {
		return fmt.Errorf("registry: jetstream: %w", err)
	}
	idx := index.New(4096)
	// Bindings scoped to provinces place an institution by its region in
	// the index, which this service keeps itself.
	sec, err := cfg.Security.Server(ctx, cfg.Logger, auth.WithProvinces(func(_ context.Context, id string) (string, error) {
		if in := idx.Institution(id); in != nil {
			return auth.ProvinceOfRegion(in.RegionCode), nil
		}
		return "", nil
	}))
	if err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	reg := metrics.NewRegistry()
	metrics.Connected(reg, "nats", cfg.NATS.IsConnected)
	// The buckets this service writes: no leader, no write.
	metrics.Streams(reg, js, "KV_"+store.BucketInstitutions, "KV_"+store.BucketIdentities, "KV_"+store.BucketRegions, "KV_"+store.BucketRequests)
	gopts := grpcserver.Options{Name: "registry", Logger: cfg.Logger, Metrics: reg}
	sec.Apply(&gopts)
	gs, err := grpcserver.New(gopts)
	if err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	lis, err := new(net.ListenConfig).Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("registry: listen on %s: %w", cfg.Addr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The handlers reach storage through storage, which answers
	// Unavailable until Open has placed the buckets: on a NATS cluster
	// still forming that can take a while, and meanwhile the port answers
	// health checks with NOT_SERVING instead of refusing connections.
	st := &storage{}
	gs.Register(func(r grpc.ServiceRegistrar) {
		registryv1.RegisterRegistryServiceServer(r, server.New(app.New(app.Ports{
			Regions: st, Institutions: st, Requests: st, Index: idx, Feed: feed{idx},
			Clock: app.ClockFunc(time.Now), Stopping: ctx.Done(),
		})))
	})
	if err := security.CheckDeclared(gs.GRPC()); err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metrics.Namespace, Subsystem: "registry", Name: "index_institutions",
		Help: "Institutions in the registry's in-memory index."}, func() float64 { return float64(idx.Len()) }))
	if err := cfg.Metrics.Start(ctx, reg, log); err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	served := make(chan error, 1)
	go func() { served <- gs.ServeListener(ctx, lis) }()

	if err := start(ctx, js, cfg, idx, st, log); err != nil {
		cancel()
		// Storage never became ready, so that is the error to return;
		// waiting lets the server stop first, and its own failure is still
		// logged.
		if serr := <-served; serr != nil {
			log.Warn("registry: server stopped with an error", "err", serr)
		}
		return fmt.Errorf("registry: %w", err)
	}
	gs.SetServing(true)
	log.Info("registry ready", "addr", lis.Addr().String(), "institutions", idx.Len())
	if cfg.OnServing != nil {
		cfg.OnServing(lis.Addr().String())
	}
	return <-served
}

// start opens the storage (waiting for JetStream as long as ctx lasts),
// hands it to st and loads the index.
func start(ctx context.Context, js jetstream.JetStream, cfg Config, idx *index.Index, st *storage, log *slog.Logger) error {
	opened, err := store.Open(ctx, js, store.Config{Replicas: cfg.Replicas}, idx, log)
	if err != nil {
		return fmt.Errorf("open storage: %w", err)
	}
	st.set(opened)
	if err := opened.Start(ctx); err != nil {
		return fmt.Errorf("load index: %w", err)
	}
	return nil
}

// feed is the index as the application's change feed.
type feed struct{ idx *index.Index }

func (f feed) Subscribe(snapshot bool) (app.Subscription, []*institution.Institution) {
	return f.idx.Subscribe(snapshot)
}
