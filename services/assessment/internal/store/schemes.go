package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
)

// maxSchemeRetries bounds how often a registration reads the scheme's list
// again because another registration changed it meanwhile.
const maxSchemeRetries = 5

// RegisterScheme stores a scheme version once. The registered versions of
// a scheme are one key (the scheme id) holding all of them, changed only
// by compare-and-set: two registrations racing on any replica are
// decided one after the other against the same list, so no two versions
// with overlapping years can both be stored. The same version again with
// the same content is no change (false); with other content it is
// fault.Exists, for a version never changes; years overlapping a
// registered version are fault.Precondition.
func (s *Store) RegisterScheme(ctx context.Context, p *assessmentv1.Scheme) (bool, error) {
	for range maxSchemeRetries {
		list, rev, err := s.registeredSchemes(ctx, p.GetId())
		if err != nil {
			return false, err
		}
		for _, have := range list.GetSchemes() {
			switch {
			case have.GetVersion() == p.GetVersion() && scheme.SameContent(have, p):
				return false, nil
			case have.GetVersion() == p.GetVersion():
				return false, fault.Existsf("scheme %s version %q is already registered with other content: a version never changes; register the fix as a new version", p.GetId(), p.GetVersion())
			case scheme.YearsOverlap(have, p):
				return false, fault.Preconditionf("scheme %s version %q (from %d) overlaps the registered version %q (from %d): one version per scheme and year",
					p.GetId(), p.GetVersion(), p.GetFirstYear(), have.GetVersion(), have.GetFirstYear())
			}
		}
		next := &assessmentv1.ListSchemesResponse{Schemes: append(list.GetSchemes(), p)}
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(next)
		if err != nil {
			return false, fmt.Errorf("encode the versions of scheme %s: %w", p.GetId(), err)
		}
		if rev == 0 {
			_, err = s.schemes.Create(ctx, p.GetId(), b)
		} else {
			_, err = s.schemes.Update(ctx, p.GetId(), b, rev)
		}
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, jetstream.ErrKeyExists) || natsx.IsWrongLastSequence(err):
			continue // changed meanwhile: decide again on the list as it is
		default:
			return false, unavailable("register scheme version", err)
		}
	}
	return false, fault.Conflictf("scheme %s is being registered concurrently; try again", p.GetId())
}

// registeredSchemes reads the versions registered for a scheme and the
// key's revision (0: none yet).
func (s *Store) registeredSchemes(ctx context.Context, id string) (*assessmentv1.ListSchemesResponse, uint64, error) {
	e, err := s.schemes.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return &assessmentv1.ListSchemesResponse{}, 0, nil
	}
	if err != nil {
		return nil, 0, unavailable("read registered scheme versions", err)
	}
	var list assessmentv1.ListSchemesResponse
	if err := proto.Unmarshal(e.Value(), &list); err != nil {
		return nil, 0, fmt.Errorf("decode the versions of scheme %s: %w", id, err)
	}
	return &list, e.Revision(), nil
}

// WatchSchemes calls add with every registered scheme version, those
// stored now first, and then each one registered later (by any replica),
// until ctx ends. It returns once the stored ones were handed over; a
// version is handed over again with every later registration of its
// scheme (adding it again changes nothing).
func (s *Store) WatchSchemes(ctx context.Context, add func(*assessmentv1.Scheme)) error {
	err := natsx.WatchKV(ctx, s.schemes, func(e jetstream.KeyValueEntry) {
		if e.Operation() != jetstream.KeyValuePut {
			return
		}
		var list assessmentv1.ListSchemesResponse
		if err := proto.Unmarshal(e.Value(), &list); err != nil {
			s.log.Error("registered scheme versions cannot be read; skipped", "key", e.Key(), "err", err)
			return
		}
		for _, p := range list.GetSchemes() {
			add(p)
		}
	})
	if err != nil {
		return unavailable("watch scheme versions", err)
	}
	return nil
}
