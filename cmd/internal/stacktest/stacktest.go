// Package stacktest helps the tests that run more than one service: the
// registry and the services that read it, on one test NATS server, started
// by cmd/internal/stack as the dev stack and the benchmark start them.
package stacktest

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/predikat-id/predikat/cmd/internal/stack"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/auth"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
	"github.com/predikat-id/predikat/pkg/platform/grpcserver"
	"github.com/predikat-id/predikat/pkg/platform/testenv/eventtest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/pkitest"
	"google.golang.org/grpc"
)

// Registry is a running registry service.
type Registry struct {
	Addr   string
	Client registryv1.RegistryServiceClient
}

// Services prepares in-process services on ns (o's NATS fields are set
// from it, on a connection of the test's) with the test's logger, started
// with Start and stopped with StopService as the test needs. They all stop
// when the test ends; one that ended with an error fails the test.
func Services(t testing.TB, ns *natstest.Server, o stack.ServicesOptions) *stack.Services {
	t.Helper()
	o.Mode, o.NATSURL, o.NATSConn = stack.InProcess, ns.URL(), ns.Conn(t)
	if o.PKI == nil {
		o.PKI = PKI(t)
	}
	if o.Logger == nil {
		o.Logger = natstest.Logger(t)
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 20 * time.Second
	}
	svcs, err := stack.NewServices(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := svcs.StopAll(); err != nil {
			t.Errorf("stopped with error: %v", err)
		}
	})
	return svcs
}

// PKI is the test's PKI (pkitest.PKI): every service a test starts,
// through Services or StartRegistry, trusts the same CA.
func PKI(t testing.TB) *devpki.Files { return pkitest.PKI(t) }

// Dial connects to a service of the test as the dev user ("admin" or
// "reader"); the connection closes when the test ends.
func Dial(t testing.TB, addr, user string) *grpc.ClientConn { return pkitest.Dial(t, addr, user) }

// StartRegistry runs the registry service in process on ns until the test
// ends.
func StartRegistry(t testing.TB, ns *natstest.Server) *Registry {
	t.Helper()
	svcs := Services(t, ns, stack.ServicesOptions{})
	addr, err := svcs.Start(stack.Registry, "127.0.0.1:0", "")
	if err != nil {
		t.Fatalf("registry did not start: %v", err)
	}
	return &Registry{Addr: addr, Client: registryv1.NewRegistryServiceClient(Dial(t, addr, "admin"))}
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

// WritePolicy replaces the policy file at path by a rename, as Kubernetes
// swaps a mounted ConfigMap; the services re-read it by polling.
func WritePolicy(t testing.TB, path, content string) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// Tokens connects to services as dev token identities (a subject and its
// groups, no certificate), one connection per address and identity, all
// closed when the test ends: the tests that act as several people.
type Tokens struct {
	t     testing.TB
	pki   *devpki.Files
	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
}

// NewTokens returns connections on pki's token key and CA.
func NewTokens(t testing.TB, pki *devpki.Files) *Tokens {
	return &Tokens{t: t, pki: pki, conns: map[string]*grpc.ClientConn{}}
}

// Dial is a connection to addr as subject with groups.
func (k *Tokens) Dial(addr, subject string, groups ...string) *grpc.ClientConn {
	k.t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	key := addr + "|" + subject + "|" + strings.Join(groups, ",")
	if cc, ok := k.conns[key]; ok {
		return cc
	}
	tok, err := devpki.IssueToken(k.pki, subject, groups, 10*time.Minute)
	if err != nil {
		k.t.Fatal(err)
	}
	opts, err := auth.ClientCredentials{CAFile: k.pki.CA(), Token: tok}.DialOptions()
	if err != nil {
		k.t.Fatal(err)
	}
	cc, err := grpcserver.Dial(addr, opts...)
	if err != nil {
		k.t.Fatal(err)
	}
	k.t.Cleanup(func() { _ = cc.Close() })
	k.conns[key] = cc
	return cc
}

// Eventually retries check until it passes, failing the test after 15 s.
func Eventually(t testing.TB, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Clock is the services' clock in a test that moves it (a year's deadlines
// pass in a second): hand Now to stack.ServicesOptions.Now.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock is a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
