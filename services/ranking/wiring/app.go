// Package wiring wires the ranking service together: the boards in Redis, the
// durable consumers on ASSESSMENTS and ROUNDS, rebuilds from the log, the
// registry client for names, and the gRPC handlers on the shared server
// bootstrap. main (and the dev stack in cmd/predikat) parse flags and call
// Run.
package wiring

import (
	"context"
	"errors"
	"fmt"
	"github.com/predikat-id/predikat/pkg/platform/security"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"

	"github.com/predikat-id/predikat/pkg/events"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	"github.com/predikat-id/predikat/pkg/platform/auth"
	"github.com/predikat-id/predikat/pkg/platform/backoff"
	"github.com/predikat-id/predikat/pkg/platform/config"
	"github.com/predikat-id/predikat/pkg/platform/grpcserver"
	"github.com/predikat-id/predikat/pkg/platform/metrics"
	"github.com/predikat-id/predikat/pkg/platform/redisx"
	"github.com/predikat-id/predikat/pkg/platform/registryclient"
	"github.com/predikat-id/predikat/services/ranking/internal/app"
	"github.com/predikat-id/predikat/services/ranking/internal/cache"
	"github.com/predikat-id/predikat/services/ranking/internal/consumer"
	"github.com/predikat-id/predikat/services/ranking/internal/names"
	"github.com/predikat-id/predikat/services/ranking/internal/rebuild"
	"github.com/predikat-id/predikat/services/ranking/internal/server"
	"github.com/predikat-id/predikat/services/ranking/internal/store"
)

// DefaultAddr is where the ranking service listens unless told otherwise.
const DefaultAddr = config.DefaultRanking

// DefaultRedisURL is the dev stack's local redis-server (6379 is left to the
// user's own Redis).
var DefaultRedisURL = fmt.Sprintf("redis://127.0.0.1:%d/0", redisx.DefaultLocalPort)

// RedisKeyBase is the prefix of every Redis key of the boards' current
// layout: for harnesses that reach into Redis as a fault would.
var RedisKeyBase = store.Base

// Config is everything the ranking service needs from its environment.
type Config struct {
	// Addr is the gRPC listen address.
	Addr string
	// Security is the service's certificate, its callers' CA, bearer
	// tokens and the access policy; Run refuses to start without them.
	Security security.Config
	// NATS is a connected client; the caller owns it.
	NATS *nats.Conn
	// Redis is a client for the boards; the caller owns it. Build it with
	// redisx.NewClient so a Redis outage fails fast. When nil, RedisURL is
	// used.
	Redis *redis.Client
	// RedisURL is host:port or redis://host:port/db, used when Redis is nil
	// (the service then owns and closes its client).
	RedisURL string
	// RegistryAddr is the registry's gRPC address, for institution and
	// region names.
	RegistryAddr string
	// Replicas of the ASSESSMENTS and ROUNDS streams if the ranking service
	// is the first to create them (1 for one NATS server, 3 on a cluster;
	// 0 means 1). Existing streams are never changed.
	Replicas int
	// Logger for everything the service says.
	Logger *slog.Logger
	// Metrics is where /metrics is served (empty: nowhere).
	Metrics metrics.Config
	// Cache sizes the cache of read answers.
	Cache CacheConfig
	// OnServing, if set, is called with the bound address once the service
	// answers: the boards are in Redis and current with the log (rebuilt
	// from it, or the consumers caught up).
	OnServing func(addr string)
}

// checkEvery is how often the supervisor checks Redis: boards present, of
// the current layout, not behind the log.
const checkEvery = time.Second

// Run serves the ranking service until ctx ends, then shuts down gracefully.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	log := cfg.Logger.With("service", "ranking")
	rdb := cfg.Redis
	if rdb == nil {
		var err error
		if rdb, err = redisx.NewClient(cfg.RedisURL, redisx.Options{ClientName: "predikat-ranking"}); err != nil {
			return fmt.Errorf("ranking: %w", err)
		}
		defer rdb.Close()
	}
	js, err := jetstream.New(cfg.NATS)
	if err != nil {
		return fmt.Errorf("ranking: jetstream: %w", err)
	}
	if cfg.RegistryAddr == "" {
		return errors.New("ranking: RegistryAddr is required (names come from the registry)")
	}
	cc, err := cfg.Security.Dial(cfg.RegistryAddr)
	if err != nil {
		return fmt.Errorf("ranking: %w", err)
	}
	defer cc.Close()

	nm := registryclient.New(cc, log)
	sec, err := cfg.Security.Server(ctx, cfg.Logger, auth.WithProvinces(nm.ProvinceOf))
	if err != nil {
		return fmt.Errorf("ranking: %w", err)
	}
	reg := metrics.NewRegistry()
	m := newRankingMetrics(reg)
	metrics.Connected(reg, "nats", cfg.NATS.IsConnected)
	// Asked at each scrape: a PING answered within half a second.
	metrics.Connected(reg, "redis", func() bool {
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		return rdb.Ping(pctx).Err() == nil
	})
	gopts := grpcserver.Options{Name: "ranking", Logger: cfg.Logger, Metrics: reg}
	sec.Apply(&gopts)
	gs, err := grpcserver.New(gopts)
	if err != nil {
		return fmt.Errorf("ranking: %w", err)
	}
	lis, err := new(net.ListenConfig).Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("ranking: listen on %s: %w", cfg.Addr, err)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st := store.New(rdb)
	coord := rebuild.NewCoordinator(ctx, rebuild.NewBuilder(js, st, log), log)
	cons := consumer.New(js, st, coord, log)
	srv, watch := readPath(cfg.Cache, nm, js, st, coord, cons, m, log)
	if err := cfg.Metrics.Start(ctx, reg, log); err != nil {
		return fmt.Errorf("ranking: %w", err)
	}
	gs.Register(func(r grpc.ServiceRegistrar) {
		rankingv1.RegisterRankingServiceServer(r, srv)
	})
	if err := security.CheckDeclared(gs.GRPC()); err != nil {
		return fmt.Errorf("ranking: %w", err)
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { nm.Run(ctx) })
	wg.Go(func() { watch(ctx) })

	served := make(chan error, 1)
	go func() { served <- gs.ServeListener(ctx, lis) }()

	sup := &supervisor{log: log, js: js, st: st, coord: coord, cons: cons, gs: gs, replicas: cfg.Replicas, metrics: m,
		onServing: func() {
			log.Info("ranking ready", "addr", lis.Addr().String())
			if cfg.OnServing != nil {
				cfg.OnServing(lis.Addr().String())
			}
		}}
	wg.Go(func() { sup.run(ctx) })
	wg.Go(func() {
		<-ctx.Done()
		coord.Wait()
	})
	err = <-served
	cancel()
	return err
}

// supervisor brings the service up and keeps its health honest: NOT_SERVING
// while the boards are missing, of another layout, behind the log, being
// rebuilt from scratch, Redis is unreachable or a consumer is stalled;
// SERVING once the boards are there and the watchdog finds the consumers
// caught up with the streams.
type supervisor struct {
	log       *slog.Logger
	js        jetstream.JetStream
	st        *store.Store
	coord     *rebuild.Coordinator
	cons      *consumer.Consumer
	gs        *grpcserver.Server
	replicas  int
	metrics   *rankingMetrics
	onServing func()

	serving   atomic.Bool
	announced bool
	stalled   bool
}

func (s *supervisor) setServing(ok bool) {
	v := 0.0
	if ok {
		v = 1
	}
	s.metrics.serving.Set(v)
	if s.serving.Swap(ok) != ok {
		s.gs.SetServing(ok)
	}
}

func (s *supervisor) run(ctx context.Context) {
	s.gs.SetServing(false)
	// The streams must exist before a consumer can be made on them. The
	// assessment service creates them too; whoever is first wins, and an
	// existing stream is never changed from here.
	for _, name := range []string{events.Assessments, events.Rounds} {
		for !s.ensureStream(ctx, name) {
			if !backoff.Sleep(ctx, time.Second) {
				return
			}
		}
	}
	// Boards first, then the consumers: a Redis without boards is rebuilt
	// before any event is applied to it.
	s.check(ctx)
	var consumers sync.WaitGroup
	defer consumers.Wait()
	consumers.Go(func() { s.cons.Run(ctx) })
	t := time.NewTicker(checkEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.check(ctx)
	}
}

func (s *supervisor) ensureStream(ctx context.Context, name string) bool {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := s.js.Stream(cctx, name)
	if err == nil {
		return true
	}
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = s.js.CreateStream(cctx, events.StreamConfig(name, s.replicas))
		if err == nil || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return true
		}
	}
	s.log.Warn("waiting for NATS JetStream", "stream", name, "err", err)
	return false
}

// check looks at Redis and rebuilds when needed, asks the watchdog about
// the consumers, then sets health.
func (s *supervisor) check(ctx context.Context) {
	// Floors first, Redis second: whatever the floors hold was in Redis
	// before they were read, so a lower applied sequence read afterwards
	// can only mean lost data.
	floors := map[string]uint64{}
	for _, f := range []string{store.SeqAssessments, store.SeqRounds} {
		floors[f] = s.cons.Floor(f)
	}
	state, err := s.st.State(ctx)
	if err != nil {
		s.redisUnreachable(ctx, err)
		return
	}
	if !state.LayoutOK && state.Rebuilding {
		s.setServing(false) // someone else is rebuilding from scratch
		return
	}
	if reason := rebuildReason(state, floors); reason != "" {
		if s.rebuild(ctx, reason) {
			s.updateServing(true, false)
		}
		return
	}
	rep := s.cons.Watch(ctx, state.Applied, state.Rebuilding)
	s.metrics.watched(rep)
	ok := s.judge(rep)
	if rep.Rebuild() {
		_ = s.rebuild(ctx, "a consumer stayed stalled after its subscription was re-created")
	}
	s.updateServing(false, ok)
}

// rebuild stops serving and rebuilds every board from the log; false when
// the rebuild failed (logged by the coordinator; the next check retries).
func (s *supervisor) rebuild(ctx context.Context, reason string) bool {
	s.setServing(false)
	s.log.Info("rebuilding boards", "reason", reason)
	_, err := s.coord.Rebuild(ctx, rebuild.Filter{})
	return err == nil
}

// judge logs what the watchdog found and says whether the consumers are
// current: caught up and none stalled.
func (s *supervisor) judge(rep consumer.Report) bool {
	stalled := rep.Stalled()
	for _, st := range stalled {
		if st.Action != consumer.None {
			s.log.Error("consumer stalled: events are pending but none is applied; not serving, re-creating its subscription",
				"state", st.String(), "action", actionName(st.Action))
		}
	}
	ok := len(stalled) == 0 && rep.CaughtUp()
	if s.stalled && ok {
		s.log.Info("consumers caught up again")
	}
	switch {
	case len(stalled) > 0:
		s.stalled = true
	case ok:
		s.stalled = false
	}
	return ok
}

func actionName(a consumer.Action) string {
	if a == consumer.Rebuild {
		return "rebuild"
	}
	return "resubscribe"
}

// redisUnreachable stops serving when Redis does not answer; a cancelled
// ctx is shutdown, not an outage, and changes nothing.
func (s *supervisor) redisUnreachable(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	if s.serving.Load() {
		s.log.Warn("Redis unreachable: not serving", "err", err)
	}
	s.setServing(false)
}

// rebuildReason says why the boards in Redis must be rebuilt, or "" when
// they need not be: no boards of the current layout, or a stream applied
// below its floor (what this service applied or saw applied, and what the
// consumer acknowledged: see consumer.Consumer.Floor). In a healthy Redis
// the applied sequence never goes down, so below the floor means Redis
// lost writes: restored from an older snapshot, or a failover to a lagging
// replica, with the layout key still there.
func rebuildReason(state store.State, floors map[string]uint64) string {
	if !state.LayoutOK {
		return "no boards of the current layout in Redis"
	}
	for field, floor := range floors {
		if state.Applied[field] < floor {
			return fmt.Sprintf("Redis holds an older state than was applied (%s applied to %d, but %d was applied or acknowledged before)",
				field, state.Applied[field], floor)
		}
	}
	return ""
}

// updateServing sets health after a check and announces the first time the
// service is ready. rebuilt: the boards were just rebuilt; current: the
// watchdog found the consumers caught up.
func (s *supervisor) updateServing(rebuilt, current bool) {
	ready := current
	if rebuilt && !s.announced {
		// The rebuild covered the log up to its start: the consumers only
		// have what came after, which they apply as usual.
		ready = true
	}
	if rebuilt && s.announced {
		return // the next check asks the watchdog
	}
	s.setServing(ready)
	if ready && !s.announced {
		s.announced = true
		s.onServing()
	}
}

// readPath builds the handlers, with the answer cache unless it is off,
// and has every change this replica makes to the boards (a batch of
// events applied, a rebuild) move the cache's epoch at once; other
// replicas' changes reach it through the watcher, which watch runs.
func readPath(cc CacheConfig, nm *registryclient.Client, js jetstream.JetStream, st *store.Store, coord *rebuild.Coordinator, cons *consumer.Consumer,
	m *rankingMetrics, log *slog.Logger,
) (srv *server.Server, watch func(context.Context)) {
	ccfg := cc.withDefaults()
	fresh := cache.NewFreshness(ccfg.MaxLag, nm.Changes)
	coord.OnRebuilt(func(res rebuild.Result, err error) {
		fresh.Invalidate() // even a failed rebuild may have swapped some rounds
		m.rebuilt(res, err)
	})
	cons.OnApplied(func(stream string, n int, took time.Duration) {
		fresh.Invalidate()
		m.appliedBatch(stream, n, took)
	})
	var opts []server.Option
	watch = func(context.Context) {}
	if !ccfg.Off {
		opts = append(opts, server.WithCache(fresh, ccfg.MaxBytes))
		watch = cacheWatcher(ccfg, fresh, js, st, log).Run
	}
	srv = server.New(st, names.New(nm), rebuilder{coord}, opts...)
	m.cacheStats(srv, fresh)
	return srv, watch
}

// rebuilder is the coordinator as the application layer's Rebuilder.
type rebuilder struct{ c *rebuild.Coordinator }

func (r rebuilder) Rebuild(ctx context.Context, c app.RebuildBoards) (app.RebuildReport, error) {
	res, err := r.c.Rebuild(ctx, rebuild.Filter{Scheme: c.Scheme, Year: c.Year})
	if err != nil {
		return app.RebuildReport{}, err
	}
	return app.RebuildReport{
		AssessmentsRead: res.AssessmentsRead, BoardsWritten: res.BoardsWritten, EntriesWritten: res.EntriesWritten,
		ReportedBand: res.ReportedBand, StreamSequence: res.StreamSequence, LayoutVersion: res.LayoutVersion, Elapsed: res.Elapsed,
	}, nil
}
