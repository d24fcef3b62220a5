package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/services/assessment/internal/convert"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// A ceremony is one key of the ceremonies bucket (its id): created PLANNED
// (a create of a key that exists stores nothing), then HELD by a
// compare-and-set at the revision the hold was decided on, so two holds
// cannot both land. The hold is then announced on its own subject of the
// CEREMONIES stream, expecting it empty and with a fixed message id, so a
// hold cut short between the two is finished by repeating it and announced
// once. Ceremonies are few (tens a year): every replica keeps them all in
// memory, fed by a watch of the bucket, with the award each lists.

// BucketCeremonies holds one key per ceremony id.
const BucketCeremonies = "assessment_ceremonies"

// storedCeremony is a ceremony as the bucket keeps it: the wire form, and
// the fingerprints of the requests that created and held it (the API does
// not show them).
type storedCeremony struct {
	Ceremony          json.RawMessage `json:"ceremony"`
	CreateFingerprint string          `json:"create_fingerprint,omitempty"`
	HoldFingerprint   string          `json:"hold_fingerprint,omitempty"`
}

func encodeCeremony(c model.AwardCeremony) ([]byte, error) {
	body, err := protojson.Marshal(convert.AwardCeremonyToProto(&c))
	if err != nil {
		return nil, fmt.Errorf("encode ceremony %s: %w", c.ID, err)
	}
	return json.Marshal(storedCeremony{Ceremony: body, CreateFingerprint: c.CreateFingerprint, HoldFingerprint: c.HoldFingerprint})
}

func decodeCeremony(b []byte, revision uint64) (model.AwardCeremony, error) {
	var st storedCeremony
	if err := json.Unmarshal(b, &st); err != nil {
		return model.AwardCeremony{}, fmt.Errorf("decode ceremony: %w", err)
	}
	var p assessmentv1.AwardCeremony
	if err := protojson.Unmarshal(st.Ceremony, &p); err != nil {
		return model.AwardCeremony{}, fmt.Errorf("decode ceremony: %w", err)
	}
	c := convert.AwardCeremonyFromProto(&p)
	c.CreateFingerprint, c.HoldFingerprint, c.Revision = st.CreateFingerprint, st.HoldFingerprint, revision
	return *c, nil
}

// ceremonyIndex is this replica's copy of the bucket: every ceremony, and
// the HELD ceremony listing each award.
type ceremonyIndex struct {
	mu      sync.RWMutex
	byID    map[string]model.AwardCeremony
	byAward map[string]string
}

// put keeps c unless a later revision of it is kept already.
func (x *ceremonyIndex) put(c model.AwardCeremony) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.byID == nil {
		x.byID, x.byAward = map[string]model.AwardCeremony{}, map[string]string{}
	}
	if cur, ok := x.byID[c.ID]; ok && cur.Revision >= c.Revision {
		return
	}
	x.byID[c.ID] = c
	if c.State != model.CeremonyHeld {
		return
	}
	for _, a := range c.Awards {
		// Two replicas holding two ceremonies with one award at the same
		// moment could both land; the award then names one of them, the
		// same on every replica.
		if cur := x.byAward[a.AwardID]; cur == "" || c.ID < cur {
			x.byAward[a.AwardID] = c.ID
		}
	}
}

func (x *ceremonyIndex) all() []model.AwardCeremony {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]model.AwardCeremony, 0, len(x.byID))
	for _, c := range x.byID {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (x *ceremonyIndex) ofAward(awardID string) (model.AwardCeremony, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	id, ok := x.byAward[awardID]
	if !ok {
		return model.AwardCeremony{}, false
	}
	c, ok := x.byID[id]
	return c, ok
}

// watchCeremonies fills the index and keeps it current until ctx ends.
func (s *Store) watchCeremonies(ctx context.Context) error {
	return natsx.WatchKV(ctx, s.ceremonies, func(e jetstream.KeyValueEntry) {
		if e.Operation() != jetstream.KeyValuePut || strings.HasPrefix(e.Key(), presentedPrefix) {
			return
		}
		c, err := decodeCeremony(e.Value(), e.Revision())
		if err != nil {
			s.log.Error("undecodable ceremony in the ceremonies bucket", "key", e.Key(), "err", err)
			return
		}
		s.ceremonyIndex.put(c)
	})
}

// CreateCeremony implements app.CeremonyStore.
func (p *AppStore) CreateCeremony(ctx context.Context, c model.AwardCeremony) (model.AwardCeremony, bool, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return model.AwardCeremony{}, false, err
	}
	defer done()
	b, err := encodeCeremony(c)
	if err != nil {
		return model.AwardCeremony{}, false, err
	}
	rev, err := p.s.ceremonies.Create(ctx, c.ID, b)
	if errors.Is(err, jetstream.ErrKeyExists) {
		stored, err := p.s.loadCeremony(ctx, c.ID)
		if err != nil {
			return model.AwardCeremony{}, false, err
		}
		if stored == nil {
			return model.AwardCeremony{}, false, fmt.Errorf("ceremony %s: created, but not found", c.ID)
		}
		return *stored, false, nil
	}
	if err != nil {
		return model.AwardCeremony{}, false, unavailable("create ceremony", err)
	}
	c.Revision = rev
	p.s.ceremonyIndex.put(c)
	return c, true, nil
}

// HoldCeremony implements app.CeremonyStore: the compare-and-set, then the
// announcement.
func (p *AppStore) HoldCeremony(ctx context.Context, c model.AwardCeremony) (model.AwardCeremony, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return model.AwardCeremony{}, err
	}
	defer done()
	held, err := p.s.storeHold(ctx, c)
	if err != nil {
		return model.AwardCeremony{}, err
	}
	return held, p.s.announceHeld(ctx, held)
}

// presentedPrefix keys an award's claim in the ceremonies bucket: the
// ceremony it is presented at. A hold claims each of its awards first, by a
// create every replica sees, so two replicas holding two ceremonies with
// one award cannot both land (the in-memory index alone is per replica).
const presentedPrefix = "presented."

// claimAwards claims c's awards for it: each claim names the ceremony and
// the revision its hold expects ("<ceremony>@<revision>"). A claim another
// ceremony holds is final once that ceremony is HELD with the award; while
// that ceremony is still at the claimed revision its hold may yet land, so
// the claim stands (Conflict); once it moved on without the award, the
// claim is stale and taken over.
func (s *Store) claimAwards(ctx context.Context, c model.AwardCeremony) error {
	mine := c.ID + "@" + strconv.FormatUint(c.Revision, 10)
	for _, a := range c.Awards {
		key := presentedPrefix + a.AwardID
		_, err := s.ceremonies.Create(ctx, key, []byte(mine))
		if err == nil {
			continue
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return unavailable("claim award for ceremony", err)
		}
		e, err := s.ceremonies.Get(ctx, key)
		if err != nil {
			return unavailable("read award claim", err)
		}
		if err := s.claimable(ctx, a.AwardID, string(e.Value()), c.ID); err != nil {
			return err
		}
		if string(e.Value()) == mine {
			continue
		}
		if _, err := s.ceremonies.Update(ctx, key, []byte(mine), e.Revision()); natsx.IsWrongLastSequence(err) {
			return fault.Conflictf("award %s is being presented at another ceremony now; try again", a.AwardID)
		} else if err != nil {
			return unavailable("claim award for ceremony", err)
		}
	}
	return nil
}

// claimable says whether the claim an award holds (value "<ceremony>" or
// "<ceremony>@<revision>") may be taken by ceremony id.
func (s *Store) claimable(ctx context.Context, awardID, claim, id string) error {
	other, rev, _ := strings.Cut(claim, "@")
	if other == id {
		return nil // this ceremony's own claim, from an earlier try
	}
	held, err := s.loadCeremony(ctx, other)
	if err != nil || held == nil {
		return err
	}
	if held.State == model.CeremonyHeld && slices.ContainsFunc(held.Awards, func(x model.CeremonyAward) bool { return x.AwardID == awardID }) {
		return fault.Preconditionf("award %s was presented at ceremony %s (%s)", awardID, other, held.Name)
	}
	if rev != "" && strconv.FormatUint(held.Revision, 10) == rev {
		return fault.Conflictf("award %s is being presented at ceremony %s now; try again once that hold is done", awardID, other)
	}
	return nil
}

// storeHold writes c (HELD) at the revision it was read at, its awards
// claimed first.
func (s *Store) storeHold(ctx context.Context, c model.AwardCeremony) (model.AwardCeremony, error) {
	if c.State != model.CeremonyHeld {
		return model.AwardCeremony{}, fmt.Errorf("ceremony %s: a hold stores a HELD ceremony, not %s", c.ID, c.State)
	}
	if err := s.claimAwards(ctx, c); err != nil {
		return model.AwardCeremony{}, err
	}
	b, err := encodeCeremony(c)
	if err != nil {
		return model.AwardCeremony{}, err
	}
	rev, err := s.ceremonies.Update(ctx, c.ID, b, c.Revision)
	if natsx.IsWrongLastSequence(err) {
		return model.AwardCeremony{}, fault.Conflictf("ceremony %s changed while the hold was decided", c.ID)
	}
	if err != nil {
		return model.AwardCeremony{}, unavailable("hold ceremony", err)
	}
	c.Revision = rev
	s.ceremonyIndex.put(c)
	return c, nil
}

// AnnounceHeld implements app.CeremonyStore.
func (p *AppStore) AnnounceHeld(ctx context.Context, c model.AwardCeremony) error {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return err
	}
	defer done()
	return p.s.announceHeld(ctx, c)
}

// announceHeld publishes CeremonyHeld once: the subject is the ceremony's
// alone and the publish expects it empty (after JetStream's duplicate
// window too), and the message id is the event id.
func (s *Store) announceHeld(ctx context.Context, c model.AwardCeremony) error {
	ev := &eventsv1.CeremonyHeld{EventId: "ceremony/" + c.ID + "/held", EventTime: timestamppb.New(c.HoldTime),
		Ceremony: convert.AwardCeremonyToProto(&c)}
	msg, err := events.NewMsg(events.CeremonyHeldSubject(c.ProvinceCode, c.ID), Source, c.ID, ev)
	if err != nil {
		return err
	}
	_, err = events.Publish(ctx, s.js, msg, jetstream.WithExpectLastSequencePerSubject(0))
	if err == nil || natsx.IsWrongLastSequence(err) {
		return nil // announced now, or before
	}
	return unavailable("announce ceremony held", err)
}

// Ceremony implements app.CeremonyStore: read from the bucket (its
// leader), so a decision rests on the stored state.
func (p *AppStore) Ceremony(ctx context.Context, id string) (*model.AwardCeremony, error) {
	ctx, done, err := p.s.guard(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	return p.s.loadCeremony(ctx, id)
}

func (s *Store) loadCeremony(ctx context.Context, id string) (*model.AwardCeremony, error) {
	e, err := s.ceremonies.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, unavailable("read ceremony", err)
	}
	c, err := decodeCeremony(e.Value(), e.Revision())
	if err != nil {
		return nil, fmt.Errorf("ceremony %s: %w", id, err)
	}
	s.ceremonyIndex.put(c)
	return &c, nil
}

// Ceremonies implements app.CeremonyStore, from this replica's index.
func (p *AppStore) Ceremonies(context.Context) ([]model.AwardCeremony, error) {
	return p.s.ceremonyIndex.all(), nil
}

// CeremonyOfAward implements app.CeremonyStore, from this replica's index.
func (p *AppStore) CeremonyOfAward(_ context.Context, awardID string) (*model.AwardCeremony, error) {
	c, ok := p.s.ceremonyIndex.ofAward(awardID)
	if !ok {
		return nil, nil
	}
	return &c, nil
}

// AwardByCode implements app.CeremonyStore, from the award view's index of
// verification codes.
func (p *AppStore) AwardByCode(code string) (*model.Award, error) {
	id, err := p.s.view.awardOfCode(code)
	if err != nil {
		return nil, err
	}
	a, err := p.s.Award(id)
	if err != nil {
		return nil, err
	}
	return convert.AwardFromProto(a), nil
}
