package auth

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"
)

// LivePolicy is the policy in force, replaced when its file changes.
type LivePolicy struct {
	cur atomic.Pointer[Policy]
}

// StaticPolicy is a LivePolicy that never changes (tests, tools).
func StaticPolicy(p *Policy) *LivePolicy {
	lp := &LivePolicy{}
	lp.cur.Store(p)
	return lp
}

// Current is the policy in force.
func (l *LivePolicy) Current() *Policy { return l.cur.Load() }

// WatchPolicy loads path now, failing if it is invalid, then re-reads it
// every interval until ctx ends. Content is compared rather than
// modification times: Kubernetes updates a mounted ConfigMap by swapping a
// symlink, which leaves the visible file's own times meaningless. A new
// version that does not validate is logged with its file:line and the
// previous one stays in force, so a bad edit never opens or closes access.
func WatchPolicy(ctx context.Context, path string, interval time.Duration, log *slog.Logger) (*LivePolicy, error) {
	if interval <= 0 {
		return nil, fmt.Errorf("watch policy %s: interval must be positive", path)
	}
	data, err := os.ReadFile(path) //nolint:gosec // the path is operator configuration
	if err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	p, err := ParsePolicy(path, data)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	lp := StaticPolicy(p)
	w := &policyWatcher{path: path, live: lp, log: log, seen: data}
	go w.run(ctx, interval)
	return lp, nil
}

type policyWatcher struct {
	path string
	live *LivePolicy
	log  *slog.Logger
	// seen is the last content examined, valid or not, so a broken version
	// is reported once rather than at every tick.
	seen []byte
}

func (w *policyWatcher) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.poll()
		}
	}
}

func (w *policyWatcher) poll() {
	data, err := os.ReadFile(w.path)
	if err != nil {
		// A ConfigMap swap can leave the path briefly missing; the next
		// tick will see the new version.
		w.log.Warn("policy file unreadable; keeping the policy in force", "path", w.path, "err", err)
		return
	}
	if bytes.Equal(data, w.seen) {
		return
	}
	w.seen = data
	p, err := ParsePolicy(w.path, data)
	if err != nil {
		w.log.Error("policy update rejected; keeping the policy in force", "err", err)
		return
	}
	w.live.cur.Store(p)
	w.log.Info("policy reloaded", "path", w.path, "roles", len(p.roles), "bindings", len(p.bindings))
}
