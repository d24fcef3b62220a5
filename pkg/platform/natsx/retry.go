package natsx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/predikat-id/predikat/pkg/platform/backoff"
)

// ensureAttemptTimeout bounds one attempt of a retried JetStream call, so a
// request lost in a cluster that is still forming is retried instead of
// holding the whole start-up until the caller's deadline.
const ensureAttemptTimeout = 10 * time.Second

// JetStream API error codes that mean "not yet" rather than "never": the
// cluster is forming, electing a leader or moving an asset. The nats.go
// client exports constants for only a few of them.
const (
	errCodeClusterIncomplete   jetstream.ErrorCode = 10004
	errCodeClusterNoPeers      jetstream.ErrorCode = 10005 // "no suitable peers for placement"
	errCodeClusterNotAvailable jetstream.ErrorCode = 10008
	errCodeClusterNotLeader    jetstream.ErrorCode = 10009
	errCodeClusterNotAssigned  jetstream.ErrorCode = 10007
	errCodeRaftGeneral         jetstream.ErrorCode = 10041
	errCodeStreamOffline       jetstream.ErrorCode = 10118
	errCodeConsumerOffline     jetstream.ErrorCode = 10119
	errCodeStreamOfflineReason jetstream.ErrorCode = 10194
	errCodeConsumerOfflineWhy  jetstream.ErrorCode = 10195
	errCodeMemberChangeFlight  jetstream.ErrorCode = 10202
)

var transientCodes = map[jetstream.ErrorCode]bool{
	errCodeClusterIncomplete: true, errCodeClusterNoPeers: true, errCodeClusterNotAvailable: true,
	errCodeClusterNotLeader: true, errCodeClusterNotAssigned: true, errCodeRaftGeneral: true,
	errCodeStreamOffline: true, errCodeConsumerOffline: true, errCodeStreamOfflineReason: true,
	errCodeConsumerOfflineWhy: true, errCodeMemberChangeFlight: true,
	jetstream.JSErrCodeJetStreamNotEnabled: true, jetstream.JSErrCodeJetStreamNotEnabledForAccount: true,
}

// transientConnErrors are the client-side failures of a request that
// reached no JetStream (yet): a timeout, nobody listening on the API
// subject while JetStream starts, a connection between servers.
var transientConnErrors = []error{
	context.DeadlineExceeded, nats.ErrTimeout, nats.ErrNoResponders,
	nats.ErrDisconnected, nats.ErrConnectionReconnecting, nats.ErrStaleConnection,
	jetstream.ErrJetStreamNotEnabled, jetstream.ErrJetStreamNotEnabledForAccount,
}

// IsTransient reports whether err is JetStream being unable to do something
// yet — a cluster without enough peers to place an R3 asset, JetStream
// still starting, a leader election, a timeout — so that the same call may
// succeed later. An invalid configuration, a missing permission or a
// closed connection is not transient.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	for _, t := range transientConnErrors {
		if errors.Is(err, t) {
			return true
		}
	}
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	// 503 is the server's own "temporarily unavailable", whatever the code.
	return transientCodes[apiErr.ErrorCode] || apiErr.Code == 503
}

// RetryOption tunes Retry and the Ensure functions.
type RetryOption func(*retryOptions)

type retryOptions struct {
	log *slog.Logger
}

// LogTo sends the retry warnings to log instead of slog.Default.
func LogTo(log *slog.Logger) RetryOption {
	return func(o *retryOptions) {
		if log != nil {
			o.log = log
		}
	}
}

// Retry runs f until it succeeds, fails with an error that is not
// transient (IsTransient), or ctx ends. Every attempt gets its own deadline
// and every transient failure is logged with the coming delay, so a service
// waiting for a forming cluster says what it waits for instead of exiting
// (and being restarted in a loop). what names the operation in the log and
// in the error.
func Retry(ctx context.Context, what string, f func(context.Context) error, opts ...RetryOption) error {
	o := retryOptions{log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	var last error
	err := backoff.Retry(ctx, backoff.Exponential{Config: backoff.DefaultConfig}, 0, func(ctx context.Context) error {
		actx, cancel := context.WithTimeout(ctx, ensureAttemptTimeout)
		defer cancel()
		err := f(actx)
		if err != nil && !IsTransient(err) {
			return backoff.Permanent(err)
		}
		last = err
		return err
	}, func(err error, delay time.Duration) {
		o.log.Warn("JetStream not ready, retrying", "op", what, "err", err, "retry_in", delay)
	})
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil && last != nil:
		// The caller's deadline or shutdown ended the wait: say what JetStream
		// answered last, which is what an operator needs to know.
		return fmt.Errorf("%s: gave up waiting for JetStream (%w): %w", what, err, last)
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}
