// Package store keeps the registry in JetStream KV buckets, which are the
// system of record, and feeds every committed change into the replica's
// in-memory index. Writes are compare-and-set on KV revisions, so concurrent
// replicas never overwrite each other silently.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/services/registry/internal/index"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
	"github.com/predikat-id/predikat/services/registry/internal/pbconv"
	"github.com/predikat-id/predikat/services/registry/internal/region"
	"google.golang.org/protobuf/proto"
)

// Bucket names. Institutions are keyed by id; identities map the hash of
// (kind, region, folded name) to the id that owns it, which makes "no two
// institutions with the same kind, region and name" atomic across replicas.
const (
	BucketInstitutions = "registry_institutions"
	BucketIdentities   = "registry_identities"
	BucketRegions      = "registry_regions"
	// BucketRequests maps the request id of a CreateInstitution that
	// carried one to the institution it creates (requests.go).
	BucketRequests = "registry_requests"
)

// staleClaimAge is how old a name claim whose owner does not carry the name
// must be before it is taken over: longer than any create or rename takes
// between its two writes.
const staleClaimAge = 30 * time.Second

// Config sizes the buckets.
type Config struct {
	// Replicas of each bucket: 1 for dev, 3 on a NATS cluster.
	Replicas int
	// History kept per institution key: the audit trail of its changes.
	History uint8
}

// Store is the registry's storage, shared by all use cases of a replica.
// Records are stored as API messages (pbconv translates), so the stored
// format is the published schema.
type Store struct {
	js                   jetstream.JetStream
	inst, ident, regions jetstream.KeyValue
	requests             jetstream.KeyValue
	idx                  *index.Index
	applied              map[string]*natsx.Progress // per bucket: KV revisions in the index
	log                  *slog.Logger
}

// Open creates or updates the buckets and seeds the built-in regions. Call
// Start to fill the index. While JetStream cannot place the buckets yet (a
// cluster still forming) Open waits and retries until ctx ends, logging
// each retry; a permanent error fails at once.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config, idx *index.Index, log *slog.Logger) (*Store, error) {
	if cfg.Replicas < 1 {
		cfg.Replicas = 1
	}
	if cfg.History == 0 {
		cfg.History = 64
	}
	kv := func(name, desc string, history uint8) (jetstream.KeyValue, error) {
		return natsx.EnsureKV(ctx, js, jetstream.KeyValueConfig{
			Bucket: name, Description: desc, History: history,
			Storage: jetstream.FileStorage, Replicas: cfg.Replicas,
		}, natsx.LogTo(log))
	}
	s := &Store{js: js, idx: idx, log: log,
		applied: map[string]*natsx.Progress{BucketInstitutions: {}, BucketRegions: {}}}
	var err error
	if s.inst, err = kv(BucketInstitutions, "Predikat registry: institutions by id", cfg.History); err != nil {
		return nil, err
	}
	if s.ident, err = kv(BucketIdentities, "Predikat registry: (kind, region, name) -> institution id", 1); err != nil {
		return nil, err
	}
	if s.regions, err = kv(BucketRegions, "Predikat registry: regions by Kemendagri code", 8); err != nil {
		return nil, err
	}
	if s.requests, err = kv(BucketRequests, "Predikat registry: CreateInstitution request id -> institution", 1); err != nil {
		return nil, err
	}
	// A freshly placed replicated bucket may still be electing its leader:
	// the first writes wait for it like the bucket creation did.
	if err := natsx.Retry(ctx, "seed regions", s.seedRegions, natsx.LogTo(log)); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) seedRegions(ctx context.Context) error {
	builtin, err := region.Builtin()
	if err != nil {
		return fmt.Errorf("built-in regions: %w", err)
	}
	have, err := s.regionKeys(ctx)
	if err != nil {
		return err
	}
	// Only what is missing, all at once: each publication is its own
	// key-value create (expected last sequence 0), so what is stored — a
	// region seeded by another replica starting at the same time, or one an
	// operator added — is left alone, and a first start does not wait for
	// 553 round trips in a row.
	var pending []jetstream.PubAckFuture
	for _, r := range builtin {
		if have[r.Code] {
			continue
		}
		b, err := proto.Marshal(pbconv.Region(r))
		if err != nil {
			return fmt.Errorf("encode region %s: %w", r.Code, err)
		}
		msg := nats.NewMsg("$KV." + BucketRegions + "." + r.Code)
		msg.Data = b
		f, err := s.js.PublishMsgAsync(msg, jetstream.WithExpectLastSequencePerSubject(0))
		if err != nil {
			return fmt.Errorf("seed region %s: %w", r.Code, err)
		}
		pending = append(pending, f)
	}
	for _, f := range pending {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			if !natsx.IsWrongLastSequence(err) {
				return fmt.Errorf("seed region %s: %w", f.Msg().Subject, err)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// regionKeys are the codes the regions bucket holds.
func (s *Store) regionKeys(ctx context.Context) (map[string]bool, error) {
	lister, err := s.regions.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list regions: %w", err)
	}
	have := map[string]bool{}
	for k := range lister.Keys() {
		have[k] = true
	}
	return have, nil
}

// Start runs the watchers that keep the index current until ctx ends. It
// returns once the index holds everything committed before the call and
// every active institution holds its name claim under the current key form
// (reclaimIdentities), so a replica reports SERVING only with a complete
// view and a complete set of claims.
func (s *Store) Start(ctx context.Context) error {
	ready := make(chan error, 2)
	go s.watch(ctx, s.regions, BucketRegions, func(_ uint64, b []byte) error {
		var r registryv1.Region
		if err := proto.Unmarshal(b, &r); err != nil {
			return err
		}
		s.idx.PutRegion(pbconv.RegionFromPB(&r))
		return nil
	}, ready)
	go s.watch(ctx, s.inst, BucketInstitutions, func(rev uint64, b []byte) error {
		var in registryv1.Institution
		if err := proto.Unmarshal(b, &in); err != nil {
			return err
		}
		in.Revision = rev
		s.idx.PutInstitution(pbconv.InstitutionFromPB(&in))
		return nil
	}, ready)
	for range 2 {
		select {
		case err := <-ready:
			if err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.reclaimIdentities(ctx)
}

// watch follows one bucket for the life of ctx, and reports on ready once
// its stored records are in the index.
func (s *Store) watch(ctx context.Context, kv jetstream.KeyValue, bucket string, apply func(uint64, []byte) error, ready chan<- error) {
	ready <- natsx.WatchKV(ctx, kv, func(e jetstream.KeyValueEntry) {
		if e.Operation() == jetstream.KeyValuePut {
			if err := apply(e.Revision(), e.Value()); err != nil {
				// A record we cannot decode is a bug or foreign data: skip
				// it loudly rather than stop following the bucket.
				s.log.Error("undecodable registry record", "bucket", bucket, "key", e.Key(), "revision", e.Revision(), "err", err)
			}
		}
		s.applied[bucket].Mark(e.Revision())
	})
}

// readOwnWrite waits (briefly) until this replica's index shows revision rev.
func (s *Store) readOwnWrite(ctx context.Context, bucket string, rev uint64) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.applied[bucket].WaitApplied(ctx, rev); err != nil {
		s.log.Warn("index lagging behind own write", "bucket", bucket, "revision", rev, "err", err)
	}
}

// Region returns a region from the index, falling back to the bucket for one
// created on another replica a moment ago.
func (s *Store) Region(ctx context.Context, code string) (*region.Region, error) {
	if r := s.idx.Region(code); r != nil {
		return r, nil
	}
	e, err := s.regions.Get(ctx, code)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fault.NotFoundf("region %s is not in the registry (ListRegions shows the known codes; CreateRegion adds one)", code)
	}
	if err != nil {
		return nil, unavailable("read region", err)
	}
	var r registryv1.Region
	if err := proto.Unmarshal(e.Value(), &r); err != nil {
		return nil, fmt.Errorf("decode region %s: %w", code, err)
	}
	return pbconv.RegionFromPB(&r), nil
}

// CreateRegion stores a new region; the caller has checked its parent.
func (s *Store) CreateRegion(ctx context.Context, r *region.Region) error {
	b, err := proto.Marshal(pbconv.Region(r))
	if err != nil {
		return fmt.Errorf("encode region %s: %w", r.Code, err)
	}
	rev, err := s.regions.Create(ctx, r.Code, b)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return fault.Existsf("region %s already exists", r.Code)
	}
	if err != nil {
		return unavailable("create region", err)
	}
	s.readOwnWrite(ctx, BucketRegions, rev)
	return nil
}

// Institution returns the latest committed institution, reading the bucket
// when this replica's index has not seen it yet.
func (s *Store) Institution(ctx context.Context, id string) (*institution.Institution, error) {
	if in := s.idx.Institution(id); in != nil {
		return in, nil
	}
	return s.Load(ctx, id)
}

// Load reads an institution from the bucket, with its KV revision.
func (s *Store) Load(ctx context.Context, id string) (*institution.Institution, error) {
	e, err := s.inst.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return nil, fault.NotFoundf("institution %q not found", id)
	}
	if err != nil {
		return nil, unavailable("read institution", err)
	}
	var in registryv1.Institution
	if err := proto.Unmarshal(e.Value(), &in); err != nil {
		return nil, fmt.Errorf("decode institution %s: %w", id, err)
	}
	out := pbconv.InstitutionFromPB(&in)
	out.Revision = e.Revision()
	return out, nil
}

// CreateInstitution stores a new, validated institution under in.ID after
// claiming its identity, and returns it with its revision.
func (s *Store) CreateInstitution(ctx context.Context, in *institution.Institution) (*institution.Institution, error) {
	// A taken id is answered before anything is written: a retried create
	// must not disturb the institution it created the first time.
	if _, err := s.Load(ctx, in.ID); err == nil {
		return nil, fault.Existsf("institution id %q is already taken", in.ID)
	} else if !fault.Is(err, fault.NotFound) {
		return nil, err
	}
	key := in.Identity()
	identRev, claimed, err := s.claimIdentity(ctx, key, in)
	if err != nil {
		return nil, err
	}
	b, err := encode(in)
	if err != nil {
		return nil, err
	}
	rev, err := s.inst.Create(ctx, in.ID, b)
	if err != nil {
		// Give the name back (only if this call took it) so the caller can
		// retry with another id.
		if claimed {
			_ = s.ident.Delete(context.WithoutCancel(ctx), key, jetstream.LastRevision(identRev))
		}
		if errors.Is(err, jetstream.ErrKeyExists) {
			return nil, fault.Existsf("institution id %q is already taken", in.ID)
		}
		return nil, unavailable("create institution", err)
	}
	out := in.Clone()
	out.Revision = rev
	s.readOwnWrite(ctx, BucketInstitutions, rev)
	return out, nil
}

// claimIdentity reserves (kind, region, name) for in.ID; claimed says
// whether this call wrote the claim (false: in.ID held it already). A claim
// whose owner no longer carries that identity (a crash between the two
// writes, a rename, a retirement) is stale and is taken over with
// compare-and-set.
func (s *Store) claimIdentity(ctx context.Context, key string, in *institution.Institution) (rev uint64, claimed bool, err error) {
	for range 3 {
		rev, err := s.ident.Create(ctx, key, []byte(in.ID))
		if err == nil {
			return rev, true, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return 0, false, unavailable("claim institution name", err)
		}
		e, err := s.ident.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // released meanwhile: try to create again
		}
		if err != nil {
			return 0, false, unavailable("read institution name claim", err)
		}
		if string(e.Value()) == in.ID {
			return e.Revision(), false, nil
		}
		if err := s.checkClaimStale(ctx, key, in, e); err != nil {
			return 0, false, err
		}
		if rev, err = s.ident.Update(ctx, key, []byte(in.ID), e.Revision()); err == nil {
			return rev, true, nil
		}
		// Lost a race for the stale claim: look again.
	}
	return 0, false, fault.Conflictf("institution name %q is being registered concurrently; retry", in.Name)
}

// checkClaimStale answers nil when the claim e on key, held by another
// institution, may be taken over for in.
func (s *Store) checkClaimStale(ctx context.Context, key string, in *institution.Institution, e jetstream.KeyValueEntry) error {
	owner := string(e.Value())
	cur, err := s.Load(ctx, owner)
	switch {
	case err == nil && cur.Status == institution.StatusActive && cur.Identity() == key:
		return fault.Existsf("%s %q in region %s is already registered as %q (%q): names that differ only in case, spacing, punctuation or look-alike letters are the same name",
			institution.KindLabel(in.Kind), in.Name, in.RegionCode, owner, cur.Name)
	case err != nil && !fault.Is(err, fault.NotFound):
		return err
	case time.Since(e.Created()) < staleClaimAge:
		// The owner may be between its two writes right now (a create
		// before its record, a rename before its commit): a young claim
		// is not stale yet.
		return fault.Conflictf("the name %q is being registered or renamed concurrently (by %q); retry in a moment", in.Name, owner)
	}
	return nil
}

// releaseIdentity drops a claim if id still holds it.
func (s *Store) releaseIdentity(ctx context.Context, key, id string) {
	e, err := s.ident.Get(ctx, key)
	if err != nil || string(e.Value()) != id {
		return
	}
	if err := s.ident.Delete(ctx, key, jetstream.LastRevision(e.Revision())); err != nil {
		s.log.Warn("release institution name claim", "key", key, "err", err) // stale claims are taken over later
	}
}

// CommitInstitution writes next over cur (compare-and-set at cur.Revision).
// A rename claims the new identity first and frees the old one after; a
// retirement frees its identity.
func (s *Store) CommitInstitution(ctx context.Context, cur, next *institution.Institution) (*institution.Institution, error) {
	oldKey, newKey := cur.Identity(), next.Identity()
	renamed := newKey != oldKey
	if renamed {
		if _, _, err := s.claimIdentity(ctx, newKey, next); err != nil {
			return nil, err
		}
	}
	// A failed commit keeps the new claim: another update of the same
	// institution may hold it under the same id, and a claim its owner
	// does not carry goes stale and is taken over later.
	out, err := s.commit(ctx, next, cur.Revision)
	if err != nil {
		return nil, err
	}
	if renamed || next.Status == institution.StatusRetired {
		s.releaseIdentity(ctx, oldKey, next.ID)
	}
	return out, nil
}

// commit writes next over revision rev (compare-and-set).
func (s *Store) commit(ctx context.Context, next *institution.Institution, rev uint64) (*institution.Institution, error) {
	b, err := encode(next)
	if err != nil {
		return nil, err
	}
	newRev, err := s.inst.Update(ctx, next.ID, b, rev)
	if err != nil {
		if natsx.IsWrongLastSequence(err) {
			cur, lerr := s.Load(ctx, next.ID)
			if lerr == nil {
				return nil, institution.StaleRevision(cur.ID, cur.Revision, rev)
			}
			return nil, fault.Conflictf("institution %q changed concurrently; re-read and retry", next.ID)
		}
		return nil, unavailable("update institution", err)
	}
	out := next.Clone()
	out.Revision = newRev
	s.readOwnWrite(ctx, BucketInstitutions, newRev)
	return out, nil
}

// encode is the stored form of in. The KV revision is the revision: it is
// never stored inside the record.
func encode(in *institution.Institution) ([]byte, error) {
	m := pbconv.Institution(in)
	m.Revision = 0
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode institution %s: %w", in.ID, err)
	}
	return b, nil
}

func unavailable(op string, err error) error {
	return fmt.Errorf("%s: %w", op, fault.Unavailablef("registry storage unavailable: %v", err))
}
