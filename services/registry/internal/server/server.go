// Package server holds the RegistryService gRPC handlers. They only
// translate: protovalidate has already checked each request's shape
// (interceptor), each handler turns its request into one use case's command
// or query (package app), runs it, and turns the result into the response.
// Faults carry their own gRPC codes, so errors pass through.
package server

import (
	"context"

	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/auth"
	"github.com/predikat-id/predikat/pkg/platform/pagetoken"
	"github.com/predikat-id/predikat/services/registry/internal/app"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
	"github.com/predikat-id/predikat/services/registry/internal/pbconv"
	"github.com/predikat-id/predikat/services/registry/internal/region"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Server implements predikat.registry.v1.RegistryService.
type Server struct {
	registryv1.UnimplementedRegistryServiceServer
	app *app.Application
}

// New returns the handlers over the application.
func New(a *app.Application) *Server {
	return &Server{app: a}
}

// CreateRegion implements RegistryService.
func (s *Server) CreateRegion(ctx context.Context, req *registryv1.CreateRegionRequest) (*registryv1.CreateRegionResponse, error) {
	r, err := s.app.CreateRegion.Handle(ctx, app.CreateRegion{Code: req.GetCode(), Name: req.GetName(), Actor: auth.Actor(ctx)})
	if err != nil {
		return nil, err
	}
	return &registryv1.CreateRegionResponse{Region: pbconv.Region(r)}, nil
}

// GetRegion implements RegistryService.
func (s *Server) GetRegion(ctx context.Context, req *registryv1.GetRegionRequest) (*registryv1.GetRegionResponse, error) {
	r, err := s.app.GetRegion.Handle(ctx, app.GetRegion{Code: req.GetCode()})
	if err != nil {
		return nil, err
	}
	return &registryv1.GetRegionResponse{Region: pbconv.Region(r)}, nil
}

// ListRegions implements RegistryService.
func (s *Server) ListRegions(ctx context.Context, req *registryv1.ListRegionsRequest) (*registryv1.ListRegionsResponse, error) {
	rs := s.app.ListRegions.Handle(ctx, app.ListRegions{Level: region.Level(req.GetLevel()), ProvinceCode: req.GetProvinceCode()})
	return &registryv1.ListRegionsResponse{Regions: pbconv.Regions(rs)}, nil
}

// CreateInstitution implements RegistryService.
func (s *Server) CreateInstitution(ctx context.Context, req *registryv1.CreateInstitutionRequest) (*registryv1.CreateInstitutionResponse, error) {
	in := pbconv.InstitutionFromPB(req.GetInstitution())
	if in == nil {
		in = &institution.Institution{}
	}
	created, err := s.app.CreateInstitution.Handle(ctx, app.CreateInstitution{
		ID: req.GetInstitutionId(), Name: in.Name, Kind: in.Kind, RegionCode: in.RegionCode, ParentID: in.ParentID,
		Head: in.Head, Aliases: in.Aliases, ExternalIDs: in.ExternalIDs, YearlyServiceUsers: in.YearlyServiceUsers,
		RequestID: req.GetRequestId(), Actor: auth.Actor(ctx),
	})
	if err != nil {
		return nil, err
	}
	return &registryv1.CreateInstitutionResponse{Institution: pbconv.Institution(created)}, nil
}

// GetInstitution implements RegistryService.
func (s *Server) GetInstitution(ctx context.Context, req *registryv1.GetInstitutionRequest) (*registryv1.GetInstitutionResponse, error) {
	in, err := s.app.GetInstitution.Handle(ctx, app.GetInstitution{ID: req.GetId()})
	if err != nil {
		return nil, err
	}
	return &registryv1.GetInstitutionResponse{Institution: pbconv.Institution(in)}, nil
}

// BatchGetInstitutions implements RegistryService.
func (s *Server) BatchGetInstitutions(ctx context.Context, req *registryv1.BatchGetInstitutionsRequest) (*registryv1.BatchGetInstitutionsResponse, error) {
	ins, err := s.app.BatchGetInstitutions.Handle(ctx, app.BatchGetInstitutions{IDs: req.GetIds()})
	if err != nil {
		return nil, err
	}
	return &registryv1.BatchGetInstitutionsResponse{Institutions: pbconv.Institutions(ins)}, nil
}

// ListInstitutions implements RegistryService. The page token is the order
// key of the last institution sent, bound to the filter it was issued for.
func (s *Server) ListInstitutions(ctx context.Context, req *registryv1.ListInstitutionsRequest) (*registryv1.ListInstitutionsResponse, error) {
	filter := proto.Clone(req).(*registryv1.ListInstitutionsRequest)
	filter.PageSize, filter.PageToken = 0, ""
	fp := pagetoken.Fingerprint(filter)
	after, err := pagetoken.Decode(req.GetPageToken(), fp)
	if err != nil {
		return nil, err
	}
	size := int(req.GetPageSize())
	if size == 0 {
		size = pagetoken.DefaultPageSize
	}
	page, err := s.app.ListInstitutions.Handle(ctx, app.ListInstitutions{
		Kinds: pbconv.Kinds(req.GetKinds()), RegionCode: req.GetRegionCode(),
		Status: institution.Status(req.GetStatus()), Query: req.GetQuery(),
		After: after, Limit: size,
	})
	if err != nil {
		return nil, err
	}
	resp := &registryv1.ListInstitutionsResponse{Institutions: pbconv.Institutions(page.Institutions)}
	if page.NextAfter != "" {
		resp.NextPageToken = pagetoken.Encode(fp, page.NextAfter)
	}
	return resp, nil
}

// UpdateInstitution implements RegistryService.
func (s *Server) UpdateInstitution(ctx context.Context, req *registryv1.UpdateInstitutionRequest) (*registryv1.UpdateInstitutionResponse, error) {
	in, err := s.app.UpdateInstitution.Handle(ctx, app.UpdateInstitution{
		Changes: pbconv.InstitutionFromPB(req.GetInstitution()), Paths: req.GetUpdateMask().GetPaths(),
		ExpectedRevision: req.GetExpectedRevision(), Actor: auth.Actor(ctx),
	})
	if err != nil {
		return nil, err
	}
	return &registryv1.UpdateInstitutionResponse{Institution: pbconv.Institution(in)}, nil
}

// RetireInstitution implements RegistryService.
func (s *Server) RetireInstitution(ctx context.Context, req *registryv1.RetireInstitutionRequest) (*registryv1.RetireInstitutionResponse, error) {
	in, err := s.app.RetireInstitution.Handle(ctx, app.RetireInstitution{
		ID: req.GetId(), Reason: req.GetReason(), ExpectedRevision: req.GetExpectedRevision(), Actor: auth.Actor(ctx),
	})
	if err != nil {
		return nil, err
	}
	return &registryv1.RetireInstitutionResponse{Institution: pbconv.Institution(in)}, nil
}

// WatchInstitutions implements RegistryService: the use case runs the
// stream, the handler only translates each event into a message.
func (s *Server) WatchInstitutions(req *registryv1.WatchInstitutionsRequest, stream grpc.ServerStreamingServer[registryv1.WatchInstitutionsResponse]) error {
	send := func(e app.WatchEvent) error {
		if e.SnapshotDone {
			return stream.Send(&registryv1.WatchInstitutionsResponse{SnapshotDone: true})
		}
		return stream.Send(&registryv1.WatchInstitutionsResponse{
			Type: pbconv.ChangeType(e.Change.Type), Institution: pbconv.Institution(e.Change.Institution),
		})
	}
	return s.app.WatchInstitutions.Handle(stream.Context(), app.WatchInstitutions{IncludeSnapshot: req.GetIncludeSnapshot()}, send)
}
