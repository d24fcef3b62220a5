package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
)

func schemeKey(p *assessmentv1.Scheme) string { return p.GetId() + "." + p.GetVersion() }

// RegisterScheme stores a scheme version once. The same version again with
// the same content is no change (false); with other content it is
// fault.Exists: a version never changes.
func (s *Store) RegisterScheme(ctx context.Context, p *assessmentv1.Scheme) (bool, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(p)
	if err != nil {
		return false, fmt.Errorf("encode scheme %s: %w", schemeKey(p), err)
	}
	if _, err := s.schemes.Create(ctx, schemeKey(p), b); err == nil {
		return true, nil
	} else if !errors.Is(err, jetstream.ErrKeyExists) {
		return false, unavailable("register scheme version", err)
	}
	e, err := s.schemes.Get(ctx, schemeKey(p))
	if err != nil {
		return false, unavailable("read scheme version", err)
	}
	var stored assessmentv1.Scheme
	if err := proto.Unmarshal(e.Value(), &stored); err != nil {
		return false, fmt.Errorf("decode scheme %s: %w", schemeKey(p), err)
	}
	if !scheme.SameContent(&stored, p) {
		return false, fault.Existsf("scheme %s version %q is already registered with other content: a version never changes; register the fix as a new version", p.GetId(), p.GetVersion())
	}
	return false, nil
}

// WatchSchemes calls add with every registered scheme version, those
// stored now first, and then each one registered later (by any replica),
// until ctx ends. It returns once the stored ones were handed over.
func (s *Store) WatchSchemes(ctx context.Context, add func(*assessmentv1.Scheme)) error {
	w, err := s.schemes.WatchAll(ctx)
	if err != nil {
		return unavailable("watch scheme versions", err)
	}
	handle := func(e jetstream.KeyValueEntry) {
		if e.Operation() != jetstream.KeyValuePut {
			return
		}
		var p assessmentv1.Scheme
		if err := proto.Unmarshal(e.Value(), &p); err != nil {
			s.log.Error("registered scheme version cannot be read; skipped", "key", e.Key(), "err", err)
			return
		}
		add(&p)
	}
	for e := range w.Updates() {
		if e == nil { // the stored ones are all delivered
			break
		}
		handle(e)
	}
	go func() {
		defer func() { _ = w.Stop() }()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e != nil {
					handle(e)
				}
			}
		}
	}()
	return nil
}
