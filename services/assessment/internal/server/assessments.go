package server

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"github.com/predikat-id/predikat/pkg/platform/auth"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/app"
	"github.com/predikat-id/predikat/services/assessment/internal/convert"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
)

// ListSchemes implements AssessmentService.
func (s *Server) ListSchemes(_ context.Context, req *assessmentv1.ListSchemesRequest) (*assessmentv1.ListSchemesResponse, error) {
	var out []*assessmentv1.Scheme
	for _, v := range s.app.Queries.Schemes(req.GetSchemeId(), req.GetYear(), model.Kind(req.GetEligibleKind())) {
		out = append(out, v.Proto())
	}
	return &assessmentv1.ListSchemesResponse{Schemes: out}, nil
}

// GetScheme implements AssessmentService.
func (s *Server) GetScheme(_ context.Context, req *assessmentv1.GetSchemeRequest) (*assessmentv1.GetSchemeResponse, error) {
	v, err := s.app.Queries.Scheme(app.SchemeQuery{SchemeID: req.GetSchemeId(), Version: req.GetVersion(), Year: req.GetYear()})
	if err != nil {
		return nil, err
	}
	return &assessmentv1.GetSchemeResponse{Scheme: v.Proto()}, nil
}

// BatchRecordAssessments implements AssessmentService.
func (s *Server) BatchRecordAssessments(ctx context.Context, req *assessmentv1.BatchRecordAssessmentsRequest) (*assessmentv1.BatchRecordAssessmentsResponse, error) {
	cmd := app.BatchRecord{RoundID: req.GetRoundId(), Records: make([]app.RecordAssessment, len(req.GetRecords()))}
	by := actor(ctx)
	for i, r := range req.GetRecords() {
		cmd.Records[i] = app.RecordAssessment{RoundID: req.GetRoundId(), InstitutionID: r.GetInstitutionId(),
			Input: convert.InputFromProto(r.GetInput()), RequestID: r.GetRequestId(), By: by}
	}
	res, err := s.app.BatchRecord.Handle(ctx, cmd)
	if err != nil {
		return nil, err
	}
	out := &assessmentv1.BatchRecordAssessmentsResponse{Results: make([]*assessmentv1.RecordAssessmentResponse, len(res))}
	for i, r := range res {
		out.Results[i] = &assessmentv1.RecordAssessmentResponse{Assessment: convert.AssessmentToProto(r.Assessment), Created: r.Created}
	}
	return out, nil
}

// RegisterSchemeVersion implements AssessmentService.
func (s *Server) RegisterSchemeVersion(ctx context.Context, req *assessmentv1.RegisterSchemeVersionRequest) (*assessmentv1.RegisterSchemeVersionResponse, error) {
	p := proto.Clone(req.GetScheme()).(*assessmentv1.Scheme)
	p.RegisteredBy, p.RegisterTime = actor(ctx), timestamppb.Now()
	v, err := scheme.NewVersion(p, "scheme")
	if err != nil {
		var de *scheme.DataError
		if errors.As(err, &de) {
			return nil, fault.Invalidf("scheme.%s: %s", strings.TrimPrefix(de.Field, "."), de.Reason)
		}
		return nil, err
	}
	res, err := s.app.RegisterScheme.Handle(ctx, app.RegisterScheme{Version: v})
	if err != nil {
		return nil, err
	}
	return &assessmentv1.RegisterSchemeVersionResponse{Scheme: res.Version.Proto(), Created: res.Created}, nil
}

// ComputeAssessment implements AssessmentService.
func (s *Server) ComputeAssessment(_ context.Context, req *assessmentv1.ComputeAssessmentRequest) (*assessmentv1.ComputeAssessmentResponse, error) {
	c, err := s.app.Queries.Compute(app.SchemeQuery{SchemeID: req.GetSchemeId(), Version: req.GetVersion(), Year: req.GetYear()},
		convert.InputFromProto(req.GetInput()))
	if err != nil {
		return nil, err
	}
	r := c.Result
	return &assessmentv1.ComputeAssessmentResponse{
		SchemeVersion: c.SchemeVersion, Basis: assessmentv1.AssessmentBasis(r.Basis), WeightedTotal: r.WeightedTotal, Total: r.Total,
		BandCode: r.BandCode, BandLabel: r.BandLabel, BandZone: assessmentv1.BandZone(r.BandZone),
	}, nil
}

// RecordAssessment implements AssessmentService.
func (s *Server) RecordAssessment(ctx context.Context, req *assessmentv1.RecordAssessmentRequest) (*assessmentv1.RecordAssessmentResponse, error) {
	res, err := s.app.RecordAssessment.Handle(ctx, app.RecordAssessment{
		RoundID: req.GetRoundId(), InstitutionID: req.GetInstitutionId(), Input: convert.InputFromProto(req.GetInput()),
		CorrectsRevision: req.GetCorrectsRevision(), Reason: req.GetReason(), RequestID: req.GetRequestId(), By: actor(ctx),
	})
	if err != nil {
		return nil, err
	}
	return &assessmentv1.RecordAssessmentResponse{Assessment: convert.AssessmentToProto(res.Assessment), Created: res.Created}, nil
}

// CorrectPublishedAssessment implements AssessmentService.
func (s *Server) CorrectPublishedAssessment(ctx context.Context, req *assessmentv1.CorrectPublishedAssessmentRequest) (*assessmentv1.CorrectPublishedAssessmentResponse, error) {
	res, err := s.app.CorrectAssessment.Handle(ctx, app.RecordAssessment{
		RoundID: req.GetRoundId(), InstitutionID: req.GetInstitutionId(), Input: convert.InputFromProto(req.GetInput()),
		CorrectsRevision: req.GetCorrectsRevision(), Reason: req.GetReason(), RequestID: req.GetRequestId(), By: actor(ctx),
	})
	if err != nil {
		return nil, err
	}
	return &assessmentv1.CorrectPublishedAssessmentResponse{
		Assessment: convert.AssessmentToProto(res.Assessment), Created: res.Created,
		AwardsGranted: res.AwardsGranted, AwardsRevoked: res.AwardsRevoked,
	}, nil
}

// GetAssessment implements AssessmentService.
func (s *Server) GetAssessment(ctx context.Context, req *assessmentv1.GetAssessmentRequest) (*assessmentv1.GetAssessmentResponse, error) {
	a, err := s.app.Queries.Assessment(ctx, audience(ctx), req.GetRoundId(), req.GetInstitutionId(), req.GetRevision())
	if err != nil {
		return nil, err
	}
	return &assessmentv1.GetAssessmentResponse{Assessment: convert.AssessmentToProto(a)}, nil
}

// ListAssessments implements AssessmentService.
func (s *Server) ListAssessments(ctx context.Context, req *assessmentv1.ListAssessmentsRequest) (*assessmentv1.ListAssessmentsResponse, error) {
	p, fp, err := page(req, func(r *assessmentv1.ListAssessmentsRequest) { r.PageSize, r.PageToken = 0, "" })
	if err != nil {
		return nil, err
	}
	f := app.AssessmentFilter{Audience: audience(ctx), RoundID: req.GetRoundId(), ProvinceCode: req.GetProvinceCode(), BandCodes: req.GetBandCodes()}
	for _, k := range req.GetKinds() {
		f.Kinds = append(f.Kinds, model.Kind(k))
	}
	for _, b := range req.GetBases() {
		f.Bases = append(f.Bases, model.Basis(b))
	}
	got, more, err := s.app.Queries.Assessments(ctx, f, p)
	if err != nil {
		return nil, err
	}
	return &assessmentv1.ListAssessmentsResponse{
		Assessments:   convert.AssessmentsToProto(got),
		NextPageToken: nextToken(fp, more, func() string { return got[len(got)-1].InstitutionID }),
	}, nil
}

// ListInstitutionHistory implements AssessmentService.
func (s *Server) ListInstitutionHistory(ctx context.Context, req *assessmentv1.ListInstitutionHistoryRequest) (*assessmentv1.ListInstitutionHistoryResponse, error) {
	p, fp, err := page(req, func(r *assessmentv1.ListInstitutionHistoryRequest) { r.PageSize, r.PageToken = 0, "" })
	if err != nil {
		return nil, err
	}
	got, more, err := s.app.Queries.History(ctx, app.HistoryFilter{Audience: audience(ctx),
		InstitutionID: req.GetInstitutionId(), SchemeID: req.GetSchemeId(), YearFrom: req.GetYearFrom(), YearTo: req.GetYearTo(),
	}, p)
	if err != nil {
		return nil, err
	}
	return &assessmentv1.ListInstitutionHistoryResponse{
		Assessments:   convert.AssessmentsToProto(got),
		NextPageToken: nextToken(fp, more, func() string { return app.HistoryKey(got[len(got)-1]) }),
	}, nil
}

// ListAssessmentRevisions implements AssessmentService.
func (s *Server) ListAssessmentRevisions(ctx context.Context, req *assessmentv1.ListAssessmentRevisionsRequest) (*assessmentv1.ListAssessmentRevisionsResponse, error) {
	p, fp, err := page(req, func(r *assessmentv1.ListAssessmentRevisionsRequest) { r.PageSize, r.PageToken = 0, "" })
	if err != nil {
		return nil, err
	}
	after, _ := strconv.ParseUint(p.After, 10, 64)
	got, more, err := s.app.Queries.Revisions(ctx, audience(ctx), req.GetRoundId(), req.GetInstitutionId(), after, p.Size)
	if err != nil {
		return nil, err
	}
	return &assessmentv1.ListAssessmentRevisionsResponse{
		Assessments:   convert.AssessmentsToProto(got),
		NextPageToken: nextToken(fp, more, func() string { return strconv.FormatUint(got[len(got)-1].Revision, 10) }),
	}, nil
}

// audience is who the caller is to the read queries: a caller the policy
// admitted by a published-only permission alone sees published rounds only.
func audience(ctx context.Context) app.Audience {
	lacking, only := auth.PublishedOnly(ctx)
	return app.Audience{PublishedOnly: only, Lacking: lacking}
}
