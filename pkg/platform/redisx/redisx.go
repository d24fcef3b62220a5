// Package redisx holds the Redis helpers Predikat services share: a client
// whose every wait is bounded, so that a Redis outage turns into a quick
// Unavailable instead of a hung call, the classification of errors into
// "Redis is not there" and "Redis said no", and a local redis-server child
// process for the dev stack.
//
// Redis is a cache in Predikat (boards are rebuilt from NATS JetStream), so
// nothing here tries to make Redis durable: the local server runs with
// persistence off.
package redisx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Bounded waits of a client made by NewClient. A healthy local Redis answers
// in well under a millisecond; these bounds only matter when it is gone or
// stuck, and then the caller should hear about it within about a second.
const (
	DialTimeout  = 1 * time.Second
	ReadTimeout  = 1 * time.Second
	WriteTimeout = 1 * time.Second
	// PoolTimeout bounds the wait for a free connection when every pooled
	// connection is busy (a burst, or a Redis that stopped answering).
	PoolTimeout = 1 * time.Second
)

// Options tunes NewClient beyond the address. The zero value is the default.
type Options struct {
	// ReadTimeout replaces the default read timeout. Bulk writers (a board
	// rebuild sending large pipelines) use a longer one; queries keep the
	// default so they fail fast.
	ReadTimeout time.Duration
	// ClientName is sent with CLIENT SETNAME, so `redis-cli client list`
	// shows who is connected.
	ClientName string
}

// NewClient returns a client for addr, which is either host:port or a
// redis:// (or rediss://) URL with optional password and database number.
// Every wait is bounded (see the constants) and a failed command is retried
// at most once, so an unreachable Redis fails a call within a few seconds at
// worst. Like go-redis itself, it does not connect until the first command.
func NewClient(addr string, o Options) (*redis.Client, error) {
	opts, err := parseAddr(addr)
	if err != nil {
		return nil, err
	}
	opts.DialTimeout = DialTimeout
	opts.ReadTimeout = ReadTimeout
	if o.ReadTimeout > 0 {
		opts.ReadTimeout = o.ReadTimeout
	}
	opts.WriteTimeout = WriteTimeout
	opts.PoolTimeout = PoolTimeout
	// A deadline on the caller's context is honoured too: a gRPC call with
	// 200ms left does not wait a whole second.
	opts.ContextTimeoutEnabled = true
	// One quick retry covers a pooled connection that Redis closed while it
	// was idle (a restart); more would only stretch an outage's fail time.
	opts.MaxRetries = 1
	opts.MinRetryBackoff = 8 * time.Millisecond
	opts.MaxRetryBackoff = 64 * time.Millisecond
	// go-redis retries a failed dial 5 times, 100ms apart, by default: a
	// refused connection would take half a second to report.
	opts.DialerRetries = 1
	opts.DialerRetryTimeout = 10 * time.Millisecond
	// CLIENT SETINFO is Redis 7.2+; older servers answer it with an error
	// that go-redis logs on every new connection.
	opts.DisableIdentity = true
	if o.ClientName != "" {
		opts.ClientName = o.ClientName
	}
	return redis.NewClient(opts), nil
}

func parseAddr(addr string) (*redis.Options, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return nil, errors.New("redisx: empty Redis address: give host:port or redis://host:port/0")
	}
	if strings.Contains(addr, "://") {
		opts, err := redis.ParseURL(addr)
		if err != nil {
			return nil, fmt.Errorf("redisx: Redis URL %q: %w", addr, err)
		}
		return opts, nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("redisx: Redis address %q: want host:port or a redis:// URL: %w", addr, err)
	}
	return &redis.Options{Addr: addr}, nil
}

// LogTo sends go-redis's own log lines (one per failed dial while Redis is
// down, among others) to log at debug level. go-redis has one logger per
// process, so only a process owner (a main) should call this; services
// report outages themselves, once, at warning level.
func LogTo(log *slog.Logger) {
	redis.SetLogger(slogPrintf{log})
}

type slogPrintf struct{ log *slog.Logger }

func (l slogPrintf) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, strings.TrimSpace(fmt.Sprintf(format, v...)), "component", "go-redis")
}

// IsUnavailable reports whether err means Redis could not be reached or
// could not serve the command right now (connection refused or reset,
// timeouts, a closed client, an exhausted pool, a server still loading its
// data set or a replica that is not ready): the caller should answer
// Unavailable and may retry later. Errors Redis itself returned for the
// command (a wrong type, a script error) are not unavailability. A caller's
// own cancellation is not either.
func IsUnavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var rErr redis.Error
	if errors.As(err, &rErr) {
		for _, p := range []string{"LOADING", "BUSY ", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "READONLY"} {
			if strings.HasPrefix(rErr.Error(), p) {
				return true
			}
		}
		return false
	}
	// Anything else from the client side (a broken connection reported in
	// some other form) means the same: no answer from Redis.
	return true
}
