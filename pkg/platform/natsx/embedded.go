package natsx

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// embeddedReadyTimeout bounds how long StartEmbedded waits for the server to
// accept clients. Recovering a large JetStream store can take a while, but a
// dev stack that hangs silently is worse than one that fails with a reason.
const embeddedReadyTimeout = 10 * time.Second

// EmbeddedConfig configures an in-process NATS server with JetStream.
type EmbeddedConfig struct {
	// Host to listen on. Empty means 127.0.0.1: a dev server must not be
	// reachable from the network unless someone asks for it explicitly.
	Host string
	// Port to listen on: 0 means the NATS default (4222), -1 a random free
	// port (read it back with server.Addr or ClientURL).
	Port int
	// StoreDir is where JetStream keeps its files. Required: an embedded
	// server is used because its data must outlive the process.
	StoreDir string
	// SyncAlways fsyncs every write, so an acknowledged message survives a
	// machine crash, not only a process crash. The dev stack turns it on.
	SyncAlways bool
	// ServerName names the server in logs and in JetStream metadata. Keep it
	// stable across restarts of the same StoreDir.
	ServerName string
	// Users are who may connect, each with a password and its own publish
	// and subscribe permissions (nil Permissions: everything), all in the
	// one global account, where JetStream keeps the streams. The server
	// refuses every client that presents no valid user: deny by default.
	Users []*server.User
	// AllowAnonymous starts a server without users that lets anyone in
	// with every right, for the bare servers of unit tests only. It cannot
	// be combined with Users; with neither, StartEmbedded refuses to start.
	AllowAnonymous bool
	// TLS, when set, is the server's TLS configuration (its certificate):
	// every client must then speak TLS.
	TLS *tls.Config
}

// embeddedTLSTimeout is the TLS handshake deadline of the embedded server.
const embeddedTLSTimeout = 2 // seconds

// StartEmbedded starts an in-process NATS server with JetStream on a file
// store in cfg.StoreDir and returns once it accepts client connections. The
// server's own logs go to log: warnings and errors as such, its chatty
// notices at debug level. The caller shuts it down with Shutdown (and
// WaitForShutdown to be sure the store is closed).
func StartEmbedded(cfg EmbeddedConfig, log *slog.Logger) (*server.Server, error) {
	if log == nil {
		log = slog.Default()
	}
	if cfg.StoreDir == "" {
		return nil, errors.New("start embedded nats: StoreDir is required")
	}
	switch {
	case len(cfg.Users) == 0 && !cfg.AllowAnonymous:
		return nil, errors.New("start embedded nats: no users, and anonymous clients are not allowed")
	case len(cfg.Users) > 0 && cfg.AllowAnonymous:
		return nil, errors.New("start embedded nats: users and anonymous clients are exclusive")
	}
	host := cfg.Host
	if host == "" {
		host = "127.0.0.1"
	}
	opts := &server.Options{
		ServerName: cfg.ServerName,
		Host:       host,
		Port:       cfg.Port,
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		SyncAlways: cfg.SyncAlways,
		// The host process owns signal handling; the server must not exit or
		// reload on SIGTERM/SIGHUP behind its back.
		NoSigs: true,
		Users:  cfg.Users,
	}
	if cfg.TLS != nil {
		opts.TLSConfig = cfg.TLS
		opts.TLSTimeout = embeddedTLSTimeout
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("start embedded nats on %s:%d: %w", host, cfg.Port, err)
	}
	logger := &serverLogger{log: log.With("component", "nats-server")}
	// Ask the server for debug lines only when they would be printed: the
	// server formats them eagerly otherwise. Trace is never wanted here.
	debug := log.Enabled(context.Background(), slog.LevelDebug)
	srv.SetLoggerV2(logger, debug, false, false)

	srv.Start()

	// Start does not return errors: a failure (port in use, unusable store
	// dir) is reported through Fatalf and the server never becomes ready. Poll
	// in short slices so such a failure is reported at once with its reason
	// instead of after the whole timeout.
	deadline := time.Now().Add(embeddedReadyTimeout)
	for !srv.ReadyForConnections(100 * time.Millisecond) {
		if msg := logger.fatal(); msg != "" {
			srv.Shutdown()
			srv.WaitForShutdown()
			return nil, fmt.Errorf("start embedded nats on %s:%d: %s", host, cfg.Port, msg)
		}
		if time.Now().After(deadline) {
			srv.Shutdown()
			srv.WaitForShutdown()
			reason := "no error reported"
			if msg := logger.lastError(); msg != "" {
				reason = "last error: " + msg
			}
			return nil, fmt.Errorf("start embedded nats on %s:%d: not ready for connections after %s (%s)",
				host, cfg.Port, embeddedReadyTimeout, reason)
		}
	}
	if !srv.JetStreamEnabled() {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, fmt.Errorf("start embedded nats on %s:%d: server is up but JetStream is not enabled", host, cfg.Port)
	}
	log.Info("embedded nats started", "url", srv.ClientURL(), "store_dir", cfg.StoreDir, "sync_always", cfg.SyncAlways,
		"users", len(cfg.Users), "tls", cfg.TLS != nil)
	return srv, nil
}

// serverLogger adapts the server.Logger interface to slog. It also remembers
// fatal and error messages, because the server reports start-up failures only
// through its logger and StartEmbedded wants to return them as errors.
type serverLogger struct {
	log *slog.Logger

	mu       sync.Mutex
	fatalMsg string
	errMsg   string
}

var _ server.Logger = (*serverLogger)(nil)

func (l *serverLogger) Noticef(format string, v ...any) {
	// Notices are start-up banners and routine lifecycle lines: useful when
	// debugging, noise in a service's log otherwise.
	l.log.Debug(strings.TrimSpace(fmt.Sprintf(format, v...)))
}

func (l *serverLogger) Warnf(format string, v ...any) {
	l.log.Warn(strings.TrimSpace(fmt.Sprintf(format, v...)))
}

// Fatalf logs at error level and never exits: the default nats-server logger
// would os.Exit, which must not take down the process embedding it.
func (l *serverLogger) Fatalf(format string, v ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, v...))
	l.mu.Lock()
	l.fatalMsg = msg
	l.mu.Unlock()
	l.log.Error(msg, "fatal", true)
}

func (l *serverLogger) Errorf(format string, v ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, v...))
	l.mu.Lock()
	l.errMsg = msg
	l.mu.Unlock()
	l.log.Error(msg)
}

func (l *serverLogger) Debugf(format string, v ...any) {
	l.log.Debug(strings.TrimSpace(fmt.Sprintf(format, v...)))
}

// Tracef drops protocol traces: tracing is never enabled by StartEmbedded.
func (l *serverLogger) Tracef(string, ...any) {}

func (l *serverLogger) fatal() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatalMsg
}

func (l *serverLogger) lastError() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.errMsg
}
