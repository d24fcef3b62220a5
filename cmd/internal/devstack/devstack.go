// Package devstack runs the whole of Predikat in one process for a laptop:
// an embedded NATS server with JetStream on disk (sync writes, so nothing
// acknowledged is lost on a crash), a redis-server child for the
// leaderboards, and every service, all started by cmd/internal/stack.
// Production runs the same service packages as separate Deployments.
package devstack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"strings"

	"github.com/predikat-id/predikat/cmd/internal/demo"
	"github.com/predikat-id/predikat/cmd/internal/stack"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/config"
	"github.com/predikat-id/predikat/pkg/platform/telemetry"
)

// Options says where the stack keeps its data and listens. Zero values mean
// the defaults of pkg/config; port 0 (or "127.0.0.1:0") picks a free port.
type Options struct {
	DataDir        string
	NATSHost       string
	NATSPort       int // -1: a free port
	RegistryAddr   string
	AssessmentAddr string
	RankingAddr    string
	// RedisURL is the Redis for the leaderboards; empty starts a
	// redis-server child on a free port with its files in DataDir/redis.
	RedisURL string
	// MetricsAddrs, by service, is where each serves Prometheus metrics;
	// a service left out takes its default (DefaultMetricsAddrs), an empty
	// address serves none.
	MetricsAddrs map[string]string
	// Demo loads the Kalimantan Selatan demo data when DataDir starts empty.
	Demo   bool
	Logger *slog.Logger
	// Out receives the human summary (addresses, what to try next); nil
	// prints nothing.
	Out io.Writer
	// OnReady, if set, is called once every service answers (and the demo
	// data, if asked for, is loaded).
	OnReady func(Addrs)
}

// DefaultMetricsAddrs are where the dev stack's services serve Prometheus
// metrics (/metrics) unless told otherwise, beside their gRPC ports.
var DefaultMetricsAddrs = map[string]string{
	stack.Registry: "127.0.0.1:9091", stack.Assessment: "127.0.0.1:9092", stack.Ranking: "127.0.0.1:9093",
}

// Addrs are the bound addresses of a running stack.
type Addrs stack.Addrs

func (o *Options) defaults() {
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&o.NATSHost, "127.0.0.1")
	def(&o.RegistryAddr, config.DefaultRegistry)
	def(&o.AssessmentAddr, config.DefaultAssessment)
	def(&o.RankingAddr, config.DefaultRanking)
	if o.NATSPort == 0 {
		o.NATSPort = config.DefaultNATSPort
	}
	m := maps.Clone(DefaultMetricsAddrs)
	maps.Copy(m, o.MetricsAddrs)
	o.MetricsAddrs = m
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
}

// Run starts the stack and blocks until ctx ends or a service stops on its
// own (one part down takes the stack down, so it never runs half-working),
// then stops every part in reverse order: services drain their calls
// first, NATS and Redis go last.
func Run(ctx context.Context, o Options) error {
	o.defaults()
	log := o.Logger
	// One process, one tracer provider: OTEL_TRACES_EXPORTER=console (or an
	// OTLP endpoint) shows every trace of the stack.
	flush, err := telemetry.Setup(ctx, "predikat-dev", log)
	if err != nil {
		return err
	}
	defer flush.Flush(log)
	st, err := stack.Start(ctx, stack.Options{
		Mode: stack.InProcess, DataDir: o.DataDir, NATSHost: o.NATSHost, NATSPort: o.NATSPort, NATSSync: true,
		NATSName: "predikat-dev", RedisURL: o.RedisURL, RegistryAddr: o.RegistryAddr, AssessmentAddr: o.AssessmentAddr,
		RankingAddr: o.RankingAddr, Logger: log, MetricsAddrs: o.MetricsAddrs,
	})
	if err != nil {
		return err
	}
	addrs := Addrs(st.Addrs)
	if o.Demo && st.Fresh {
		if err := loadDemo(ctx, st, addrs, log); err != nil {
			st.Close()
			return fmt.Errorf("demo data: %w", err)
		}
	}
	printSummary(o.Out, o.DataDir, addrs, o.MetricsAddrs)
	if o.OnReady != nil {
		o.OnReady(addrs)
	}
	select {
	case <-ctx.Done():
	case <-st.Failed():
	}
	st.Close()
	log.Info("predikat stopped")
	return st.Err()
}

// loadDemo loads the demo data as the dev admin.
func loadDemo(ctx context.Context, st *stack.Stack, a Addrs, log *slog.Logger) error {
	rc, err := st.Dial(a.Registry, "admin")
	if err != nil {
		return err
	}
	defer rc.Close()
	ac, err := st.Dial(a.Assessment, "admin")
	if err != nil {
		return err
	}
	defer ac.Close()
	log.Info("empty data directory: loading the Kalimantan Selatan demo data")
	return demo.Load(ctx, demo.Clients{Registry: registryv1.NewRegistryServiceClient(rc), Assessment: assessmentv1.NewAssessmentServiceClient(ac),
		Ceremonies: assessmentv1.NewCeremonyServiceClient(ac)}, log)
}

func printSummary(out io.Writer, dataDir string, a Addrs, metrics map[string]string) {
	fmt.Fprintf(out, "\nPredikat is running (data in %s, Ctrl-C stops it):\n", dataDir)
	fmt.Fprintf(out, "  nats        %-22s embedded, JetStream\n", a.NATS)
	fmt.Fprintf(out, "  redis       %-22s leaderboard cache\n", a.Redis)
	fmt.Fprintf(out, "  registry    %-22s predikat.registry.v1.RegistryService\n", a.Registry)
	fmt.Fprintf(out, "  assessment  %-22s predikat.assessment.v1.AssessmentService\n", a.Assessment)
	fmt.Fprintf(out, "  ranking     %-22s predikat.ranking.v1.RankingService\n", a.Ranking)
	var served []string
	for _, svc := range []string{stack.Registry, stack.Assessment, stack.Ranking} {
		if m := metrics[svc]; m != "" {
			served = append(served, fmt.Sprintf("http://%s/metrics (%s)", m, svc))
		}
	}
	if len(served) == 0 {
		served = []string{"off"}
	}
	fmt.Fprintf(out, "  metrics     %s\n", strings.Join(served, ", "))
	pki := filepath.Join(dataDir, "pki")
	fmt.Fprintf(out, "\nEvery port is TLS-only and every call is checked against %s.\n", filepath.Join(pki, "policy.yaml"))
	fmt.Fprintf(out, "Dev credentials in %s: ca.pem, admin.pem (the CLI's default), reader.pem,\n", pki)
	fmt.Fprintf(out, "the services' certificates, and the dev token key (predikat token --role ROLE).\n")
	fmt.Fprintf(out, "\nTry, in another terminal:\n")
	fmt.Fprintf(out, "  go run ./cmd/predikat board --scheme ombudsman --year 2024 --group pemda --province 63\n")
	fmt.Fprintf(out, "  go run ./cmd/predikat awards list --institution pemkab-hss\n")
	fmt.Fprintf(out, "  go tool grpcurl -cacert %[1]s/ca.pem -cert %[1]s/admin.pem -key %[1]s/admin-key.pem %[2]s list\n\n", pki, a.Registry)
}
