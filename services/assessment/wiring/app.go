// Package wiring wires the assessment service: the scheme catalog, storage on
// JetStream, the registry client, the application layer over them and the
// gRPC handlers. main (and the dev
// stack in cmd/predikat) parse flags and call Run.
package wiring

import (
	"context"
	"fmt"
	"github.com/predikat-id/predikat/pkg/platform/security"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"github.com/predikat-id/predikat/pkg/platform/auth"
	"github.com/predikat-id/predikat/pkg/platform/backoff"
	"github.com/predikat-id/predikat/pkg/platform/config"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/grpcserver"
	"github.com/predikat-id/predikat/pkg/platform/metrics"
	"github.com/predikat-id/predikat/pkg/platform/registryclient"
	"github.com/predikat-id/predikat/services/assessment/internal/app"
	"github.com/predikat-id/predikat/services/assessment/internal/calendar"
	"github.com/predikat-id/predikat/services/assessment/internal/objection"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
	"github.com/predikat-id/predikat/services/assessment/internal/server"
	"github.com/predikat-id/predikat/services/assessment/internal/store"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
)

// DefaultAddr is where the assessment service listens unless told otherwise.
const DefaultAddr = config.DefaultAssessment

// Config is everything the assessment service needs from its environment.
type Config struct {
	// Addr is the gRPC listen address.
	Addr string
	// Security is the service's certificate, its callers' CA, bearer
	// tokens and the access policy; Run refuses to start without them.
	Security security.Config
	// NATS is a connected client; the caller owns it.
	NATS *nats.Conn
	// Replicas of the streams and bucket (1 for one NATS server, 3 on a cluster).
	Replicas int
	// RegistryAddr is the registry's gRPC address.
	RegistryAddr string
	// Logger for everything the service says.
	Logger *slog.Logger
	// Metrics is where /metrics is served (empty: nowhere).
	Metrics metrics.Config
	// OnServing, if set, is called with the bound address once the service
	// answers and its view is complete.
	OnServing func(addr string)
	// SurveyCacheBytes bounds the response ids kept of recently written
	// survey units (0: store.DefaultSurveyCacheBytes).
	SurveyCacheBytes int64
	// Now, if set, is the clock of round transitions and of objection
	// deadlines (tests run a whole assessment year in seconds); nil is the
	// wall clock.
	Now func() time.Time
}

// PublicationInterrupt, when set before Run, is called after each award a
// PublishRound grants, and its error stops the publication there as a kill
// would. Tests of an interrupted publication set it; the service never does.
var PublicationInterrupt atomic.Pointer[func(granted int32) error]

// Run serves the assessment service until ctx ends. A broken scheme file
// stops it before it listens, naming the file, field and reason.
func Run(ctx context.Context, cfg Config) error {
	log := cfg.Logger.With("service", "assessment")
	cat, err := scheme.Load()
	if err != nil {
		return fmt.Errorf("assessment: scheme catalog: %w", err)
	}
	js, err := jetstream.New(cfg.NATS)
	if err != nil {
		return fmt.Errorf("assessment: jetstream: %w", err)
	}
	st, err := store.Open(ctx, js, cfg.Replicas, log)
	if err != nil {
		return fmt.Errorf("assessment: open storage: %w", err)
	}
	cc, err := cfg.Security.Dial(cfg.RegistryAddr)
	if err != nil {
		return fmt.Errorf("assessment: registry client for %s: %w", cfg.RegistryAddr, err)
	}
	// Closing the registry connection on the way out: the service is
	// stopping and has nothing left to do with a failed close.
	defer func() { _ = cc.Close() }()
	reg := registryclient.New(cc, log)

	uc, surveys, err := useCases(ctx, cfg, cat, st, js, reg, log)
	if err != nil {
		return err
	}
	uc.DeriveAs(serviceActor, func(err error) {
		log.Error("roll-up not stored: its unit's write stands; fix the cause, the next write of a unit or a restart derives it", "err", err)
	})
	sec, err := cfg.Security.Server(ctx, cfg.Logger, auth.WithProvinces(reg.ProvinceOf), auth.WithAwards(placeAward(uc)))
	if err != nil {
		return fmt.Errorf("assessment: %w", err)
	}
	mreg := metrics.NewRegistry()
	metrics.Connected(mreg, "nats", cfg.NATS.IsConnected)
	// The streams and the bucket this service writes: no leader, no write.
	metrics.Streams(mreg, js, append(events.StreamNames(), "KV_"+store.BucketRounds, "KV_"+store.BucketSchemes, "KV_"+store.BucketCeremonies)...)
	st.OnAwardPublished(awardMetrics(mreg))
	groupCommitMetrics(mreg, st.GroupCommits)
	gs, err := newServer(cfg, sec, mreg, uc)
	if err != nil {
		return err
	}
	lis, err := new(net.ListenConfig).Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("assessment: listen on %s: %w", cfg.Addr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The versions registered at run time join the built-in ones before the
	// service listens; those another replica registers later join as they
	// are stored.
	if err := st.WatchSchemes(ctx, func(p *assessmentv1.Scheme) { addRegistered(cat, p, log) }); err != nil {
		return fmt.Errorf("assessment: %w", err)
	}
	mreg.MustRegister(roundsCollector{uc})
	if err := cfg.Metrics.Start(ctx, mreg, log); err != nil {
		return fmt.Errorf("assessment: %w", err)
	}
	served := make(chan error, 1)
	go func() { served <- gs.ServeListener(ctx, lis) }()
	go reg.Run(ctx)

	// The survey counts are the log's fold, after the records they are
	// written on: both complete before serving, so an answer never counts
	// less than what was acknowledged.
	err = st.Start(ctx)
	if err == nil {
		err = startSurveys(ctx, surveys, uc.Surveys, log)
	}
	if err != nil {
		cancel()
		// The view never became complete, so that is the error to return;
		// waiting lets the server stop before Run returns, and a failure of
		// its own on the way is still worth a line in the log.
		if err := <-served; err != nil {
			log.Warn("assessment: server stopped with an error", "err", err)
		}
		return fmt.Errorf("assessment: %w", err)
	}
	gs.SetServing(true)
	go finishPublications(ctx, uc, log)
	go finishRollups(ctx, uc, log)
	log.Info("assessment ready", "addr", lis.Addr().String(), "schemes", len(cat.List("", 0, 0)))
	if cfg.OnServing != nil {
		cfg.OnServing(lis.Addr().String())
	}
	return <-served
}

// placeAward places an award for bindings scoped to schemes, institutions
// or provinces: by its round's scheme and the institution it went to. An
// unknown award is placed nowhere, so only an unscoped binding admits the
// call (which then answers NotFound).
func placeAward(uc *app.App) auth.AwardResolver {
	return func(_ context.Context, id string) (auth.Scope, error) {
		a, err := uc.Queries.Award(id)
		if fault.Is(err, fault.NotFound) {
			return auth.Scope{}, nil
		}
		if err != nil {
			return auth.Scope{}, err
		}
		return auth.Scope{Scheme: a.SchemeID, Institution: a.Institution.ID, Province: auth.ProvinceOfRegion(a.Institution.ProvinceCode)}, nil
	}
}

// finishPublications finishes the publications a stop cut short, retrying
// until it succeeds or the service stops: the registry (heads of the
// awarded institutions) may come up after this service.
func finishPublications(ctx context.Context, uc *app.App, log *slog.Logger) {
	err := backoff.Retry(ctx, backoff.Exponential{Config: backoff.DefaultConfig}, 0, uc.FinishPublications.Handle, func(err error, delay time.Duration) {
		log.Warn("unfinished round publication, retrying", "err", err, "in", delay)
	})
	if err != nil && ctx.Err() == nil {
		log.Error("round publications left unfinished", "err", err)
	}
}

// finishRollups stores, when the service starts, the roll-ups a stop cut
// short between a unit's write and its parent's derived figure, on its
// own: a publication that cannot finish does not hold them up.
func finishRollups(ctx context.Context, uc *app.App, log *slog.Logger) {
	err := backoff.Retry(ctx, backoff.Exponential{Config: backoff.DefaultConfig}, 0, uc.FinishRollups.Handle, func(err error, delay time.Duration) {
		log.Warn("roll-ups not brought up to date, retrying", "err", err, "in", delay)
	})
	if err != nil && ctx.Err() == nil {
		log.Error("roll-ups left behind their units", "err", err)
	}
}

// startSurveys folds the survey log into the counts, then keeps the units'
// records up to date until ctx ends.
func startSurveys(ctx context.Context, surveys *store.Surveys, sv *app.Surveys, log *slog.Logger) error {
	if err := surveys.Start(ctx); err != nil {
		return err
	}
	go sv.RecordSurveysEvery(ctx, surveyRecordTick, func(err error) {
		log.Warn("survey records not brought up to date, retried at the next tick", "err", err)
	})
	return nil
}

// surveyRecordTick is how often the units whose responses moved are looked
// at; each unit's record is rewritten at most once a minute.
const surveyRecordTick = 5 * time.Second

// serviceActor is who derived figures are recorded by: the service, not a
// caller (the unit and its writer are in the reason).
const serviceActor = "spiffe://predikat/service/assessment"

// addRegistered adds a stored scheme version to the catalog. One that no
// longer fits (a built-in version of a later release covering its years)
// is logged and left out rather than stopping the service: rounds of other
// schemes must go on.
func addRegistered(cat *scheme.Catalog, p *assessmentv1.Scheme, log *slog.Logger) {
	v, err := scheme.NewVersion(p, "registered "+p.GetId()+" "+p.GetVersion())
	if err == nil {
		_, err = cat.Add(v)
	}
	if err != nil {
		log.Error("registered scheme version not used", "scheme", p.GetId(), "version", p.GetVersion(), "err", err)
	}
}

// newServer is the gRPC server of the assessment service's three services,
// behind the security chain, refusing to start with a method that declares
// no access rule.
func newServer(cfg Config, sec security.Serving, mreg *prometheus.Registry, uc *app.App) (*grpcserver.Server, error) {
	gopts := grpcserver.Options{Name: "assessment", Logger: cfg.Logger, Metrics: mreg, Prechecked: server.Prechecked}
	sec.Apply(&gopts)
	gs, err := grpcserver.New(gopts)
	if err != nil {
		return nil, fmt.Errorf("assessment: %w", err)
	}
	if f := PublicationInterrupt.Load(); f != nil {
		uc.InterruptPublications(*f)
	}
	surveyServer, err := server.NewSurveys(uc)
	if err != nil {
		return nil, fmt.Errorf("assessment: %w", err)
	}
	gs.Register(func(r grpc.ServiceRegistrar) {
		assessmentv1.RegisterAssessmentServiceServer(r, server.New(uc))
		assessmentv1.RegisterObjectionServiceServer(r, server.NewObjections(uc))
		assessmentv1.RegisterCeremonyServiceServer(r, server.NewCeremonies(uc))
		assessmentv1.RegisterSurveyServiceServer(r, surveyServer)
	})
	if err := security.CheckDeclared(gs.GRPC()); err != nil {
		return nil, fmt.Errorf("assessment: %w", err)
	}
	return gs, nil
}

// useCases wires the application layer: the store, the registry, the
// clock (the wall clock unless the configuration gives one), the holiday
// calendar of the objection windows, and the survey storage.
func useCases(ctx context.Context, cfg Config, cat *scheme.Catalog, st *store.Store, js jetstream.JetStream, reg *registryclient.Client, log *slog.Logger) (*app.App, *store.Surveys, error) {
	var clock app.Clock = app.SystemClock{}
	if cfg.Now != nil {
		clock = funcClock(cfg.Now)
	}
	cal, err := calendar.New()
	if err != nil {
		return nil, nil, fmt.Errorf("assessment: holiday calendar: %w", err)
	}
	surveys, err := store.OpenSurveys(ctx, js, cfg.Replicas, cfg.SurveyCacheBytes, log)
	if err != nil {
		return nil, nil, fmt.Errorf("assessment: open survey storage: %w", err)
	}
	uc := app.New(cat, st.ForApp(cat), registry{reg}, clock, windows{cal})
	uc.EnableSurveys(surveys).ReportTo(func(err error) {
		log.Error("survey record not stored: the unit's responses stand and its other units go on; fix the cause, the next pass writes it", "err", err)
	})
	return uc, surveys, nil
}

// funcClock is a clock given as a function.
type funcClock func() time.Time

func (f funcClock) Now() time.Time { return f() }

// windows computes objection windows on the holiday calendar.
type windows struct{ cal *calendar.Calendar }

func (w windows) Window(close time.Time, provinceCode string, days int32) (objection.Window, error) {
	if provinceCode == events.National {
		// National bodies sit in Jakarta: WIB.
		provinceCode = "31"
	}
	end, err := w.cal.Deadline(close, provinceCode, int(days))
	if err != nil {
		return objection.Window{}, err
	}
	return objection.Window{End: end, Local: calendar.FormatDeadline(end)}, nil
}
