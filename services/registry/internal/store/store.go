// Package store keeps the registry in JetStream KV buckets, which are the
// system of record, and feeds every committed change into the replica's
// in-memory index. Writes are compare-and-set on KV revisions, so concurrent
// replicas never overwrite each other silently.
package store

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/services/registry/internal/index"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
	"github.com/predikat-id/predikat/services/registry/internal/region"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Bucket names. Institutions are keyed by id; identities map the hash of
// (kind, region, folded name) to the id that owns it, which makes "no two
// institutions with the same kind, region and name" atomic across replicas.
const (
	BucketInstitutions = "registry_institutions"
	BucketIdentities   = "registry_identities"
	BucketRegions      = "registry_regions"
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

// Store is the registry's storage, shared by all RPC handlers of a replica.
type Store struct {
	inst, ident, regions jetstream.KeyValue
	idx                  *index.Index
	applied              map[string]*natsx.Progress // per bucket: KV revisions in the index
	log                  *slog.Logger
	now                  func() time.Time
}

// Open creates or updates the buckets and seeds the built-in regions. Call
// Start to fill the index.
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
		})
	}
	s := &Store{idx: idx, log: log, now: time.Now,
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
	if err := s.seedRegions(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) seedRegions(ctx context.Context) error {
	builtin, err := region.Builtin()
	if err != nil {
		return fmt.Errorf("built-in regions: %w", err)
	}
	for _, r := range builtin {
		b, err := proto.Marshal(r)
		if err != nil {
			return err
		}
		// Create, not Put: a second replica starting at the same time, or a
		// restart, leaves what is there alone.
		if _, err := s.regions.Create(ctx, r.GetCode(), b); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("seed region %s: %w", r.GetCode(), err)
		}
	}
	return nil
}

// Start runs the watchers that keep the index current until ctx ends. It
// returns once the index holds everything committed before the call, so a
// replica reports SERVING only with a complete view.
func (s *Store) Start(ctx context.Context) error {
	ready := make(chan error, 2)
	go s.watch(ctx, s.regions, BucketRegions, func(_ uint64, b []byte) error {
		var r registryv1.Region
		if err := proto.Unmarshal(b, &r); err != nil {
			return err
		}
		s.idx.PutRegion(&r)
		return nil
	}, ready)
	go s.watch(ctx, s.inst, BucketInstitutions, func(rev uint64, b []byte) error {
		var in registryv1.Institution
		if err := proto.Unmarshal(b, &in); err != nil {
			return err
		}
		in.Revision = rev
		s.idx.PutInstitution(&in)
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
	return nil
}

// watch follows one bucket for the life of ctx. The KV watcher is an
// ordered consumer: after a NATS restart it resubscribes by itself from where
// it was, so the loop only ends with ctx.
func (s *Store) watch(ctx context.Context, kv jetstream.KeyValue, bucket string, apply func(uint64, []byte) error, ready chan<- error) {
	w, err := kv.WatchAll(ctx)
	if err != nil {
		ready <- fmt.Errorf("watch %s: %w", bucket, err)
		return
	}
	defer w.Stop()
	signalled := false
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				if !signalled {
					ready <- fmt.Errorf("watch %s: closed before the initial values", bucket)
				}
				return
			}
			if e == nil { // end of the initial values
				if !signalled {
					signalled = true
					ready <- nil
				}
				continue
			}
			if e.Operation() == jetstream.KeyValuePut {
				if err := apply(e.Revision(), e.Value()); err != nil {
					// A record we cannot decode is a bug or foreign data: skip
					// it loudly rather than stop following the bucket.
					s.log.Error("undecodable registry record", "bucket", bucket, "key", e.Key(), "revision", e.Revision(), "err", err)
				}
			}
			s.applied[bucket].Mark(e.Revision())
		}
	}
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
func (s *Store) Region(ctx context.Context, code string) (*registryv1.Region, error) {
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
	return &r, nil
}

// CreateRegion stores a new region below an existing parent.
func (s *Store) CreateRegion(ctx context.Context, code, name string) (*registryv1.Region, error) {
	r, err := region.New(code, strings.TrimSpace(name), false)
	if err != nil {
		return nil, err
	}
	if r.GetName() == "" {
		return nil, fault.Invalidf("region name is required")
	}
	if _, err := s.Region(ctx, r.GetParentCode()); err != nil {
		if fault.Is(err, fault.NotFound) {
			return nil, fault.Preconditionf("region %s needs its parent region %s to exist first", code, r.GetParentCode())
		}
		return nil, err
	}
	b, err := proto.Marshal(r)
	if err != nil {
		return nil, err
	}
	rev, err := s.regions.Create(ctx, code, b)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return nil, fault.Existsf("region %s already exists", code)
	}
	if err != nil {
		return nil, unavailable("create region", err)
	}
	s.readOwnWrite(ctx, BucketRegions, rev)
	return r, nil
}

// Institution returns the latest committed institution, reading the bucket
// when this replica's index has not seen it yet.
func (s *Store) Institution(ctx context.Context, id string) (*registryv1.Institution, error) {
	if in := s.idx.Institution(id); in != nil {
		return in, nil
	}
	in, _, err := s.load(ctx, id)
	return in, err
}

func (s *Store) load(ctx context.Context, id string) (*registryv1.Institution, uint64, error) {
	e, err := s.inst.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return nil, 0, fault.NotFoundf("institution %q not found", id)
	}
	if err != nil {
		return nil, 0, unavailable("read institution", err)
	}
	var in registryv1.Institution
	if err := proto.Unmarshal(e.Value(), &in); err != nil {
		return nil, 0, fmt.Errorf("decode institution %s: %w", id, err)
	}
	in.Revision = e.Revision()
	return &in, e.Revision(), nil
}

// CreateInstitution validates and stores a new institution. id may be empty.
func (s *Store) CreateInstitution(ctx context.Context, id string, req *registryv1.Institution) (*registryv1.Institution, error) {
	in := &registryv1.Institution{
		Id: id, Kind: req.GetKind(), ParentId: req.GetParentId(), Head: req.GetHead(),
		Aliases: req.GetAliases(), ExternalIds: req.GetExternalIds(),
		Status: registryv1.InstitutionStatus_INSTITUTION_STATUS_ACTIVE,
	}
	in.RegionCode = institution.NormalizeRegion(in.Kind, req.GetRegionCode())
	var err error
	if in.Name, err = institution.CleanName(req.GetName()); err != nil {
		return nil, err
	}
	if err := s.check(ctx, in); err != nil {
		return nil, err
	}
	if in.Id == "" {
		in.Id = newID()
	}
	now := timestamppb.New(s.now())
	in.CreateTime, in.UpdateTime = now, now

	// A taken id is answered before anything is written: a retried create
	// must not disturb the institution it created the first time.
	if _, _, err := s.load(ctx, in.Id); err == nil {
		return nil, fault.Existsf("institution id %q is already taken", in.Id)
	} else if !fault.Is(err, fault.NotFound) {
		return nil, err
	}
	key := institution.IdentityKey(in.Kind, in.RegionCode, in.Name)
	identRev, claimed, err := s.claimIdentity(ctx, key, in)
	if err != nil {
		return nil, err
	}
	b, err := proto.Marshal(in)
	if err != nil {
		return nil, err
	}
	rev, err := s.inst.Create(ctx, in.Id, b)
	if err != nil {
		// Give the name back (only if this call took it) so the caller can
		// retry with another id.
		if claimed {
			_ = s.ident.Delete(context.WithoutCancel(ctx), key, jetstream.LastRevision(identRev))
		}
		if errors.Is(err, jetstream.ErrKeyExists) {
			return nil, fault.Existsf("institution id %q is already taken", in.Id)
		}
		return nil, unavailable("create institution", err)
	}
	in.Revision = rev
	s.readOwnWrite(ctx, BucketInstitutions, rev)
	return in, nil
}

// claimIdentity reserves (kind, region, name) for in.Id; claimed says
// whether this call wrote the claim (false: in.Id held it already). A claim
// whose owner no longer carries that identity (a crash between the two
// writes, a rename, a retirement) is stale and is taken over with
// compare-and-set.
func (s *Store) claimIdentity(ctx context.Context, key string, in *registryv1.Institution) (rev uint64, claimed bool, err error) {
	for range 3 {
		rev, err := s.ident.Create(ctx, key, []byte(in.GetId()))
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
		owner := string(e.Value())
		if owner == in.GetId() {
			return e.Revision(), false, nil
		}
		cur, _, err := s.load(ctx, owner)
		switch {
		case err == nil && cur.GetStatus() == registryv1.InstitutionStatus_INSTITUTION_STATUS_ACTIVE &&
			institution.IdentityKey(cur.GetKind(), cur.GetRegionCode(), cur.GetName()) == key:
			return 0, false, fault.Existsf("%s %q in region %s is already registered as %q",
				strings.ToLower(strings.TrimPrefix(in.GetKind().String(), "INSTITUTION_KIND_")), in.GetName(), in.GetRegionCode(), owner)
		case err != nil && !fault.Is(err, fault.NotFound):
			return 0, false, err
		case time.Since(e.Created()) < staleClaimAge:
			// The owner may be between its two writes right now (a create
			// before its record, a rename before its commit): a young claim
			// is not stale yet.
			return 0, false, fault.Conflictf("the name %q is being registered or renamed concurrently (by %q); retry in a moment", in.GetName(), owner)
		}
		rev, err = s.ident.Update(ctx, key, []byte(in.GetId()), e.Revision())
		if err == nil {
			return rev, true, nil
		}
		// Lost a race for the stale claim: look again.
	}
	return 0, false, fault.Conflictf("institution name %q is being registered concurrently; retry", in.GetName())
}

// releaseIdentity drops a claim if in.Id still holds it.
func (s *Store) releaseIdentity(ctx context.Context, key, id string) {
	e, err := s.ident.Get(ctx, key)
	if err != nil || string(e.Value()) != id {
		return
	}
	if err := s.ident.Delete(ctx, key, jetstream.LastRevision(e.Revision())); err != nil {
		s.log.Warn("release institution name claim", "key", key, "err", err) // stale claims are taken over later
	}
}

// check validates references: the region exists and fits the kind; the
// parent exists, is active and is not the institution itself.
func (s *Store) check(ctx context.Context, in *registryv1.Institution) error {
	if in.GetRegionCode() == "" {
		return fault.Invalidf("region_code is required for a %s", strings.ToLower(strings.TrimPrefix(in.GetKind().String(), "INSTITUTION_KIND_")))
	}
	if _, err := region.Parse(in.GetRegionCode()); err != nil {
		return err
	}
	r, err := s.Region(ctx, in.GetRegionCode())
	if err != nil {
		return err
	}
	if err := institution.CheckPlacement(in.GetKind(), r); err != nil {
		return err
	}
	if err := institution.CheckHead(in.GetHead()); err != nil {
		return err
	}
	if p := in.GetParentId(); p != "" {
		if p == in.GetId() {
			return fault.Invalidf("an institution cannot be its own parent")
		}
		parent, err := s.Institution(ctx, p)
		if fault.Is(err, fault.NotFound) {
			return fault.Preconditionf("parent institution %q does not exist", p)
		}
		if err != nil {
			return err
		}
		if parent.GetStatus() == registryv1.InstitutionStatus_INSTITUTION_STATUS_RETIRED {
			return fault.Preconditionf("parent institution %q is retired", p)
		}
		for anc, hops := parent, 0; anc.GetParentId() != "" && hops < 32; hops++ {
			if anc.GetParentId() == in.GetId() {
				return fault.Invalidf("parent %q would make a cycle through %q", p, in.GetId())
			}
			if anc, err = s.Institution(ctx, anc.GetParentId()); err != nil {
				break
			}
		}
	}
	return nil
}

// UpdateInstitution applies the masked fields if the institution is still at
// expected revision.
func (s *Store) UpdateInstitution(ctx context.Context, upd *registryv1.Institution, paths []string, expected uint64) (*registryv1.Institution, error) {
	cur, rev, err := s.load(ctx, upd.GetId())
	if err != nil {
		return nil, err
	}
	if rev != expected {
		return nil, stale(upd.GetId(), rev, expected)
	}
	if cur.GetStatus() == registryv1.InstitutionStatus_INSTITUTION_STATUS_RETIRED {
		return nil, fault.Preconditionf("institution %q is retired (%s) and cannot be changed", cur.GetId(), cur.GetRetireReason())
	}
	next, err := institution.ApplyMask(cur, upd, paths)
	if err != nil {
		return nil, err
	}
	if next.Name, err = institution.CleanName(next.GetName()); err != nil {
		return nil, err
	}
	next.RegionCode = institution.NormalizeRegion(next.Kind, next.GetRegionCode())
	if err := s.check(ctx, next); err != nil {
		return nil, err
	}
	oldKey := institution.IdentityKey(cur.Kind, cur.RegionCode, cur.Name)
	newKey := institution.IdentityKey(next.Kind, next.RegionCode, next.Name)
	if newKey != oldKey {
		if _, _, err := s.claimIdentity(ctx, newKey, next); err != nil {
			return nil, err
		}
	}
	next.UpdateTime = timestamppb.New(s.now())
	next, err = s.commit(ctx, next, expected)
	if err != nil {
		if newKey != oldKey {
			s.releaseIdentity(context.WithoutCancel(ctx), newKey, next.GetId())
		}
		return nil, err
	}
	if newKey != oldKey {
		s.releaseIdentity(ctx, oldKey, next.GetId())
	}
	return next, nil
}

// RetireInstitution marks an institution retired and frees its name.
func (s *Store) RetireInstitution(ctx context.Context, id, reason string, expected uint64) (*registryv1.Institution, error) {
	cur, rev, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if expected != 0 && rev != expected {
		return nil, stale(id, rev, expected)
	}
	if cur.GetStatus() == registryv1.InstitutionStatus_INSTITUTION_STATUS_RETIRED {
		return nil, fault.Preconditionf("institution %q is already retired (%s)", id, cur.GetRetireReason())
	}
	next := proto.Clone(cur).(*registryv1.Institution)
	next.Status = registryv1.InstitutionStatus_INSTITUTION_STATUS_RETIRED
	next.RetireReason = strings.TrimSpace(reason)
	next.UpdateTime = timestamppb.New(s.now())
	if next, err = s.commit(ctx, next, rev); err != nil {
		return nil, err
	}
	s.releaseIdentity(ctx, institution.IdentityKey(cur.Kind, cur.RegionCode, cur.Name), id)
	return next, nil
}

// commit writes next over revision rev (compare-and-set).
func (s *Store) commit(ctx context.Context, next *registryv1.Institution, rev uint64) (*registryv1.Institution, error) {
	next.Revision = 0 // the KV revision is the revision; never stored inside
	b, err := proto.Marshal(next)
	if err != nil {
		return nil, err
	}
	newRev, err := s.inst.Update(ctx, next.GetId(), b, rev)
	if err != nil {
		if natsx.IsWrongLastSequence(err) {
			cur, now, lerr := s.load(ctx, next.GetId())
			if lerr == nil {
				return nil, stale(cur.GetId(), now, rev)
			}
			return nil, fault.Conflictf("institution %q changed concurrently; re-read and retry", next.GetId())
		}
		return nil, unavailable("update institution", err)
	}
	next.Revision = newRev
	s.readOwnWrite(ctx, BucketInstitutions, newRev)
	return next, nil
}

func stale(id string, current, expected uint64) error {
	return fault.Conflictf("institution %q is at revision %d, not %d: it changed since you read it; get it again and reapply your change", id, current, expected)
}

func unavailable(op string, err error) error {
	return fmt.Errorf("%s: %w", op, fault.Unavailablef("registry storage unavailable: %v", err))
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns a random id that fits the id pattern (lowercase base32).
func newID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return "i" + idEncoding.EncodeToString(b[:])
}
