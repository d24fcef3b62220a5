package store

import (
	"cmp"
	"context"
	"errors"
	"math"
	"slices"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
)

// reclaimIdentities makes every active institution in the index hold the
// claim of its identity under the current key form (institution.IdentityKey).
// It is the migration of the claim bucket, run on every start rather than
// once: a changed key form (the skeleton replacing the folded name, or new
// TS #39 data in a later build) moves every key, and a start is the one
// moment every replica passes through.
//
// It is idempotent and replicas starting together agree: a claim is created
// only where there is none, a claim already held by the same institution is
// left as it is, and one held by another institution is taken over only
// when stale (claimIdentity), each with compare-and-set.
//
// Claims under the old key form are left in place. The new code never reads
// them (the form is part of the hashed key, so no new key equals an old
// one), while a replica of the previous version still running during a
// rolling upgrade checks exactly those keys: keeping them keeps it from
// registering an exact duplicate meanwhile. Each is one small KV entry.
func (s *Store) reclaimIdentities(ctx context.Context) error {
	active, _ := s.idx.Page("", math.MaxInt, func(in *institution.Institution) bool {
		return in.Status == institution.StatusActive
	})
	// Oldest first: where look-alikes were both registered before names were
	// compared by skeleton, the one registered first keeps the claim, on
	// every replica alike.
	slices.SortFunc(active, func(a, b *institution.Institution) int {
		return cmp.Or(a.CreateTime.Compare(b.CreateTime), cmp.Compare(a.ID, b.ID))
	})
	created, clashes := 0, 0
	for _, in := range active {
		claimed, err := s.reclaim(ctx, in)
		switch {
		case err == nil:
			if claimed {
				created++
			}
		case fault.Is(err, fault.Exists), fault.Is(err, fault.Conflict):
			// Look-alikes registered under the old comparison both stay and
			// both remain updatable; the later one only cannot be renamed
			// onto its twin. An operator renames or retires one of them.
			clashes++
			s.log.Warn("institution name looks like another one's; it keeps its record but not the name claim",
				"id", in.ID, "name", in.Name, "err", err)
		default:
			return err
		}
	}
	s.log.Info("institution name claims checked", "active", len(active), "claimed", created, "look-alikes", clashes)
	return nil
}

// reclaim ensures in holds its identity's claim; claimed says whether this
// call wrote it. One read answers the usual case, a claim already in place.
func (s *Store) reclaim(ctx context.Context, in *institution.Institution) (claimed bool, err error) {
	key := in.Identity()
	e, err := s.ident.Get(ctx, key)
	switch {
	case err == nil && string(e.Value()) == in.ID:
		return false, nil
	case err != nil && !errors.Is(err, jetstream.ErrKeyNotFound):
		return false, unavailable("read institution name claim", err)
	}
	_, claimed, err = s.claimIdentity(ctx, key, in)
	return claimed, err
}
