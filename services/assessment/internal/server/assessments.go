package server

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"github.com/predikat-id/predikat/pkg/platform/pagetoken"
	"google.golang.org/protobuf/proto"
)

// GetAssessment implements AssessmentService.
func (s *Server) GetAssessment(ctx context.Context, req *assessmentv1.GetAssessmentRequest) (*assessmentv1.GetAssessmentResponse, error) {
	r, err := s.store.RoundState(ctx, req.GetRoundId())
	if err != nil {
		return nil, err
	}
	a, err := s.store.Assessment(ctx, r.GetSchemeId(), r.GetYear(), r.GetId(), req.GetInstitutionId(), req.GetRevision())
	if err != nil {
		return nil, err
	}
	return &assessmentv1.GetAssessmentResponse{Assessment: a}, nil
}

// ListAssessments implements AssessmentService.
func (s *Server) ListAssessments(ctx context.Context, req *assessmentv1.ListAssessmentsRequest) (*assessmentv1.ListAssessmentsResponse, error) {
	if _, err := s.store.RoundState(ctx, req.GetRoundId()); err != nil {
		return nil, err
	}
	filter := proto.Clone(req).(*assessmentv1.ListAssessmentsRequest)
	filter.PageSize, filter.PageToken = 0, ""
	fp := pagetoken.Fingerprint(filter)
	after, err := pagetoken.Decode(req.GetPageToken(), fp)
	if err != nil {
		return nil, err
	}
	bands := make([]string, len(req.GetBandCodes()))
	for i, b := range req.GetBandCodes() {
		bands[i] = strings.ToUpper(b)
	}
	page, more := s.store.Records(req.GetRoundId(), after, pageSize(req.GetPageSize()), func(a *assessmentv1.Assessment) bool {
		return (len(req.GetKinds()) == 0 || slices.Contains(req.GetKinds(), a.GetInstitution().GetKind())) &&
			(req.GetProvinceCode() == "" || a.GetInstitution().GetProvinceCode() == req.GetProvinceCode()) &&
			(len(bands) == 0 || slices.Contains(bands, strings.ToUpper(a.GetBandCode()))) &&
			(len(req.GetBases()) == 0 || slices.Contains(req.GetBases(), a.GetBasis()))
	})
	resp := &assessmentv1.ListAssessmentsResponse{Assessments: page}
	if more {
		resp.NextPageToken = pagetoken.Encode(fp, page[len(page)-1].GetInstitutionId())
	}
	return resp, nil
}

// ListInstitutionHistory implements AssessmentService.
func (s *Server) ListInstitutionHistory(_ context.Context, req *assessmentv1.ListInstitutionHistoryRequest) (*assessmentv1.ListInstitutionHistoryResponse, error) {
	filter := proto.Clone(req).(*assessmentv1.ListInstitutionHistoryRequest)
	filter.PageSize, filter.PageToken = 0, ""
	fp := pagetoken.Fingerprint(filter)
	after, err := pagetoken.Decode(req.GetPageToken(), fp)
	if err != nil {
		return nil, err
	}
	var all []*assessmentv1.Assessment
	for _, a := range s.store.History(req.GetInstitutionId()) {
		if (req.GetSchemeId() == "" || a.GetSchemeId() == req.GetSchemeId()) &&
			(req.GetYearFrom() == 0 || a.GetYear() >= req.GetYearFrom()) && (req.GetYearTo() == 0 || a.GetYear() <= req.GetYearTo()) {
			all = append(all, a)
		}
	}
	key := func(a *assessmentv1.Assessment) string {
		return fmt.Sprintf("%04d|%s", 9999-a.GetYear(), a.GetSchemeId())
	}
	sort.Slice(all, func(i, j int) bool { return key(all[i]) < key(all[j]) })
	page, more := pageOf(all, key, after, pageSize(req.GetPageSize()))
	resp := &assessmentv1.ListInstitutionHistoryResponse{Assessments: page}
	if more {
		resp.NextPageToken = pagetoken.Encode(fp, key(page[len(page)-1]))
	}
	return resp, nil
}

// ListAssessmentRevisions implements AssessmentService.
func (s *Server) ListAssessmentRevisions(ctx context.Context, req *assessmentv1.ListAssessmentRevisionsRequest) (*assessmentv1.ListAssessmentRevisionsResponse, error) {
	r, err := s.store.RoundState(ctx, req.GetRoundId())
	if err != nil {
		return nil, err
	}
	filter := proto.Clone(req).(*assessmentv1.ListAssessmentRevisionsRequest)
	filter.PageSize, filter.PageToken = 0, ""
	fp := pagetoken.Fingerprint(filter)
	afterTok, err := pagetoken.Decode(req.GetPageToken(), fp)
	if err != nil {
		return nil, err
	}
	after, _ := strconv.ParseUint(afterTok, 10, 64)
	page, more, err := s.store.Revisions(ctx, r.GetSchemeId(), r.GetYear(), req.GetInstitutionId(), after, pageSize(req.GetPageSize()))
	if err != nil {
		return nil, err
	}
	if len(page) == 0 && after == 0 {
		if _, err := s.store.Assessment(ctx, r.GetSchemeId(), r.GetYear(), r.GetId(), req.GetInstitutionId(), 0); err != nil {
			return nil, err
		}
	}
	resp := &assessmentv1.ListAssessmentRevisionsResponse{Assessments: page}
	if more {
		resp.NextPageToken = pagetoken.Encode(fp, strconv.FormatUint(page[len(page)-1].GetRevision(), 10))
	}
	return resp, nil
}
