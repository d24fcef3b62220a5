package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/predikat-id/predikat/pkg/platform/devpki"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/pkg/platform/redisx"
)

// NATSOptions says which NATS the stack uses.
type NATSOptions struct {
	// URL is a NATS server to use as it is; empty starts an embedded one.
	URL string
	// Host and Port of the embedded server: port -1 picks a free port, 0 the
	// NATS default (4222).
	Host string
	Port int
	// StoreDir keeps the embedded server's JetStream store.
	StoreDir string
	// Sync fsyncs every write, so nothing acknowledged is lost on a crash.
	Sync bool
	// Name is the embedded server's name.
	Name string
	// PKI holds the NATS users' passwords and the server's certificate
	// (devpki.Ensure). Required for the embedded server, which lets in only
	// its users (NATSUsers, with NATSPermissions) and only over TLS.
	PKI *devpki.Files
}

// NATS is the stack's NATS: an embedded server, or one it was pointed at.
type NATS struct {
	URL    string
	Server *server.Server // nil when the stack did not start it
	// PKI holds the users' passwords (nil: a NATS given by URL, whose
	// credentials are not the stack's business).
	PKI *devpki.Files
	// TLS is set when clients must verify the server against the PKI's CA.
	TLS bool
}

// StartNATS starts an embedded NATS server with JetStream, or, given a URL,
// only records it.
func StartNATS(o NATSOptions, log *slog.Logger) (*NATS, error) {
	if o.URL != "" {
		return &NATS{URL: o.URL, PKI: o.PKI}, nil
	}
	if o.PKI == nil {
		return nil, errors.New("embedded NATS: no PKI for its users and certificate")
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	users, err := NATSUsers(o.PKI)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	tlsConf, err := NATSServerTLS(o.PKI)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	ns, err := natsx.StartEmbedded(natsx.EmbeddedConfig{
		Host: o.Host, Port: o.Port, StoreDir: o.StoreDir, SyncAlways: o.Sync, ServerName: o.Name,
		Users: users, TLS: tlsConf,
	}, log)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS on %s:%d: %w", o.Host, o.Port, err)
	}
	return &NATS{URL: ns.ClientURL(), Server: ns, PKI: o.PKI, TLS: true}, nil
}

// Client is how user (a service, NATSSubscriber or NATSAdmin) connects to
// this NATS: its credentials from the PKI, and TLS verified against the
// PKI's CA when the stack started the server. Without a PKI it is
// anonymous.
func (n *NATS) Client(user string) natsx.ClientAuth {
	if n.PKI == nil {
		return natsx.ClientAuth{}
	}
	return NATSClient(n.PKI, user, n.TLS)
}

// Connect connects to this NATS as user (see Client), named name.
func (n *NATS) Connect(ctx context.Context, user, name string, log *slog.Logger) (*nats.Conn, error) {
	opts, err := n.Client(user).Options()
	if err != nil {
		return nil, err
	}
	return natsx.Connect(ctx, n.URL, name, log, opts...)
}

// Stop shuts the embedded server down, its store written out.
func (n *NATS) Stop() {
	if n == nil || n.Server == nil {
		return
	}
	n.Server.Shutdown()
	n.Server.WaitForShutdown()
	n.Server = nil
}

// Redis is the stack's Redis: a redis-server child, or one it was pointed
// at.
type Redis struct {
	Addr string
	Proc *redisx.Process // nil when the stack did not start it
	dir  string
}

// StartRedis starts a redis-server child on a free port with its files in
// dir, or, given a URL, only records it. Redis only caches leaderboards
// (ranking rebuilds them from NATS), so a fresh one each run loses nothing.
func StartRedis(ctx context.Context, url, dir string, log *slog.Logger) (*Redis, error) {
	redisx.LogTo(log)
	if url != "" {
		return &Redis{Addr: url}, nil
	}
	p, err := redisx.StartLocal(ctx, dir, 0)
	if err != nil {
		return nil, fmt.Errorf("redis for the leaderboards (or set REDIS_URL): %w", err)
	}
	return &Redis{Addr: p.Addr(), Proc: p, dir: dir}, nil
}

// Restart kills the redis-server child with SIGKILL and starts a new one
// on the same port and directory: a crashed cache, back empty.
func (r *Redis) Restart(ctx context.Context) error {
	if r == nil || r.Proc == nil {
		return errors.New("stack: this Redis was not started by the stack")
	}
	_, port, err := net.SplitHostPort(r.Addr)
	if err != nil {
		return err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return err
	}
	r.Proc.Stop()
	proc, err := redisx.StartLocal(ctx, r.dir, p)
	if err != nil {
		return fmt.Errorf("restart redis on %s: %w", r.Addr, err)
	}
	r.Proc = proc
	return nil
}

// Stop stops the redis-server child, if the stack started one.
func (r *Redis) Stop() {
	if r == nil || r.Proc == nil {
		return
	}
	r.Proc.Stop()
	r.Proc = nil
}
