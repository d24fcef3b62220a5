package cache

import (
	"context"
	"log/slog"
	"strings"
	"time"
)

// Look is one thing the Watcher asks about at every look: where it stands
// (any text that changes whenever the boards may have changed), and
// whether it is settled (no change under way that nothing reports yet).
type Look func(ctx context.Context) (state string, settled bool, err error)

// Watcher confirms a Freshness by looking, every Every, at whatever can
// tell that the boards changed: a look that finds every Look settled and
// answering confirms the cache as of the moment it started, after moving
// the epoch if any state differs from the last confirmed look (or the
// previous look failed or was unsettled). A look that fails or is
// unsettled unconfirms it at once.
type Watcher struct {
	F     *Freshness
	Looks []Look
	Every time.Duration
	// Timeout bounds one look (default Every*5).
	Timeout time.Duration
	Log     *slog.Logger
}

// Run looks until ctx ends, then leaves the cache unconfirmed.
func (w *Watcher) Run(ctx context.Context) {
	defer w.F.Unconfirm()
	t := time.NewTicker(w.Every)
	defer t.Stop()
	var st watchState
	for {
		w.look(ctx, &st)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type watchState struct {
	last    string
	ok      bool // the last look confirmed
	failing bool // the last look failed (logged once)
}

// look runs every Look once and confirms or unconfirms.
func (w *Watcher) look(ctx context.Context, st *watchState) {
	timeout := w.Timeout
	if timeout == 0 {
		timeout = 5 * w.Every
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	states := make([]string, 0, len(w.Looks))
	settled := true
	for _, l := range w.Looks {
		s, ok, err := l(cctx)
		if err != nil {
			w.F.Unconfirm()
			st.ok = false
			if !st.failing && ctx.Err() == nil && w.Log != nil {
				w.Log.Info("answer cache bypassed: cannot tell whether the boards changed", "err", err)
			}
			st.failing = true
			return
		}
		settled = settled && ok
		states = append(states, s)
	}
	if st.failing && w.Log != nil {
		w.Log.Info("answer cache in use again")
	}
	st.failing = false
	if !settled {
		w.F.Unconfirm()
		st.ok = false
		return
	}
	key := strings.Join(states, "\n")
	if !st.ok || key != st.last {
		w.F.Invalidate()
	}
	st.last, st.ok = key, true
	w.F.Confirm(start)
}
