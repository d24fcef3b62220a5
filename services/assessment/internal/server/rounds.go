package server

import (
	"context"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"github.com/predikat-id/predikat/services/assessment/internal/app"
	"github.com/predikat-id/predikat/services/assessment/internal/convert"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

// CreateRound implements AssessmentService.
func (s *Server) CreateRound(ctx context.Context, req *assessmentv1.CreateRoundRequest) (*assessmentv1.CreateRoundResponse, error) {
	r, err := s.app.CreateRound.Handle(ctx, app.CreateRound{
		SchemeID: req.GetSchemeId(), SchemeVersion: req.GetSchemeVersion(), Year: req.GetYear(), Title: req.GetTitle(),
		CollectionStart: req.GetCollectionStart(), CollectionEnd: req.GetCollectionEnd(), Notes: req.GetNotes(), By: actor(ctx),
	})
	if err != nil {
		return nil, err
	}
	return &assessmentv1.CreateRoundResponse{Round: convert.RoundToProto(r)}, nil
}

// GetRound implements AssessmentService.
func (s *Server) GetRound(ctx context.Context, req *assessmentv1.GetRoundRequest) (*assessmentv1.GetRoundResponse, error) {
	r, err := s.app.Queries.Round(ctx, req.GetRoundId())
	if err != nil {
		return nil, err
	}
	return &assessmentv1.GetRoundResponse{Round: convert.RoundToProto(r)}, nil
}

// ListRounds implements AssessmentService.
func (s *Server) ListRounds(ctx context.Context, req *assessmentv1.ListRoundsRequest) (*assessmentv1.ListRoundsResponse, error) {
	p, fp, err := page(req, func(r *assessmentv1.ListRoundsRequest) { r.PageSize, r.PageToken = 0, "" })
	if err != nil {
		return nil, err
	}
	f := app.RoundFilter{SchemeID: req.GetSchemeId(), Year: req.GetYear()}
	for _, st := range req.GetStates() {
		f.States = append(f.States, model.RoundState(st))
	}
	got, more, err := s.app.Queries.Rounds(ctx, f, p)
	if err != nil {
		return nil, err
	}
	resp := &assessmentv1.ListRoundsResponse{NextPageToken: nextToken(fp, more, func() string { return app.RoundKey(got[len(got)-1]) })}
	for _, r := range got {
		resp.Rounds = append(resp.Rounds, convert.RoundToProto(r))
	}
	return resp, nil
}

// CloseRound implements AssessmentService.
func (s *Server) CloseRound(ctx context.Context, req *assessmentv1.CloseRoundRequest) (*assessmentv1.CloseRoundResponse, error) {
	r, err := s.app.CloseRound.Handle(ctx, app.CloseRound{RoundID: req.GetRoundId(), Actor: actor(ctx)})
	if err != nil {
		return nil, err
	}
	return &assessmentv1.CloseRoundResponse{Round: convert.RoundToProto(r)}, nil
}

// ReopenRound implements AssessmentService.
func (s *Server) ReopenRound(ctx context.Context, req *assessmentv1.ReopenRoundRequest) (*assessmentv1.ReopenRoundResponse, error) {
	r, err := s.app.ReopenRound.Handle(ctx, app.ReopenRound{RoundID: req.GetRoundId(), Reason: req.GetReason(), Actor: actor(ctx)})
	if err != nil {
		return nil, err
	}
	return &assessmentv1.ReopenRoundResponse{Round: convert.RoundToProto(r)}, nil
}

// PublishRound implements AssessmentService.
func (s *Server) PublishRound(ctx context.Context, req *assessmentv1.PublishRoundRequest) (*assessmentv1.PublishRoundResponse, error) {
	res, err := s.app.PublishRound.Handle(ctx, app.PublishRound{
		RoundID: req.GetRoundId(), Ceremony: convert.CeremonyFromProto(req.GetCeremony()), PresentedBy: convert.PresentedByFromProto(req.GetPresentedBy()),
		ForceReason: req.GetForceReason(), Actor: actor(ctx),
	})
	if err != nil {
		return nil, err
	}
	return &assessmentv1.PublishRoundResponse{Round: convert.RoundToProto(res.Round), AwardsGranted: res.AwardsGranted, AwardsExisting: res.AwardsExisting}, nil
}
