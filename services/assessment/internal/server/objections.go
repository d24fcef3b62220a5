package server

import (
	"context"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"github.com/predikat-id/predikat/services/assessment/internal/app"
	"github.com/predikat-id/predikat/services/assessment/internal/convert"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Objections implements predikat.assessment.v1.ObjectionService.
type Objections struct {
	assessmentv1.UnimplementedObjectionServiceServer
	app *app.App
}

// NewObjections returns the objection handlers.
func NewObjections(a *app.App) *Objections { return &Objections{app: a} }

// FileObjection implements ObjectionService.
func (s *Objections) FileObjection(ctx context.Context, req *assessmentv1.FileObjectionRequest) (*assessmentv1.FileObjectionResponse, error) {
	res, err := s.app.FileObjection.Handle(ctx, app.FileObjection{
		RoundID: req.GetRoundId(), InstitutionID: req.GetInstitutionId(), AgainstRevision: req.GetAgainstRevision(),
		Reasons: req.GetReasons(), Evidence: req.GetEvidence(), RequestID: req.GetRequestId(), By: actor(ctx),
	})
	if err != nil {
		return nil, err
	}
	return &assessmentv1.FileObjectionResponse{Objection: convert.ObjectionToProto(&res.Objection), Created: res.Created}, nil
}

// GetObjection implements ObjectionService.
func (s *Objections) GetObjection(ctx context.Context, req *assessmentv1.GetObjectionRequest) (*assessmentv1.GetObjectionResponse, error) {
	o, err := s.app.ObjectionQueries.Objection(ctx, req.GetRoundId(), req.GetInstitutionId(), req.GetObjectionId())
	if err != nil {
		return nil, err
	}
	return &assessmentv1.GetObjectionResponse{Objection: convert.ObjectionToProto(&o)}, nil
}

// ListObjections implements ObjectionService.
func (s *Objections) ListObjections(ctx context.Context, req *assessmentv1.ListObjectionsRequest) (*assessmentv1.ListObjectionsResponse, error) {
	q := app.ObjectionQuery{RoundID: req.GetRoundId(), InstitutionID: req.GetInstitutionId()}
	for _, st := range req.GetStates() {
		q.States = append(q.States, model.ObjectionState(st))
	}
	got, err := s.app.ObjectionQueries.Objections(ctx, q)
	if err != nil {
		return nil, err
	}
	resp := &assessmentv1.ListObjectionsResponse{}
	for i := range got.Objections {
		resp.Objections = append(resp.Objections, convert.ObjectionToProto(&got.Objections[i]))
	}
	if !got.WindowEnd.End.IsZero() {
		resp.WindowEnd = timestamppb.New(got.WindowEnd.End)
	}
	return resp, nil
}

// DecideObjection implements ObjectionService.
func (s *Objections) DecideObjection(ctx context.Context, req *assessmentv1.DecideObjectionRequest) (*assessmentv1.DecideObjectionResponse, error) {
	cmd := app.DecideObjection{
		RoundID: req.GetRoundId(), InstitutionID: req.GetInstitutionId(), ObjectionID: req.GetObjectionId(),
		Decision: model.ObjectionState(req.GetDecision()), Reasons: req.GetReasons(), RequestID: req.GetRequestId(), By: actor(ctx),
	}
	if req.GetInput() != nil {
		in := convert.InputFromProto(req.GetInput())
		cmd.Input = &in
	}
	res, err := s.app.DecideObjection.Handle(ctx, cmd)
	if err != nil {
		return nil, err
	}
	return &assessmentv1.DecideObjectionResponse{Objection: convert.ObjectionToProto(&res.Objection), Correction: convert.AssessmentToProto(res.Correction)}, nil
}
