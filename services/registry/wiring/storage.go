package wiring

import (
	"context"
	"sync/atomic"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
	"github.com/predikat-id/predikat/services/registry/internal/region"
	"github.com/predikat-id/predikat/services/registry/internal/store"
)

// storage is the store as the application's ports, before and after it is
// open: the server takes requests while Open still waits for JetStream
// (so that its health port answers), and those get Unavailable, which a
// client retries, rather than a nil bucket.
type storage struct {
	st atomic.Pointer[store.Store]
}

func (s *storage) set(st *store.Store) { s.st.Store(st) }

func (s *storage) get() (*store.Store, error) {
	if st := s.st.Load(); st != nil {
		return st, nil
	}
	return nil, fault.Unavailablef("registry storage is not open yet: waiting for NATS JetStream")
}

func (s *storage) Region(ctx context.Context, code string) (*region.Region, error) {
	st, err := s.get()
	if err != nil {
		return nil, err
	}
	return st.Region(ctx, code)
}

func (s *storage) CreateRegion(ctx context.Context, r *region.Region) error {
	st, err := s.get()
	if err != nil {
		return err
	}
	return st.CreateRegion(ctx, r)
}

func (s *storage) Institution(ctx context.Context, id string) (*institution.Institution, error) {
	st, err := s.get()
	if err != nil {
		return nil, err
	}
	return st.Institution(ctx, id)
}

func (s *storage) Load(ctx context.Context, id string) (*institution.Institution, error) {
	st, err := s.get()
	if err != nil {
		return nil, err
	}
	return st.Load(ctx, id)
}

func (s *storage) CreateInstitution(ctx context.Context, in *institution.Institution) (*institution.Institution, error) {
	st, err := s.get()
	if err != nil {
		return nil, err
	}
	return st.CreateInstitution(ctx, in)
}

func (s *storage) CommitInstitution(ctx context.Context, cur, next *institution.Institution) (*institution.Institution, error) {
	st, err := s.get()
	if err != nil {
		return nil, err
	}
	return st.CommitInstitution(ctx, cur, next)
}

func (s *storage) ReserveCreate(ctx context.Context, want institution.CreateRequest) (institution.CreateRequest, error) {
	st, err := s.get()
	if err != nil {
		return institution.CreateRequest{}, err
	}
	return st.ReserveCreate(ctx, want)
}
