package app

import (
	"context"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
)

// WatchInstitutions follows committed institution changes.
type WatchInstitutions struct {
	// IncludeSnapshot sends every current institution first (as
	// ChangeSnapshot), then an event with SnapshotDone.
	IncludeSnapshot bool
}

// WatchEvent is one thing a watcher is told.
type WatchEvent struct {
	Change institution.Change
	// SnapshotDone marks the end of the snapshot; Change is empty then.
	SnapshotDone bool
}

// WatchInstitutionsHandler runs WatchInstitutions.
type WatchInstitutionsHandler struct {
	feed     ChangeFeed
	stopping <-chan struct{}
}

// Handle sends events to send until ctx ends (nil), send fails (its error),
// the service stops or the watcher falls behind (Unavailable: the client
// reconnects, to another replica or with a fresh snapshot).
func (h WatchInstitutionsHandler) Handle(ctx context.Context, q WatchInstitutions, send func(WatchEvent) error) error {
	sub, snap := h.feed.Subscribe(q.IncludeSnapshot)
	defer sub.Close()
	if q.IncludeSnapshot {
		if err := sendSnapshot(snap, send); err != nil {
			return err
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.stopping:
			return fault.Unavailablef("registry is shutting down; reconnect to another replica")
		case c, ok := <-sub.Changes():
			if !ok {
				return fault.Unavailablef("%v", sub.Err())
			}
			if err := send(WatchEvent{Change: c}); err != nil {
				return err
			}
		}
	}
}

func sendSnapshot(snap []*institution.Institution, send func(WatchEvent) error) error {
	for _, in := range snap {
		if err := send(WatchEvent{Change: institution.Change{Type: institution.ChangeSnapshot, Institution: in}}); err != nil {
			return err
		}
	}
	return send(WatchEvent{SnapshotDone: true})
}
