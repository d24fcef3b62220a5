// Package server holds the RegistryService gRPC handlers. They are thin:
// protovalidate has already checked each request's shape (interceptor), the
// store and the domain packages decide everything else, and faults carry
// their own gRPC codes.
package server

import (
	"context"

	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/pagetoken"
	"github.com/predikat-id/predikat/services/registry/internal/index"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
	"github.com/predikat-id/predikat/services/registry/internal/region"
	"github.com/predikat-id/predikat/services/registry/internal/store"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// DefaultPageSize is used when a list request leaves page_size at 0.
const DefaultPageSize = 50

// Server implements predikat.registry.v1.RegistryService.
type Server struct {
	registryv1.UnimplementedRegistryServiceServer
	store    *store.Store
	idx      *index.Index
	stopping <-chan struct{}
}

// New returns the handlers over a store and its index. stopping closes when
// the service shuts down: watch streams end then, instead of holding the
// graceful stop open until its deadline.
func New(st *store.Store, idx *index.Index, stopping <-chan struct{}) *Server {
	return &Server{store: st, idx: idx, stopping: stopping}
}

// CreateRegion implements RegistryService.
func (s *Server) CreateRegion(ctx context.Context, req *registryv1.CreateRegionRequest) (*registryv1.CreateRegionResponse, error) {
	r, err := s.store.CreateRegion(ctx, req.GetCode(), req.GetName())
	if err != nil {
		return nil, err
	}
	return &registryv1.CreateRegionResponse{Region: r}, nil
}

// GetRegion implements RegistryService.
func (s *Server) GetRegion(ctx context.Context, req *registryv1.GetRegionRequest) (*registryv1.GetRegionResponse, error) {
	if _, err := region.Parse(req.GetCode()); err != nil {
		return nil, err
	}
	r, err := s.store.Region(ctx, req.GetCode())
	if err != nil {
		return nil, err
	}
	return &registryv1.GetRegionResponse{Region: r}, nil
}

// ListRegions implements RegistryService.
func (s *Server) ListRegions(_ context.Context, req *registryv1.ListRegionsRequest) (*registryv1.ListRegionsResponse, error) {
	rs := s.idx.Regions(func(r *registryv1.Region) bool {
		return (req.GetLevel() == registryv1.RegionLevel_REGION_LEVEL_UNSPECIFIED || r.GetLevel() == req.GetLevel()) &&
			(req.GetProvinceCode() == "" || r.GetProvinceCode() == req.GetProvinceCode())
	})
	return &registryv1.ListRegionsResponse{Regions: rs}, nil
}

// CreateInstitution implements RegistryService.
func (s *Server) CreateInstitution(ctx context.Context, req *registryv1.CreateInstitutionRequest) (*registryv1.CreateInstitutionResponse, error) {
	in, err := s.store.CreateInstitution(ctx, req.GetInstitutionId(), req.GetInstitution())
	if err != nil {
		return nil, err
	}
	return &registryv1.CreateInstitutionResponse{Institution: in}, nil
}

// GetInstitution implements RegistryService.
func (s *Server) GetInstitution(ctx context.Context, req *registryv1.GetInstitutionRequest) (*registryv1.GetInstitutionResponse, error) {
	in, err := s.store.Institution(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &registryv1.GetInstitutionResponse{Institution: in}, nil
}

// BatchGetInstitutions implements RegistryService.
func (s *Server) BatchGetInstitutions(ctx context.Context, req *registryv1.BatchGetInstitutionsRequest) (*registryv1.BatchGetInstitutionsResponse, error) {
	out := make([]*registryv1.Institution, len(req.GetIds()))
	var missing []string
	for i, id := range req.GetIds() {
		in, err := s.store.Institution(ctx, id)
		switch {
		case fault.Is(err, fault.NotFound):
			missing = append(missing, id)
		case err != nil:
			return nil, err
		}
		out[i] = in
	}
	if len(missing) > 0 {
		return nil, fault.NotFoundf("institutions not found: %q", missing)
	}
	return &registryv1.BatchGetInstitutionsResponse{Institutions: out}, nil
}

// ListInstitutions implements RegistryService.
func (s *Server) ListInstitutions(_ context.Context, req *registryv1.ListInstitutionsRequest) (*registryv1.ListInstitutionsResponse, error) {
	filter := proto.Clone(req).(*registryv1.ListInstitutionsRequest)
	filter.PageSize, filter.PageToken = 0, ""
	fp := pagetoken.Fingerprint(filter)
	after, err := pagetoken.Decode(req.GetPageToken(), fp)
	if err != nil {
		return nil, err
	}
	size := int(req.GetPageSize())
	if size == 0 {
		size = DefaultPageSize
	}
	words := institution.QueryWords(req.GetQuery())
	page, more := s.idx.Page(after, size, func(in *registryv1.Institution) bool {
		return institution.Matches(in, req.GetKinds(), req.GetRegionCode(), req.GetStatus(), words)
	})
	resp := &registryv1.ListInstitutionsResponse{Institutions: page}
	if more {
		resp.NextPageToken = pagetoken.Encode(fp, index.OrderKey(page[len(page)-1]))
	}
	return resp, nil
}

// UpdateInstitution implements RegistryService.
func (s *Server) UpdateInstitution(ctx context.Context, req *registryv1.UpdateInstitutionRequest) (*registryv1.UpdateInstitutionResponse, error) {
	if req.GetInstitution().GetId() == "" {
		return nil, fault.Invalidf("institution.id is required: it names the institution to update")
	}
	in, err := s.store.UpdateInstitution(ctx, req.GetInstitution(), req.GetUpdateMask().GetPaths(), req.GetExpectedRevision())
	if err != nil {
		return nil, err
	}
	return &registryv1.UpdateInstitutionResponse{Institution: in}, nil
}

// RetireInstitution implements RegistryService.
func (s *Server) RetireInstitution(ctx context.Context, req *registryv1.RetireInstitutionRequest) (*registryv1.RetireInstitutionResponse, error) {
	in, err := s.store.RetireInstitution(ctx, req.GetId(), req.GetReason(), req.GetExpectedRevision())
	if err != nil {
		return nil, err
	}
	return &registryv1.RetireInstitutionResponse{Institution: in}, nil
}

// WatchInstitutions implements RegistryService.
func (s *Server) WatchInstitutions(req *registryv1.WatchInstitutionsRequest, stream grpc.ServerStreamingServer[registryv1.WatchInstitutionsResponse]) error {
	sub, snap := s.idx.Subscribe(req.GetIncludeSnapshot())
	defer s.idx.Unsubscribe(sub)
	if req.GetIncludeSnapshot() {
		for _, in := range snap {
			if err := stream.Send(&registryv1.WatchInstitutionsResponse{Type: registryv1.ChangeType_CHANGE_TYPE_SNAPSHOT, Institution: in}); err != nil {
				return err
			}
		}
		if err := stream.Send(&registryv1.WatchInstitutionsResponse{SnapshotDone: true}); err != nil {
			return err
		}
	}
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case <-s.stopping:
			return fault.Unavailablef("registry is shutting down; reconnect to another replica")
		case c, ok := <-sub.C:
			if !ok {
				return fault.Unavailablef("%v", sub.Err())
			}
			if err := stream.Send(&registryv1.WatchInstitutionsResponse{Type: c.Type, Institution: c.Institution}); err != nil {
				return err
			}
		}
	}
}
