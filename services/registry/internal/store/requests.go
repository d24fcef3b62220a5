package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
)

// requestRecord is the stored form of an institution.CreateRequest. JSON,
// not an API message: it is the registry's own bookkeeping, never served.
type requestRecord struct {
	RequestID     string    `json:"request_id"`
	Fingerprint   string    `json:"fingerprint"`
	InstitutionID string    `json:"institution_id"`
	CreateTime    time.Time `json:"create_time"`
}

// requestKey is the key of a request id in BucketRequests. Request ids may
// hold ':' and dots in any place, which KV keys may not: the key is the
// id's SHA-256, and the record keeps the id itself.
func requestKey(requestID string) string {
	sum := sha256.Sum256([]byte(requestID))
	return hex.EncodeToString(sum[:])
}

// ReserveCreate records want under its request id unless a record is
// already there, and returns the record that holds: want, or what an
// earlier attempt with the same request id stored. It is a KV create, so
// of two concurrent attempts exactly one record wins and both see it.
//
// The record is written before the institution, never after: a create
// whose answer was lost (Unavailable after the write landed) always left
// its record behind, so the retry finds the id and creation time the first
// attempt used and answers with that institution.
func (s *Store) ReserveCreate(ctx context.Context, want institution.CreateRequest) (institution.CreateRequest, error) {
	b, err := json.Marshal(requestRecord(want))
	if err != nil {
		return institution.CreateRequest{}, fmt.Errorf("encode create request %q: %w", want.RequestID, err)
	}
	key := requestKey(want.RequestID)
	if _, err := s.requests.Create(ctx, key, b); err == nil {
		return want, nil
	} else if !errors.Is(err, jetstream.ErrKeyExists) {
		return institution.CreateRequest{}, unavailable("record create request", err)
	}
	// Records are never deleted, so the one that is there stays there.
	e, err := s.requests.Get(ctx, key)
	if err != nil {
		return institution.CreateRequest{}, unavailable("read create request", err)
	}
	var rec requestRecord
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return institution.CreateRequest{}, fmt.Errorf("decode create request %q: %w", want.RequestID, err)
	}
	return institution.CreateRequest(rec), nil
}
