package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/predikat-id/predikat/pkg/platform/auth"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
	"github.com/predikat-id/predikat/pkg/platform/metrics"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/pkg/platform/redisx"
	"github.com/predikat-id/predikat/pkg/platform/security"
	assessment "github.com/predikat-id/predikat/services/assessment/wiring"
	ranking "github.com/predikat-id/predikat/services/ranking/wiring"
	registry "github.com/predikat-id/predikat/services/registry/wiring"
	"google.golang.org/grpc"
)

// Mode is how the services run.
type Mode int

const (
	// InProcess runs each service's wiring.Run in a goroutine of this
	// process, each on a NATS connection of its own as its own NATS user:
	// quick to start, one binary.
	InProcess Mode = iota
	// Processes builds each service with go build and runs it as its own
	// OS process with its command-line flags, as production runs it.
	Processes
)

func (m Mode) String() string {
	if m == Processes {
		return "processes"
	}
	return "in-process"
}

// The services, by the name of their directory under services/.
const (
	Registry   = "registry"
	Assessment = "assessment"
	Ranking    = "ranking"
)

// All is every service, in start order.
var All = []string{Registry, Assessment, Ranking}

// ServicesOptions configures Services.
type ServicesOptions struct {
	Mode Mode
	// NATSURL is the NATS every service uses, each as its own user with
	// the password of the PKI (devpki.NATSUsers).
	NATSURL string
	// NATSTLS says the NATS at NATSURL speaks TLS only, with a certificate
	// of the PKI's CA (the stack's embedded server does).
	NATSTLS bool
	// NATSConn, if set, is the in-process services' one shared connection
	// to it (tests pass theirs, with a short reconnect delay, to a bare
	// server); Stop leaves it open. Nil: Services connects each service as
	// its own user and closes those connections.
	NATSConn *nats.Conn
	// RedisAddr is the ranking service's Redis (host:port or URL).
	RedisAddr string
	// Logger receives the in-process services' logs and the harness's.
	Logger *slog.Logger
	// ClientName prefixes the names of the in-process services' NATS
	// connections ("<ClientName>-<service>").
	ClientName string
	// BinDir holds the built services (Processes mode); empty builds them
	// into a temporary directory that Stop removes.
	BinDir string
	// ProcessOutput receives the processes' standard output and error
	// (nil: only their last lines are kept, for the error of one that dies).
	ProcessOutput io.Writer
	// ProcessLogLevel is the processes' PREDIKAT_LOG_LEVEL (empty: inherited).
	ProcessLogLevel string
	// ProcessEnv is added to the processes' environment (e.g. GODEBUG).
	ProcessEnv []string
	// ProcessOutputFor, if set, receives the named service process's
	// output instead of ProcessOutput (the bench reads each process's
	// garbage collector trace on its own).
	ProcessOutputFor func(name string) io.Writer
	// ReadyTimeout bounds the wait for a service to serve (0: a minute).
	ReadyTimeout time.Duration
	// PKI holds the certificates, the token key and the policy the services
	// run with (devpki.Ensure); nil creates a fresh one in a temporary
	// directory that Stop removes. Every port is TLS-only and every call is
	// checked against the policy, in tests as in production.
	PKI *devpki.Files
	// MetricsAddrs, by service name, is where each serves /metrics (a
	// service not named serves none).
	MetricsAddrs map[string]string
	// OnServing, if set, is called with a service's name and address as it
	// begins to serve, before Start returns. In process it runs inside the
	// service's own OnServing, so before anyone can query it: a test sees
	// the state the service serves from. A process is seen only once its
	// health reports SERVING.
	OnServing func(name, addr string)
	// Now, if set, is the in-process assessment service's clock of round
	// transitions and objection deadlines: a test runs an assessment
	// year, windows and all, in seconds. Nil: the wall clock.
	Now func() time.Time
}

// Services runs Predikat's services on one NATS, in either mode. One that
// stops on its own is reported by Failed and Err.
type Services struct {
	o   ServicesOptions
	ctx context.Context // the services run until it ends or Stop
	end context.CancelFunc
	g   errgroup.Group

	ncs    map[string]*nats.Conn // InProcess: each service's own connection, by name
	rdb    *redis.Client         // InProcess: the ranking service's Redis client
	tmpBin string                // Processes: a BinDir of our own
	tmpPKI string                // a PKI directory of our own

	mu       sync.Mutex
	running  []*service // in start order
	errs     []error
	failed   chan struct{}
	failOnce sync.Once
}

// service is one running service.
type service struct {
	name, addr string
	pid        int // Processes mode
	// stop stops it, waits until it is gone and reports how it ended (nil:
	// it drained and returned cleanly).
	stop func() error
	// kill kills it with SIGKILL and waits until it is gone (Processes
	// mode; nil in process).
	kill func()
}

// runFunc is a service's wiring.Run with its configuration bound: it
// serves until ctx ends and calls up with its address once it serves.
type runFunc func(ctx context.Context, up func(addr string)) error

// NewServices prepares services on o.NATSURL: as processes it builds the
// binaries unless BinDir holds them; in process each service connects to
// NATS as it starts.
func NewServices(ctx context.Context, o ServicesOptions) (*Services, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = time.Minute
	}
	if o.ClientName == "" {
		o.ClientName = "predikat-stack"
	}
	s := &Services{o: o, failed: make(chan struct{}), ncs: map[string]*nats.Conn{}}
	if err := s.preparePKI(); err != nil {
		return nil, err
	}
	s.ctx, s.end = context.WithCancel(context.WithoutCancel(ctx))
	if o.Mode == Processes {
		return s, s.prepareBinaries(ctx)
	}
	return s, nil
}

// NATSClient is how the named service (or NATSSubscriber, NATSAdmin)
// connects to the services' NATS.
func (s *Services) NATSClient(user string) natsx.ClientAuth {
	return NATSClient(s.o.PKI, user, s.o.NATSTLS)
}

// natsConn is the in-process service's NATS connection, as its own user:
// the shared NATSConn when one was given, else one of its own, kept across
// restarts of the service.
func (s *Services) natsConn(name string) (*nats.Conn, error) {
	if s.o.NATSConn != nil {
		return s.o.NATSConn, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if nc := s.ncs[name]; nc != nil {
		return nc, nil
	}
	opts, err := s.NATSClient(name).Options()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.o.ReadyTimeout)
	defer cancel()
	nc, err := natsx.Connect(ctx, s.o.NATSURL, s.o.ClientName+"-"+name, s.o.Logger, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: connect to NATS at %s: %w", name, s.o.NATSURL, err)
	}
	s.ncs[name] = nc
	return nc, nil
}

// preparePKI creates a PKI of the harness's own when none was given.
func (s *Services) preparePKI() error {
	if s.o.PKI != nil {
		return nil
	}
	dir, err := os.MkdirTemp("", "predikat-pki-")
	if err != nil {
		return fmt.Errorf("directory for the PKI: %w", err)
	}
	if s.o.PKI, err = devpki.Ensure(dir, s.o.Logger); err != nil {
		_ = os.RemoveAll(dir)
		return fmt.Errorf("dev PKI: %w", err)
	}
	s.tmpPKI = dir
	return nil
}

// PKI is the PKI the services run with.
func (s *Services) PKI() *devpki.Files { return s.o.PKI }

// Credentials are a dev user's credentials ("admin" or "reader") for
// calling the services.
func (s *Services) Credentials(user string) auth.ClientCredentials {
	return security.DevClient(s.o.PKI, user)
}

// Dial connects to a service as the dev user ("admin" or "reader").
func (s *Services) Dial(addr, user string) (*grpc.ClientConn, error) {
	return security.DialWith(s.Credentials(user), addr)
}

func (s *Services) prepareBinaries(ctx context.Context) error {
	if s.o.BinDir == "" {
		dir, err := os.MkdirTemp("", "predikat-services-")
		if err != nil {
			s.end()
			return fmt.Errorf("directory for the service binaries: %w", err)
		}
		s.tmpBin, s.o.BinDir = dir, dir
	}
	if err := Build(ctx, s.o.BinDir, All...); err != nil {
		s.Stop()
		return err
	}
	return nil
}

// Start starts the named service on addr ("127.0.0.1:0": a free port),
// reading institutions from the registry at registryAddr (not for the
// registry itself), and returns its address once it serves.
func (s *Services) Start(name, addr, registryAddr string) (string, error) {
	if s.o.Mode == Processes {
		return s.startProcess(name, addr, registryAddr)
	}
	run, err := s.wiring(name, addr, registryAddr)
	if err != nil {
		return "", err
	}
	return s.startInProcess(name, run)
}

// wiring is the in-process run function of a service.
func (s *Services) wiring(name, addr, registryAddr string) (runFunc, error) {
	log := s.o.Logger
	if !slices.Contains(All, name) {
		return nil, fmt.Errorf("unknown service %q", name)
	}
	nc, err := s.natsConn(name)
	if err != nil {
		return nil, err
	}
	switch name {
	case Registry:
		return func(ctx context.Context, up func(string)) error {
			return registry.Run(ctx, registry.Config{Addr: addr, Security: security.Dev(s.o.PKI, name), NATS: nc, Replicas: 1, Logger: log, OnServing: up,
				Metrics: metrics.Config{Addr: s.o.MetricsAddrs[name]}})
		}, nil
	case Assessment:
		return func(ctx context.Context, up func(string)) error {
			return assessment.Run(ctx, assessment.Config{Addr: addr, Security: security.Dev(s.o.PKI, name), NATS: nc, Replicas: 1, RegistryAddr: registryAddr, Logger: log, OnServing: up,
				Metrics: metrics.Config{Addr: s.o.MetricsAddrs[name]}, Now: s.o.Now})
		}, nil
	case Ranking:
		rdb, err := s.rankingRedis()
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, up func(string)) error {
			return ranking.Run(ctx, ranking.Config{Addr: addr, Security: security.Dev(s.o.PKI, name), NATS: nc, Redis: rdb, Replicas: 1, RegistryAddr: registryAddr, Logger: log, OnServing: up,
				Metrics: metrics.Config{Addr: s.o.MetricsAddrs[name]}})
		}, nil
	}
	return nil, fmt.Errorf("unknown service %q", name)
}

func (s *Services) rankingRedis() (*redis.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rdb == nil {
		rdb, err := redisx.NewClient(s.o.RedisAddr, redisx.Options{ClientName: "predikat-ranking"})
		if err != nil {
			return nil, fmt.Errorf("redis at %s: %w", s.o.RedisAddr, err)
		}
		s.rdb = rdb
	}
	return s.rdb, nil
}

// inProcess is a service running in a goroutine of this process.
type inProcess struct {
	cancel context.CancelFunc
	addr   chan string   // its address, once it serves
	done   chan struct{} // closed once its run returned
	err    error         // what the run returned, valid once done is closed
}

// stop cancels the run and waits for it to return: its listener is closed
// then, so the same address can be served again.
func (p *inProcess) stop() error {
	p.cancel()
	<-p.done
	if errors.Is(p.err, context.Canceled) {
		return nil
	}
	return p.err
}

// startInProcess runs a service in a goroutine until it is stopped and
// returns its address once it serves.
func (s *Services) startInProcess(name string, run runFunc) (string, error) {
	ctx, cancel := context.WithCancel(s.ctx)
	p := &inProcess{cancel: cancel, addr: make(chan string, 1), done: make(chan struct{})}
	s.g.Go(func() error {
		defer close(p.done)
		p.err = run(ctx, func(a string) {
			s.serving(name, a)
			p.addr <- a
		})
		if p.err != nil && !errors.Is(p.err, context.Canceled) && ctx.Err() == nil {
			s.fail(fmt.Errorf("%s: %w", name, p.err))
		}
		return nil
	})
	select {
	case a := <-p.addr:
		s.add(&service{name: name, addr: a, stop: p.stop})
		return a, nil
	case <-p.done:
		cancel()
		err := p.err
		if err == nil {
			err = errors.New("stopped before serving")
		}
		return "", fmt.Errorf("%s: %w", name, err)
	case <-time.After(s.o.ReadyTimeout):
		_ = p.stop()
		return "", fmt.Errorf("%s: not serving after %s", name, s.o.ReadyTimeout)
	}
}

// serving calls the OnServing hook, if any.
func (s *Services) serving(name, addr string) {
	if s.o.OnServing != nil {
		s.o.OnServing(name, addr)
	}
}

func (s *Services) add(sv *service) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running = append(s.running, sv)
}

// fail records a service that stopped on its own.
func (s *Services) fail(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
	s.failOnce.Do(func() { close(s.failed) })
}

// Failed is closed once a service stops on its own.
func (s *Services) Failed() <-chan struct{} { return s.failed }

// Err reports the services that stopped on their own.
func (s *Services) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.errs...)
}

// PIDs are the services' process ids (Processes mode), by name.
func (s *Services) PIDs() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, sv := range s.running {
		if sv.pid != 0 {
			out[sv.name] = sv.pid
		}
	}
	return out
}

// StopService stops every running instance of the named service, last
// started first, and returns once they are gone, so Start can bring the
// service back, on the same address too. The error is how they ended (nil:
// they drained and returned cleanly); stopping a service that is not
// running does nothing.
func (s *Services) StopService(name string) error {
	if !slices.Contains(All, name) {
		return fmt.Errorf("unknown service %q", name)
	}
	s.mu.Lock()
	var stopping []*service
	s.running = slices.DeleteFunc(s.running, func(sv *service) bool {
		if sv.name == name {
			stopping = append(stopping, sv)
			return true
		}
		return false
	})
	s.mu.Unlock()
	var errs []error
	for i := len(stopping) - 1; i >= 0; i-- {
		if err := stopping[i].stop(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// KillService kills every running instance of the named service with
// SIGKILL, as a crash would, and returns once they are gone, so Start can
// bring it back (a benchmark's crash in the middle of a write). Processes
// mode only: a service in this process cannot be killed on its own.
func (s *Services) KillService(name string) error {
	if s.o.Mode != Processes {
		return fmt.Errorf("kill %s: only a service run as its own process can be killed", name)
	}
	s.mu.Lock()
	var killing []*service
	s.running = slices.DeleteFunc(s.running, func(sv *service) bool {
		if sv.name == name && sv.kill != nil {
			killing = append(killing, sv)
			return true
		}
		return false
	})
	s.mu.Unlock()
	if len(killing) == 0 {
		return fmt.Errorf("kill %s: not running", name)
	}
	for _, sv := range killing {
		sv.kill()
	}
	return nil
}

// Stop stops every service, last started first (the registry outlives
// its watchers), and closes the connections of the in-process ones.
func (s *Services) Stop() { _ = s.StopAll() }

// StopAll is Stop that also reports how the services ended: nil when each
// drained and returned cleanly. Tests fail on it; the dev stack and the
// bench learn of a service that died on its own through Failed and Err.
func (s *Services) StopAll() error {
	s.mu.Lock()
	running := slices.Clone(s.running)
	s.running = nil
	s.mu.Unlock()
	var errs []error
	for i := len(running) - 1; i >= 0; i-- {
		if err := running[i].stop(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", running[i].name, err))
		}
		if i > 0 {
			// A stopped service's streams to the next one (the registry
			// watch) close asynchronously: let them, so the registry does
			// not report cutting them off.
			time.Sleep(50 * time.Millisecond)
		}
	}
	s.end()
	_ = s.g.Wait()
	s.release()
	return errors.Join(errs...)
}

// release closes what the services shared: the Redis client, the NATS
// connections of our own, and binaries built into a directory of our own.
func (s *Services) release() {
	if s.rdb != nil {
		_ = s.rdb.Close()
		s.rdb = nil
	}
	s.mu.Lock()
	for name, nc := range s.ncs {
		nc.Close()
		delete(s.ncs, name)
	}
	s.mu.Unlock()
	for _, dir := range []*string{&s.tmpBin, &s.tmpPKI} {
		if *dir != "" {
			_ = os.RemoveAll(*dir)
			*dir = ""
		}
	}
}
