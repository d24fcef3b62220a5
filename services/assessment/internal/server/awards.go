package server

import (
	"context"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"github.com/predikat-id/predikat/services/assessment/internal/app"
	"github.com/predikat-id/predikat/services/assessment/internal/convert"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

// GrantAward implements AssessmentService.
func (s *Server) GrantAward(ctx context.Context, req *assessmentv1.GrantAwardRequest) (*assessmentv1.GrantAwardResponse, error) {
	res, err := s.app.GrantAward.Handle(ctx, app.GrantAward{
		InstitutionID: req.GetInstitutionId(), Title: req.GetTitle(), Ceremony: convert.CeremonyFromProto(req.GetCeremony()),
		PresentedBy: convert.PresentedByFromProto(req.GetPresentedBy()), SchemeID: req.GetSchemeId(), Year: req.GetYear(),
		Score: req.GetScore(), BandCode: req.GetBandCode(), Rank: req.GetRank(), PeerGroup: req.GetPeerGroup(), Scope: req.GetScope(),
		Notes: req.GetNotes(), Source: convert.SourceFromProto(req.GetSource()), RequestID: req.GetRequestId(), By: actor(ctx),
	})
	if err != nil {
		return nil, err
	}
	return &assessmentv1.GrantAwardResponse{Award: convert.AwardToProto(res.Award), Created: res.Created}, nil
}

// RevokeAward implements AssessmentService.
func (s *Server) RevokeAward(ctx context.Context, req *assessmentv1.RevokeAwardRequest) (*assessmentv1.RevokeAwardResponse, error) {
	a, err := s.app.RevokeAward.Handle(ctx, app.RevokeAward{AwardID: req.GetAwardId(), Reason: req.GetReason(), By: actor(ctx)})
	if err != nil {
		return nil, err
	}
	return &assessmentv1.RevokeAwardResponse{Award: convert.AwardToProto(a)}, nil
}

// GetAward implements AssessmentService.
func (s *Server) GetAward(_ context.Context, req *assessmentv1.GetAwardRequest) (*assessmentv1.GetAwardResponse, error) {
	a, err := s.app.Queries.Award(req.GetAwardId())
	if err != nil {
		return nil, err
	}
	return &assessmentv1.GetAwardResponse{Award: convert.AwardToProto(a)}, nil
}

// ListAwards implements AssessmentService.
func (s *Server) ListAwards(_ context.Context, req *assessmentv1.ListAwardsRequest) (*assessmentv1.ListAwardsResponse, error) {
	p, fp, err := page(req, func(r *assessmentv1.ListAwardsRequest) { r.PageSize, r.PageToken = 0, "" })
	if err != nil {
		return nil, err
	}
	f := app.AwardFilter{
		InstitutionID: req.GetInstitutionId(), SchemeID: req.GetSchemeId(), RoundID: req.GetRoundId(), Year: req.GetYear(),
		ProvinceCode: req.GetProvinceCode(), CeremonyName: req.GetCeremonyName(), CeremonyDate: req.GetCeremonyDate(),
		State: model.AwardState(req.GetState()),
	}
	for _, k := range req.GetBasisKinds() {
		f.BasisKinds = append(f.BasisKinds, model.AwardBasisKind(k))
	}
	got, more := s.app.Queries.Awards(f, p)
	return &assessmentv1.ListAwardsResponse{
		Awards:        convert.AwardsToProto(got),
		NextPageToken: nextToken(fp, more, func() string { return app.AwardKey(got[len(got)-1]) }),
	}, nil
}
