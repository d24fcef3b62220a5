// Package chaos is Predikat's fault-injection suite: a three-node
// nats-server cluster, a redis-server and the services, each its own OS
// process, under a load of recorded assessments while a seeded schedule
// kills and freezes processes; afterwards it checks, from the streams
// themselves and never from a service's own view, that no acknowledged
// write was lost or duplicated, that every award was granted once and
// delivered, and that the boards show the log's latest records.
package chaos

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/pkg/awardfeed"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
	"github.com/predikat-id/predikat/pkg/platform/redisx"
	"github.com/predikat-id/predikat/pkg/platform/security"
)

// Options configure a run.
type Options struct {
	Seed  uint64
	Quick bool
	// Dir keeps the run's files (stores, logs, binaries); empty: a
	// temporary directory, removed unless Keep.
	Dir  string
	Keep bool
	// Registries, Assessments and Rankings are the instances of each (0: 2).
	Registries, Assessments, Rankings int
	// Writers and Interval set the load: each writer records one
	// assessment every Interval (0: the schedule's own, 8 writers every
	// 300 ms in a full run, 3 every 600 ms in a quick one).
	Writers  int
	Interval time.Duration
	Log      *slog.Logger
}

// Settle is how long after the load stops the boards have to catch up.
const Settle = 30 * time.Second

// RecoveryLimit is how soon after a fault writes must be acknowledged again.
const RecoveryLimit = 15 * time.Second

// Report is a run's outcome.
type Report struct {
	Seed         uint64           `json:"seed"`
	Quick        bool             `json:"quick"`
	Started      time.Time        `json:"started"`
	Seconds      float64          `json:"seconds"`
	Instances    []string         `json:"instances"`
	Writes       WriteCheck       `json:"writes"`
	Institutions InstitutionCheck `json:"institutions"`
	Awards       AwardCheck       `json:"awards"`
	Boards       BoardCheck       `json:"boards"`
	// Stalled are the ranking consumers with messages pending once the
	// boards had Settle to catch up.
	Stalled []string `json:"stalled,omitempty"`
	// Errors are the failed attempts the load saw, by gRPC code.
	Errors          map[string]int `json:"client_errors"`
	Faults          []faultResult  `json:"faults"`
	UnexpectedExits []string       `json:"unexpected_exits,omitempty"`
	Violations      []string       `json:"violations"`
	// Err is why the run could not be carried out.
	Err string `json:"error,omitempty"`
	Dir string `json:"dir"`
}

// run is one run's processes and clients.
type run struct {
	o       Options
	dir     string
	pki     *devpki.Files
	cluster *cluster
	redis   *stack.Redis
	fleet   *fleet
	conns   []*grpc.ClientConn
	admin   *nats.Conn
	js      jetstream.JetStream
	rdb     *redis.Client
	load    *load
	ranking []rankingv1.RankingServiceClient

	mu       sync.Mutex
	received map[string]bool
}

// Run runs the suite. The error is a run that could not be carried out;
// violations of the invariants are in the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Registries == 0 {
		o.Registries = 2
	}
	if o.Assessments == 0 {
		o.Assessments = 2
	}
	if o.Rankings == 0 {
		o.Rankings = 2
	}
	rep := &Report{Seed: o.Seed, Quick: o.Quick, Started: time.Now()}
	r := &run{o: o, received: map[string]bool{}}
	defer r.close()
	err := r.setup(ctx)
	rep.Dir = r.dir
	if err == nil {
		err = r.exercise(ctx, rep)
	}
	rep.Seconds = time.Since(rep.Started).Seconds()
	if err != nil {
		r.o.Keep = true // its logs are the evidence
		rep.Err = err.Error()
		return rep, err
	}
	r.o.Keep = r.o.Keep || len(rep.Violations) > 0
	return rep, nil
}

func (r *run) setup(ctx context.Context) error {
	var err error
	if r.dir = r.o.Dir; r.dir == "" {
		if r.dir, err = os.MkdirTemp("", "predikat-chaos-"); err != nil {
			return err
		}
	}
	if r.pki, err = devpki.Ensure(filepath.Join(r.dir, "pki"), slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		return fmt.Errorf("dev PKI: %w", err)
	}
	bin := filepath.Join(r.dir, "bin")
	r.o.Log.Info("chaos: building nats-server and the services", "dir", bin)
	var g errgroup.Group
	var natsBin string
	g.Go(func() (err error) { natsBin, err = buildNATSServer(ctx, bin); return err })
	g.Go(func() error { return stack.Build(ctx, bin, stack.All...) })
	if err := g.Wait(); err != nil {
		return err
	}
	if err := r.startInfra(ctx, natsBin); err != nil {
		return err
	}
	return r.startServices(ctx, bin)
}

func (r *run) startInfra(ctx context.Context, natsBin string) error {
	var err error
	if r.cluster, err = newCluster(natsBin, filepath.Join(r.dir, "nats"), r.pki, r.o.Log); err != nil {
		return err
	}
	r.o.Log.Info("chaos: starting the NATS cluster", "urls", r.cluster.urls())
	if err := r.cluster.startAll(ctx); err != nil {
		return err
	}
	if r.redis, err = stack.StartRedis(ctx, "", filepath.Join(r.dir, "redis"), slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		return err
	}
	if r.rdb, err = redisx.NewClient(r.redis.Addr, redisx.Options{ClientName: "predikat-chaos"}); err != nil {
		return err
	}
	if r.admin, err = r.cluster.connect(ctx, stack.NATSAdmin, "predikat-chaos-admin"); err != nil {
		return err
	}
	r.js, err = jetstream.New(r.admin)
	return err
}

// startServices starts the registry, then the assessment and ranking
// instances, once the cluster has formed (startAll waited for JetStream
// on every node), so the R3 streams can be placed.
func (r *run) startServices(ctx context.Context, bin string) error {
	logs := filepath.Join(r.dir, "logs")
	if err := os.MkdirAll(logs, 0o700); err != nil {
		return err
	}
	r.fleet = &fleet{binDir: bin, natsURLs: r.cluster.urls(), redisAddr: r.redis.Addr, logDir: logs, pki: r.pki}
	var regs []string
	for range r.o.Registries {
		reg, err := r.fleet.add(ctx, stack.Registry)
		if err != nil {
			return err
		}
		regs = append(regs, reg.addr)
	}
	// The other services and the load reach the registry replicas as one
	// list, as a headless Service's DNS name would give them.
	r.fleet.regAddr = strings.Join(regs, ",")
	r.load = newLoad(registryv1.NewRegistryServiceClient(r.dial(r.fleet.regAddr)), fmt.Sprintf("%s-%d", loadScheme, loadYear))
	for range r.o.Assessments {
		in, err := r.fleet.add(ctx, stack.Assessment)
		if err != nil {
			return err
		}
		r.load.asm = append(r.load.asm, assessmentv1.NewAssessmentServiceClient(r.dial(in.addr)))
	}
	for range r.o.Rankings {
		in, err := r.fleet.add(ctx, stack.Ranking)
		if err != nil {
			return err
		}
		r.ranking = append(r.ranking, rankingv1.NewRankingServiceClient(r.dial(in.addr)))
	}
	r.o.Log.Info("chaos: services serving", "assessment", r.o.Assessments, "ranking", r.o.Rankings)
	return nil
}

func (r *run) dial(addr string) *grpc.ClientConn {
	cc, err := security.DialWith(security.DevClient(r.pki, "admin"), addr)
	if err != nil {
		// The PKI was written a moment ago by this process, and
		// grpc.NewClient fails only on a malformed target.
		panic(err)
	}
	r.conns = append(r.conns, cc)
	return cc
}

// subscribe follows AWARDS as the subscriber user, as a ministry's system
// would, collecting the award ids it receives.
func (r *run) subscribe(ctx context.Context) error {
	nc, err := r.cluster.connect(ctx, stack.NATSSubscriber, "predikat-chaos-subscriber")
	if err != nil {
		return err
	}
	context.AfterFunc(ctx, nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	_, err = awardfeed.Subscribe(ctx, js, stack.NATSSubscriber, awardfeed.Filter{}, func(_ context.Context, ev awardfeed.Event) error {
		if ev.Granted != nil {
			r.mu.Lock()
			r.received[ev.Granted.GetAward().GetId()] = true
			r.mu.Unlock()
		}
		return nil
	})
	return err
}

// exercise runs the load under the fault schedule, publishes the round,
// lets the boards settle and checks the invariants.
func (r *run) exercise(ctx context.Context, rep *Report) error {
	institutions, workers, interval := 240, 8, 300*time.Millisecond
	if r.o.Quick {
		institutions, workers, interval = 40, 3, 600*time.Millisecond
	}
	if r.o.Writers > 0 {
		workers = r.o.Writers
		institutions = max(institutions, 30*workers)
	}
	if r.o.Interval > 0 {
		interval = r.o.Interval
	}
	if err := r.load.setup(ctx, institutions); err != nil {
		return err
	}
	subCtx, endSub := context.WithCancel(ctx)
	defer endSub()
	if err := r.subscribe(subCtx); err != nil {
		return err
	}
	rep.Faults = r.underFaults(ctx, workers, interval)
	r.o.Log.Info("chaos: load stopped; publishing the round")
	if err := r.fleet.reviveDead(ctx); err != nil {
		return err
	}
	pub, err := r.load.closeAndPublish(ctx)
	if err != nil {
		return err
	}
	r.o.Log.Info("chaos: round published; letting the boards settle", "settle", Settle, "awards_granted", pub.GetAwardsGranted())
	time.Sleep(Settle)
	return r.check(ctx, rep, pub)
}

// underFaults runs the load while injecting the seeded schedule and
// returns the faults with the time writes took to resume after each.
func (r *run) underFaults(ctx context.Context, workers int, interval time.Duration) []faultResult {
	rng := rand.New(rand.NewPCG(r.o.Seed, r.o.Seed^0x9e3779b97f4a7c15))
	kinds, gaps := schedule(rng, r.o.Quick)
	x := &injector{rng: rng, cluster: r.cluster, fleet: r.fleet, redis: r.rdb, cache: r.redis, js: r.js}
	stop := make(chan struct{})
	loadCtx, abandon := context.WithCancel(ctx)
	defer abandon()
	var wg sync.WaitGroup
	wg.Go(func() { r.load.run(loadCtx, stop, workers, interval) })
	var faults []faultResult
	for i, kind := range kinds {
		time.Sleep(gaps[i])
		r.o.Log.Info("chaos: fault", "n", i+1, "of", len(kinds), "kind", kind)
		f := x.inject(ctx, kind)
		r.o.Log.Info("chaos: fault injected", "kind", kind, "target", f.Target, "took", time.Duration(f.TookMS)*time.Millisecond, "err", f.Err)
		faults = append(faults, f)
		if err := r.fleet.reviveDead(ctx); err != nil {
			r.o.Log.Error("chaos: restarting a service that exited", "err", err)
		}
	}
	time.Sleep(RecoveryLimit)
	// The round is closed under load: records in flight either land
	// inside the close's fence and count, or are refused; never
	// acknowledged and then missing from the round.
	r.o.Log.Info("chaos: closing the round under load")
	if err := r.load.closeRound(ctx); err != nil {
		r.o.Log.Error("chaos: closing the round", "err", err)
	}
	time.Sleep(2 * time.Second)
	close(stop)
	// Writes under way get a minute to reach a definite answer.
	t := time.AfterFunc(time.Minute, abandon)
	wg.Wait()
	t.Stop()
	for i := range faults {
		from := faults[i].At
		if healFaults[faults[i].Kind] {
			from = from.Add(time.Duration(faults[i].TookMS) * time.Millisecond)
		}
		faults[i].RecoveryMS = -1
		if d := r.load.resumedAfter(from); d >= 0 {
			faults[i].RecoveryMS = d.Milliseconds()
		}
	}
	return faults
}

// check recomputes the invariants from the streams.
func (r *run) check(ctx context.Context, rep *Report, pub *assessmentv1.PublishRoundResponse) error {
	v, err := readAssessments(ctx, r.js, r.load.round)
	if err != nil {
		return err
	}
	acked, rejected, unknown := r.load.snapshot()
	rep.Writes = checkWrites(v, acked, rejected, unknown)
	granted, err := readAwards(ctx, r.js, r.load.round)
	if err != nil {
		return err
	}
	expected, err := expectedAwards(r.load.schemeDef, v)
	if err != nil {
		return err
	}
	r.mu.Lock()
	received := maps.Clone(r.received)
	r.mu.Unlock()
	rep.Awards = checkAwards(granted, expected, received, pub)
	if rep.Institutions, err = checkInstitutions(ctx, r.js, r.load.institutions()); err != nil {
		return err
	}
	if rep.Stalled, err = stalledConsumers(ctx, r.js); err != nil {
		return err
	}
	rep.Errors = r.load.errorCounts()
	if rep.Boards, err = checkBoards(ctx, r.ranking[0], v); err != nil {
		return err
	}
	for _, in := range r.fleet.instances {
		rep.Instances = append(rep.Instances, in.id+"@"+in.addr)
	}
	rep.UnexpectedExits = r.fleet.unexpectedExits()
	rep.Violations = violations(rep)
	return nil
}

// stalledConsumers lists the ranking service's consumers that still have
// messages to deliver or acknowledge after the settle period: a consumer
// that made no progress for that long is stalled.
func stalledConsumers(ctx context.Context, js jetstream.JetStream) ([]string, error) {
	var out []string
	for _, stream := range []string{events.Assessments, events.Rounds} {
		c, err := js.Consumer(ctx, stream, rankingDurable)
		if err != nil {
			return nil, fmt.Errorf("consumer %s on %s: %w", rankingDurable, stream, err)
		}
		info := c.CachedInfo()
		if info.NumPending > 0 || info.NumAckPending > 0 {
			out = append(out, fmt.Sprintf("%s on %s: %d pending, %d awaiting ack", rankingDurable, stream, info.NumPending, info.NumAckPending))
		}
	}
	return out, nil
}

// violations lists every broken invariant.
func violations(rep *Report) []string {
	var v []string
	add := func(bad bool, s string, a ...any) {
		if bad {
			v = append(v, fmt.Sprintf(s, a...))
		}
	}
	w, aw, b := rep.Writes, rep.Awards, rep.Boards
	add(w.Acked == 0, "no write was acknowledged")
	add(w.Lost > 0, "%d acknowledged writes not in ASSESSMENTS", w.Lost)
	add(w.Duplicated > 0, "%d request ids stored more than once", w.Duplicated)
	add(w.Unexpected > 0, "%d writes refused with another code than FailedPrecondition", w.Unexpected)
	add(w.RevisionMismatch > 0, "%d writes acknowledged with another revision than stored", w.RevisionMismatch)
	add(aw.DuplicateSubjects > 0, "%d award subjects granted more than once", aw.DuplicateSubjects)
	add(aw.DuplicateIDs > 0, "%d award ids granted more than once", aw.DuplicateIDs)
	add(aw.MissingAtSub > 0, "%d awards in AWARDS never reached the subscriber", aw.MissingAtSub)
	add(aw.Missing > 0, "%d awards earned by the log's records not granted", aw.Missing)
	add(aw.Unearned > 0, "%d awards granted without being earned", aw.Unearned)
	in := rep.Institutions
	add(in.Lost > 0, "%d acknowledged institutions not in the registry", in.Lost)
	add(in.Duplicated > 0, "%d institution names stored more than once", in.Duplicated)
	for _, c := range rep.Stalled {
		add(true, "consumer stalled: %s", c)
	}
	add(aw.PublishGranted+aw.PublishExisting != aw.InStream, "PublishRound reports %d awards, AWARDS holds %d", aw.PublishGranted+aw.PublishExisting, aw.InStream)
	add(b.Missing+b.Extra+b.Wrong > 0, "boards differ from the log: %d missing, %d extra, %d wrong", b.Missing, b.Extra, b.Wrong)
	for _, f := range rep.Faults {
		add(f.Err != "", "fault %s (%s) could not be injected: %s", f.Kind, f.Target, f.Err)
		add(f.RecoveryMS < 0 || f.RecoveryMS > RecoveryLimit.Milliseconds(), "writes resumed %dms after %s (%s), limit %s", f.RecoveryMS, f.Kind, f.Target, RecoveryLimit)
	}
	return v
}

// close stops everything, services first, and removes a temporary
// directory.
func (r *run) close() {
	for _, cc := range r.conns {
		_ = cc.Close()
	}
	if r.fleet != nil {
		r.fleet.stopAll()
	}
	if r.admin != nil {
		r.admin.Close()
	}
	if r.rdb != nil {
		_ = r.rdb.Close()
	}
	r.redis.Stop()
	if r.cluster != nil {
		r.cluster.stopAll()
	}
	if r.o.Dir == "" && !r.o.Keep && r.dir != "" {
		_ = os.RemoveAll(r.dir)
	}
}
