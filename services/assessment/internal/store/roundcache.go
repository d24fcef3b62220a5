package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/services/assessment/internal/convert"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"google.golang.org/protobuf/proto"
)

// roundCache is every round as this replica last saw it, with its revision
// in the rounds bucket: fed by a watch of the bucket, by this replica's own
// transitions and by every read of the bucket, and never going back to an
// older revision. It may be behind the bucket, so a record decided on it
// is safe only because the decision is checked after the append: the
// fence (checkInside) reads the round as stored. A refusal never rests on
// it alone (the application reads the round again before it refuses).
type roundCache struct {
	mu   sync.RWMutex
	byID map[string]model.Round
}

func (c *roundCache) get(id string) (model.Round, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	r, ok := c.byID[id]
	return r, ok
}

// put keeps r unless the cache holds a later revision of it.
func (c *roundCache) put(r model.Round) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byID == nil {
		c.byID = map[string]model.Round{}
	}
	if cur, ok := c.byID[r.ID]; !ok || cur.Revision < r.Revision {
		c.byID[r.ID] = r
	}
}

// cachedRound returns a round as this replica last saw it (no counts),
// reading the bucket only when it has never seen it.
func (s *Store) cachedRound(ctx context.Context, id string) (model.Round, error) {
	if r, ok := s.roundCache.get(id); ok {
		return r, nil
	}
	r, rev, err := s.loadRound(ctx, id)
	if err != nil {
		return model.Round{}, err
	}
	return convert.RoundFromProto(r, rev), nil
}

// watchRounds keeps the round cache and the fence cache current from the
// rounds bucket until ctx ends; it returns once both hold what the bucket
// holds now.
func (s *Store) watchRounds(ctx context.Context) error {
	return natsx.WatchKV(ctx, s.rounds, func(e jetstream.KeyValueEntry) {
		if e.Operation() != jetstream.KeyValuePut {
			return
		}
		key := e.Key()
		switch {
		case !strings.Contains(key, "."):
			var r assessmentv1.Round
			if err := proto.Unmarshal(e.Value(), &r); err != nil {
				s.log.Error("undecodable round in the rounds bucket", "key", key, "err", err)
				return
			}
			s.roundCache.put(convert.RoundFromProto(&r, e.Revision()))
		case strings.HasPrefix(key, "fence."):
			if err := s.cacheFence(key, e.Value()); err != nil {
				s.log.Error("undecodable round fence", "key", key, "err", err)
			}
		}
	})
}

// cacheFence keeps a settled fence read from the bucket (key fence.<round>.<revision>).
func (s *Store) cacheFence(key string, value []byte) error {
	parts := strings.Split(key, ".")
	if len(parts) != 3 {
		return fmt.Errorf("fence key %s: want fence.<round>.<revision>", key)
	}
	if _, err := strconv.ParseUint(parts[2], 10, 64); err != nil {
		return fmt.Errorf("fence key %s: %w", key, err)
	}
	seq, err := strconv.ParseUint(string(value), 10, 64)
	if err != nil {
		return fmt.Errorf("fence %s: %w", key, err)
	}
	s.fences.put(key, seq)
	return nil
}
