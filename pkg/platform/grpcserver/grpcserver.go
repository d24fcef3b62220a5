// Package grpcserver is the gRPC server (and client) scaffolding every
// Predikat service shares, so that panics, request logging, request
// validation, health and reflection behave the same in all of them.
//
// A service builds a Server with New, registers its handlers with Register,
// calls SetServing(true) once its dependencies (NATS, indexes) are ready and
// runs Serve until its context is cancelled:
//
//	srv, err := grpcserver.New(grpcserver.Options{Name: "registry", Logger: log})
//	srv.Register(func(r grpc.ServiceRegistrar) { registryv1.RegisterRegistryServiceServer(r, h) })
//	go func() { waitForDeps(); srv.SetServing(true) }()
//	err = srv.Serve(ctx, ":8080")
package grpcserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"buf.build/go/protovalidate"
	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	protovalidatemw "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/protovalidate"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc/filters"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
	"google.golang.org/grpc/status"
)

// DefaultDrainTimeout bounds how long Serve waits for in-flight calls after
// its context is cancelled. Kubernetes' default termination grace period is
// 30s, so 10s leaves room for the rest of a service's shutdown.
const DefaultDrainTimeout = 10 * time.Second

// Options configures New.
type Options struct {
	// Name is the service name, attached to every log line as "service".
	Name string
	// Logger receives call, panic and lifecycle logs. Nil means slog.Default().
	Logger *slog.Logger
	// DrainTimeout bounds the graceful stop on shutdown; after it, remaining
	// calls are cut off. Zero means DefaultDrainTimeout.
	DrainTimeout time.Duration
	// ServerOptions are appended after the defaults, so they can override
	// settings such as keepalive, and their interceptors run inside ours
	// (after recovery, logging and validation).
	ServerOptions []grpc.ServerOption
	// TLS makes the port accept TLS only. The services always set it; the
	// plaintext default is left for tests of this package.
	TLS *tls.Config
	// Unary and Stream interceptors run after logging and before request
	// validation: authentication and authorization, so that a caller who
	// may not call a method learns nothing about what its request lacks,
	// and every refusal is still logged with its code.
	Unary  []grpc.UnaryServerInterceptor
	Stream []grpc.StreamServerInterceptor
	// HealthAddr, when set, serves grpc.health.v1 alone on a second,
	// plaintext port: Kubernetes' gRPC probes present no client
	// certificate and speak no TLS. Port 0 picks a free one (HealthAddr()).
	HealthAddr string
	// Metrics, when set, receives the per-method RPC metrics (started,
	// handled by code, handling time), counted outside authorization so a
	// refused call shows with its code.
	Metrics prometheus.Registerer
	// Prechecked maps a unary method's full name to a check no looser than
	// its request's protovalidate rules: a request the check passes is
	// not validated again (for hot methods whose rules cost more than the
	// rest of the call); every other request is validated as always, with
	// the contract's messages. The service holds each check to its
	// contract with a test.
	Prechecked map[string]func(req any) bool
}

// Server is a *grpc.Server with the shared interceptors, health and
// reflection already wired.
type Server struct {
	name         string
	log          *slog.Logger
	grpc         *grpc.Server
	health       *health.Server
	drainTimeout time.Duration
	healthAddr   string       // where the probe port listens; "" for none
	probe        *grpc.Server // the probe port's server, nil without one
	rpcMetrics   *grpcprom.ServerMetrics

	mu        sync.Mutex
	serving   bool     // the status SetServing last asked for
	addr      net.Addr // bound listener, once serving
	probeAddr net.Addr // bound health port, once serving
}

// validateUnary is protovalidate's interceptor, skipped for a request its
// method's precheck passes.
func validateUnary(v protovalidate.Validator, prechecked map[string]func(any) bool) grpc.UnaryServerInterceptor {
	validate := protovalidatemw.UnaryServerInterceptor(v)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if check := prechecked[info.FullMethod]; check != nil && check(req) {
			return handler(ctx, req)
		}
		return validate(ctx, req, info, handler)
	}
}

// infraServices are registered by New itself. They are not business services,
// so they get no health status of their own: "is the health service healthy"
// is answered by the health service answering at all.
var infraServices = map[string]bool{
	healthpb.Health_ServiceDesc.ServiceName:                    true,
	reflectionv1.ServerReflection_ServiceDesc.ServiceName:      true,
	reflectionv1alpha.ServerReflection_ServiceDesc.ServiceName: true,
}

// New builds a Server. Services register their handlers afterwards with
// Register (or directly on GRPC()).
func New(opts Options) (*Server, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("service", opts.Name)
	drain := opts.DrainTimeout
	if drain <= 0 {
		drain = DefaultDrainTimeout
	}

	validator, err := protovalidate.New()
	if err != nil {
		return nil, fmt.Errorf("grpcserver %s: build protovalidate validator: %w", opts.Name, err)
	}

	recoveryOpt := recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		method, _ := grpc.Method(ctx)
		// The stack is taken here, inside the deferred recover, so it still
		// shows the frames that panicked.
		log.ErrorContext(ctx, "grpc handler panicked",
			"grpc.method", method, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		// The client learns nothing about the internals; the log has them.
		return status.Error(codes.Internal, "internal error")
	})
	// Only the finish of a call is logged: it carries method, code and
	// duration, which is what operators need; a start line would double the
	// volume for nothing. Levels use the library's server defaults (Info for
	// OK and expected client errors, Warn/Error for the rest).
	logOpts := []logging.Option{logging.WithLogOnEvents(logging.FinishCall)}
	// Health checks are not logged: kubelet probes every few seconds would
	// bury the calls that matter.
	notHealth := selector.MatchFunc(func(_ context.Context, c interceptors.CallMeta) bool {
		return c.Service != healthpb.Health_ServiceDesc.ServiceName
	})
	logger := slogAdapter(log)
	var rpcMetrics *grpcprom.ServerMetrics
	unaryOuter := []grpc.UnaryServerInterceptor{recovery.UnaryServerInterceptor(recoveryOpt)}
	streamOuter := []grpc.StreamServerInterceptor{recovery.StreamServerInterceptor(recoveryOpt)}
	if opts.Metrics != nil {
		rpcMetrics = grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(
			grpcprom.WithHistogramBuckets([]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10})))
		if err := opts.Metrics.Register(rpcMetrics); err != nil {
			return nil, fmt.Errorf("grpcserver %s: register RPC metrics: %w", opts.Name, err)
		}
		ex := grpcprom.WithExemplarFromContext(traceExemplar)
		unaryOuter = append(unaryOuter, rpcMetrics.UnaryServerInterceptor(ex))
		streamOuter = append(streamOuter, rpcMetrics.StreamServerInterceptor(ex))
	}

	serverOpts := []grpc.ServerOption{
		// Order matters: the first interceptor is the outermost. Recovery is
		// outermost so that a panic anywhere (including in the other
		// interceptors) becomes codes.Internal instead of crashing the
		// process; validation is innermost so invalid requests are still
		// logged with their InvalidArgument code.
		grpc.ChainUnaryInterceptor(slices.Concat(
			unaryOuter,
			[]grpc.UnaryServerInterceptor{
				selector.UnaryServerInterceptor(logging.UnaryServerInterceptor(logger, logOpts...), notHealth),
			},
			opts.Unary,
			[]grpc.UnaryServerInterceptor{validateUnary(validator, opts.Prechecked)},
		)...),
		grpc.ChainStreamInterceptor(slices.Concat(
			streamOuter,
			[]grpc.StreamServerInterceptor{
				selector.StreamServerInterceptor(logging.StreamServerInterceptor(logger, logOpts...), notHealth),
			},
			opts.Stream,
			[]grpc.StreamServerInterceptor{protovalidatemw.StreamServerInterceptor(validator)},
		)...),
		// Clients (see Dial) ping every 30s; allowing pings down to 10s
		// keeps a misconfigured client from being cut off with
		// ENHANCE_YOUR_CALM while still refusing ping floods. Idle
		// connections may be pinged because services keep their clients
		// open between bursts of calls.
		// Every call is a span (the global tracer provider: none unless
		// telemetry.Setup enabled one), continuing the caller's trace.
		// Probes are not traced.
		grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithFilter(filters.Not(filters.ServiceName(healthpb.Health_ServiceDesc.ServiceName))))),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             10 * time.Second,
			PermitWithoutStream: true,
		}),
		// The server pings quiet connections too, so peers that vanished
		// without a FIN (node loss, NAT drop) are reaped instead of holding
		// streams open forever.
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time:    time.Minute,
			Timeout: 20 * time.Second,
		}),
	}
	if opts.TLS != nil {
		serverOpts = append(serverOpts, grpc.Creds(credentials.NewTLS(opts.TLS)))
	}
	serverOpts = append(serverOpts, opts.ServerOptions...)

	s := &Server{
		name:         opts.Name,
		log:          log,
		grpc:         grpc.NewServer(serverOpts...),
		health:       health.NewServer(),
		drainTimeout: drain,
		healthAddr:   opts.HealthAddr,
		rpcMetrics:   rpcMetrics,
	}
	healthpb.RegisterHealthServer(s.grpc, s.health)
	if opts.Metrics != nil {
		// What the probes see, for alerts on a service not serving.
		serving := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "predikat_serving",
			Help: "1 while the service's gRPC health is SERVING."}, func() float64 {
			resp, err := s.health.Check(context.Background(), &healthpb.HealthCheckRequest{})
			if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
				return 1
			}
			return 0
		})
		if err := opts.Metrics.Register(serving); err != nil {
			return nil, fmt.Errorf("grpcserver %s: register serving metric: %w", opts.Name, err)
		}
	}
	if opts.HealthAddr != "" {
		s.probe = grpc.NewServer()
		healthpb.RegisterHealthServer(s.probe, s.health)
	}
	// Both v1 and v1alpha, so grpcurl and older tools can list and describe
	// services without the proto files.
	reflection.Register(s.grpc)
	// health.NewServer starts "" as SERVING; nothing is ready yet.
	s.syncHealth()
	return s, nil
}

// traceExemplar labels a latency observation with its trace, so a slow
// bucket on the dashboard leads to the trace that filled it. Only sampled
// traces: an unsampled id leads nowhere.
func traceExemplar(ctx context.Context) prometheus.Labels {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsSampled() {
		return nil
	}
	return prometheus.Labels{"trace_id": sc.TraceID().String()}
}

// slogAdapter lets the go-grpc-middleware logging interceptor write to slog.
// Its levels are slog levels and its fields are key/value pairs, so this is a
// direct pass-through.
func slogAdapter(l *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		l.Log(ctx, slog.Level(lvl), msg, fields...)
	})
}

// GRPC returns the underlying server, for registrations and inspection.
// Services registered this way start NOT_SERVING like those given to
// Register, at the latest when Serve starts.
func (s *Server) GRPC() *grpc.Server { return s.grpc }

// Register calls fn with the server to register service implementations, and
// gives every new service the current health status (NOT_SERVING until
// SetServing(true)). It must be called before Serve, as grpc-go requires.
func (s *Server) Register(fn func(grpc.ServiceRegistrar)) {
	fn(s.grpc)
	s.syncHealth()
}

// SetServing sets the health status of the whole server ("") and of every
// registered service to SERVING (ready) or NOT_SERVING. Services call it once
// their dependencies are ready, and may call it with false if they lose them.
// After shutdown has begun it has no effect: the status stays NOT_SERVING.
func (s *Server) SetServing(ready bool) {
	s.mu.Lock()
	s.serving = ready
	s.mu.Unlock()
	s.syncHealth()
	s.log.Info("grpc health status changed", "serving", ready)
}

// syncHealth applies the requested status to "" and to every service
// currently registered, so services registered after SetServing still get a
// status instead of NotFound.
func (s *Server) syncHealth() {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if s.serving {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus("", st)
	for name := range s.grpc.GetServiceInfo() {
		if !infraServices[name] {
			s.health.SetServingStatus(name, st)
		}
	}
}

// Addr returns the address of the listener being served, or nil before
// Serve or ServeListener has bound one.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Serve listens on addr (host:port, port 0 picks a free one) and serves until
// ctx is cancelled; see ServeListener for the shutdown sequence.
func (s *Server) Serve(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	lis, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("grpcserver %s: listen on %s: %w", s.name, addr, err)
	}
	return s.ServeListener(ctx, lis)
}

// ServeListener serves on lis (which it closes) until ctx is cancelled. On
// cancellation it first sets every health status to NOT_SERVING, so load
// balancers and Kubernetes stop routing new calls here, then stops
// gracefully, letting in-flight calls finish for at most the drain timeout,
// and then cuts off whatever remains. It returns nil after such a shutdown
// and an error only if serving itself failed.
//
// Long-lived streams (for example a client's health Watch) hold a graceful
// stop open until they end, so with such clients shutdown takes the full
// drain timeout.
func (s *Server) ServeListener(ctx context.Context, lis net.Listener) error {
	addr := lis.Addr()
	s.mu.Lock()
	s.addr = addr
	s.mu.Unlock()
	// Catch services registered directly on GRPC() since the last sync.
	s.syncHealth()
	if s.rpcMetrics != nil {
		// Every method shows from the start, at zero, so a rate or an
		// alert has a series before the first call.
		s.rpcMetrics.InitializeMetrics(s.grpc)
	}

	if err := s.serveProbe(ctx); err != nil {
		_ = lis.Close()
		return err
	}
	defer s.stopProbe()
	errc := make(chan error, 1)
	go func() { errc <- s.grpc.Serve(lis) }()
	s.log.Info("grpc server listening", "addr", addr.String())

	select {
	case err := <-errc:
		// Serving failed on its own (the listener broke). Report not serving
		// and release connections that were already accepted.
		s.health.Shutdown()
		s.grpc.Stop()
		if err == nil || errors.Is(err, grpc.ErrServerStopped) {
			return nil
		}
		return fmt.Errorf("grpcserver %s: serve on %s: %w", s.name, addr, err)
	case <-ctx.Done():
	}

	s.shutdown()
	// After GracefulStop/Stop, Serve returns nil, or ErrServerStopped if the
	// stop won the race with Serve starting; both are a clean shutdown.
	if err := <-errc; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("grpcserver %s: serve on %s: %w", s.name, addr, err)
	}
	s.log.Info("grpc server stopped", "addr", addr.String())
	return nil
}

// serveProbe starts the plaintext health port, if there is one.
func (s *Server) serveProbe(ctx context.Context) error {
	if s.probe == nil {
		return nil
	}
	var lc net.ListenConfig
	lis, err := lc.Listen(ctx, "tcp", s.healthAddr)
	if err != nil {
		return fmt.Errorf("grpcserver %s: health port on %s: %w", s.name, s.healthAddr, err)
	}
	s.mu.Lock()
	s.probeAddr = lis.Addr()
	s.mu.Unlock()
	go func() { _ = s.probe.Serve(lis) }()
	s.log.Info("grpc health port listening", "addr", lis.Addr().String())
	return nil
}

// stopProbe closes the health port last, so probes see NOT_SERVING while
// the main port drains.
func (s *Server) stopProbe() {
	if s.probe != nil {
		s.probe.Stop()
	}
}

// HealthAddr returns the address of the plaintext health port, or nil
// without one or before serving.
func (s *Server) HealthAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.probeAddr
}

// shutdown runs the stop sequence: health NOT_SERVING first, then a bounded
// graceful stop, then a hard stop.
func (s *Server) shutdown() {
	// Shutdown also makes later SetServing calls no-ops, so a dependency
	// check finishing late cannot flip the server back to SERVING.
	s.health.Shutdown()
	s.log.Info("grpc server draining", "timeout", s.drainTimeout)

	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	timer := time.NewTimer(s.drainTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		s.log.Warn("grpc drain timeout exceeded; closing remaining calls", "timeout", s.drainTimeout)
		// Stop closes every connection, which also lets GracefulStop return.
		s.grpc.Stop()
		<-done
	}
}

// Dial creates a client connection to target (e.g. "dns:///registry:8080",
// "127.0.0.1:8080", or a comma-separated list of host:port, e.g.
// "10.0.0.1:8080,10.0.0.2:8080", for replicas without a DNS name that
// lists them all). opts are appended after the defaults and override
// them: the services and the CLI pass their TLS credentials
// (auth.ClientCredentials.DialOptions); the plaintext default only reaches a
// health port or a test server without TLS.
//
// Like grpc.NewClient, it does not connect: the first call does.
func Dial(target string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	defaults := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		// Matches the server's enforcement policy (pings no more often than
		// every 10s are allowed) and notices dead servers within ~40s even
		// when no call is in flight.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                30 * time.Second,
			Timeout:             10 * time.Second,
			PermitWithoutStream: true,
		}),
		// With a dns:/// target on a headless Kubernetes service this spreads
		// calls over all replicas instead of pinning one (pick_first).
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`),
		// Calls carry the caller's trace context to the server.
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
	}
	if addrs := strings.Split(target, ","); len(addrs) > 1 {
		// A fixed list: a resolver of its own for this connection. The
		// endpoint is the first address, so TLS checks the name the
		// operator wrote first (all replicas carry the same names).
		r := manual.NewBuilderWithScheme("predikat-list")
		state := resolver.State{}
		for _, a := range addrs {
			state.Endpoints = append(state.Endpoints, resolver.Endpoint{Addresses: []resolver.Address{{Addr: strings.TrimSpace(a)}}})
		}
		r.InitialState(state)
		defaults = append(defaults, grpc.WithResolvers(r))
		target = "predikat-list:///" + strings.TrimSpace(addrs[0])
	}
	conn, err := grpc.NewClient(target, append(defaults, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("grpcserver: dial %s: %w", target, err)
	}
	return conn, nil
}
