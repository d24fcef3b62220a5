// Package metrics is how a Predikat service exposes Prometheus metrics: one
// registry per process (Go runtime and process collectors included), served
// as /metrics on a port of its own, so scraping never competes with the
// TLS-only gRPC port or its access policy.
package metrics

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/predikat-id/predikat/pkg/platform/config"
)

// Namespace prefixes every metric Predikat defines itself.
const Namespace = "predikat"

// Config says where /metrics is served ("" for nowhere).
type Config struct {
	Addr string
}

// Flags defines --metrics-addr on fs.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "metrics-addr", config.Env("PREDIKAT_METRICS_ADDR", ""),
		"plaintext HTTP address serving Prometheus metrics at /metrics, e.g. :9090; empty: none (env PREDIKAT_METRICS_ADDR)")
}

// NewRegistry returns a registry with the Go runtime and process
// collectors, for everything else the service registers.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Server serves one registry as /metrics.
type Server struct {
	lis net.Listener
	srv *http.Server
}

// Listen binds addr for reg's /metrics; Serve serves it.
func Listen(ctx context.Context, addr string, reg *prometheus.Registry) (*Server, error) {
	lis, err := new(net.ListenConfig).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	// Exemplars and OpenMetrics are offered to scrapers that ask for them.
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true, Registry: reg}))
	return &Server{lis: lis, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}, nil
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.lis.Addr() }

// Serve serves until ctx ends; a scrape under way gets a few seconds.
func (s *Server) Serve(ctx context.Context, log *slog.Logger) {
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = s.srv.Shutdown(sctx)
	}()
	log.Info("metrics listening", "addr", s.lis.Addr().String(), "path", "/metrics")
	if err := s.srv.Serve(s.lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("metrics server stopped", "err", err)
	}
}

// Start serves reg on c.Addr until ctx ends; nothing without an address.
// A port that cannot be bound is an error: an operator who asked for
// metrics and gets none would only notice on the first incident.
func (c Config) Start(ctx context.Context, reg *prometheus.Registry, log *slog.Logger) error {
	if c.Addr == "" {
		return nil
	}
	s, err := Listen(ctx, c.Addr, reg)
	if err != nil {
		return err
	}
	go s.Serve(ctx, log)
	return nil
}

// Connected registers predikat_<what>_connected, 1 while up() says the
// connection is up (asked at each scrape).
func Connected(reg prometheus.Registerer, what string, up func() bool) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: what + "_connected",
		Help: "1 while the service's " + what + " connection is up."}, func() float64 {
		if up() {
			return 1
		}
		return 0
	}))
}
