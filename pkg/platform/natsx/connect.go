// Package natsx holds the NATS helpers every Predikat service shares: a
// client connection that survives NATS outages, an embedded server for the
// dev stack, and idempotent stream and key-value bucket setup.
package natsx

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go"
)

// Reconnect pacing. The first retries are quick so a NATS restart costs
// little; the cap keeps a long outage from turning into a tight loop, and the
// jitter spreads many services out so a restarted cluster is not hit by all
// of them in the same instant.
const (
	reconnectBaseDelay = 250 * time.Millisecond
	reconnectMaxDelay  = 2 * time.Second
	// reconnectBufSize is what a connection buffers while disconnected, so a
	// short outage does not turn every publish into an error.
	reconnectBufSize = 16 << 20
)

// reconnectDelay is capped exponential backoff with "equal jitter": half of
// the delay is fixed, half random. attempts counts how many times the whole
// server list has been tried during the current outage (starting at 1).
func reconnectDelay(attempts int) time.Duration {
	d := reconnectMaxDelay
	if attempts < 1 {
		attempts = 1
	}
	// Shift only while it cannot overflow or pass the cap.
	if shift := attempts - 1; shift < 16 {
		if b := reconnectBaseDelay << shift; b < d {
			d = b
		}
	}
	half := d / 2
	return half + rand.N(half+1)
}

// Connect opens a NATS connection named name to url (a comma-separated list
// of servers is allowed) that never gives up: it reconnects forever with
// backoff and jitter, and, because RetryOnFailedConnect is set, a service may
// start before NATS does. Connect waits for the first successful connection
// and gives up only when ctx ends; callers that want to start without waiting
// pass a context that is already bounded the way they like.
//
// Connection events are logged to log. extra options are applied last, so
// they can add credentials or TLS, or override the defaults (tests use this
// for faster reconnects).
func Connect(ctx context.Context, url string, name string, log *slog.Logger, extra ...nats.Option) (*nats.Conn, error) {
	if log == nil {
		log = slog.Default()
	}
	log = log.With("nats_name", name)

	// connected is closed on the first successful connection; with
	// RetryOnFailedConnect that may happen long after nats.Connect returns.
	connected := make(chan struct{})
	var signalled bool // only touched from the nats.go callback goroutine
	signal := func() {
		if !signalled {
			signalled = true
			close(connected)
		}
	}

	opts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		// ReconnectWait and ReconnectJitter document the intent, but the custom
		// delay below takes precedence in nats.go; it adds exponential backoff.
		nats.ReconnectWait(reconnectBaseDelay),
		nats.ReconnectJitter(reconnectBaseDelay, reconnectBaseDelay),
		nats.CustomReconnectDelay(reconnectDelay),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectBufSize(reconnectBufSize),
		nats.ConnectHandler(func(nc *nats.Conn) {
			log.Info("nats connected", "url", nc.ConnectedUrlRedacted(), "server", nc.ConnectedServerName())
			signal()
		}),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			// err is nil on a deliberate close; that is reported by ClosedHandler.
			if err != nil {
				log.Warn("nats disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted(), "server", nc.ConnectedServerName())
		}),
		nats.ReconnectErrHandler(func(_ *nats.Conn, err error) {
			// Fires on every failed attempt during an outage: debug only, the
			// disconnect itself was already logged as a warning.
			log.Debug("nats reconnect attempt failed", "error", err)
		}),
		nats.ClosedHandler(func(nc *nats.Conn) {
			if err := nc.LastError(); err != nil {
				log.Warn("nats connection closed", "error", err)
				return
			}
			log.Info("nats connection closed")
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			attrs := []any{"error", err}
			if sub != nil {
				attrs = append(attrs, "subject", sub.Subject)
			}
			log.Error("nats async error", attrs...)
		}),
		nats.LameDuckModeHandler(func(nc *nats.Conn) {
			log.Info("nats server entering lame duck mode", "server", nc.ConnectedServerName())
		}),
	}
	opts = append(opts, extra...)

	nc, err := nats.Connect(url, opts...)
	if err != nil {
		// With RetryOnFailedConnect this only happens for unusable options or
		// URLs, never because the server is down.
		return nil, fmt.Errorf("nats connect %q as %q: %w", url, name, err)
	}
	if nc.IsConnected() {
		return nc, nil
	}
	log.Info("nats not reachable yet, retrying in the background", "url", url)
	// The handler signal is the fast path; the poll keeps this working if a
	// caller's extra options replaced the ConnectHandler.
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	for {
		select {
		case <-connected:
			return nc, nil
		case <-poll.C:
			if nc.IsConnected() {
				return nc, nil
			}
			if nc.IsClosed() {
				err := nc.LastError()
				if err == nil {
					err = nats.ErrConnectionClosed
				}
				return nil, fmt.Errorf("nats connect %q as %q: closed before the first connection: %w", url, name, err)
			}
		case <-ctx.Done():
			nc.Close()
			return nil, fmt.Errorf("nats connect %q as %q: waiting for first connection: %w", url, name, context.Cause(ctx))
		}
	}
}
