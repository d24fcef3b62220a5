// Package natsx holds the NATS helpers every Predikat service shares: a
// client connection that survives NATS outages, an embedded server for the
// dev stack, and idempotent stream and key-value bucket setup.
package natsx

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/predikat-id/predikat/pkg/platform/backoff"
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

// reconnectBackoff spreads each delay over [d/2, d] (±1/3 around 3d/4), so
// the services of a cluster that lost the same node do not come back in step.
var reconnectBackoff = backoff.Exponential{Config: backoff.Config{
	BaseDelay: reconnectBaseDelay * 3 / 4, Multiplier: 2, Jitter: 1.0 / 3, MaxDelay: reconnectMaxDelay * 3 / 4,
}}

// reconnectDelay is the delay before the next pass over the server list;
// attempts counts the passes of the current outage, starting at 1.
func reconnectDelay(attempts int) time.Duration { return reconnectBackoff.Backoff(attempts - 1) }

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
