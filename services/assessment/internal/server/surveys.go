package server

import (
	"context"
	"errors"
	"io"
	"strings"

	"buf.build/go/protovalidate"
	"google.golang.org/grpc"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/app"
	"github.com/predikat-id/predikat/services/assessment/internal/convert"
)

// Surveys implements predikat.assessment.v1.SurveyService.
type Surveys struct {
	assessmentv1.UnimplementedSurveyServiceServer
	app       *app.App
	validator protovalidate.Validator
}

// NewSurveys returns the survey handlers.
func NewSurveys(a *app.App) (*Surveys, error) {
	v, err := protovalidate.New()
	if err != nil {
		return nil, err
	}
	return &Surveys{app: a, validator: v}, nil
}

func (s *Surveys) surveys() (*app.Surveys, error) {
	if s.app.Surveys == nil {
		return nil, fault.Preconditionf("this assessment service takes no surveys")
	}
	return s.app.Surveys, nil
}

// SubmitSurveyResponses implements SurveyService: each message's responses
// are checked one by one against their contract (an invalid one is refused
// with its index, the others go on), then handed to the submission.
func (s *Surveys) SubmitSurveyResponses(stream grpc.ClientStreamingServer[assessmentv1.SubmitSurveyResponsesRequest, assessmentv1.SubmitSurveyResponsesResponse]) error {
	sv, err := s.surveys()
	if err != nil {
		return err
	}
	ctx := stream.Context()
	sess := sv.Begin(actor(ctx))
	for received := false; ; received = true {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) && !received {
			return fault.Invalidf("the stream carried no message: send at least one message with the responses of a unit")
		}
		if errors.Is(err, io.EOF) {
			res, err := sess.Finish(ctx)
			if err != nil {
				return err
			}
			return stream.SendAndClose(submitResultToProto(res))
		}
		if err != nil {
			return err
		}
		if err := sess.Add(ctx, s.chunk(req)); err != nil {
			return err
		}
	}
}

func (s *Surveys) chunk(req *assessmentv1.SubmitSurveyResponsesRequest) app.SurveyChunk {
	c := app.SurveyChunk{RoundID: req.GetRoundId(), UnitID: req.GetUnitId(), Synthetic: req.GetSynthetic(), Responses: make([]app.SurveyInput, len(req.GetResponses()))}
	for i, r := range req.GetResponses() {
		in := app.SurveyInput{ResponseID: r.GetResponseId(), CollectionDate: r.GetCollectionDate(), Answers: r.GetAnswers(), Elements: req.GetElementCodes()}
		if p := r.GetProfile(); p != nil {
			in.Profile = app.RespondentProfile{AgeBand: int32(p.GetAgeBand()), Sex: int32(p.GetSex()), Education: int32(p.GetEducation()), Occupation: int32(p.GetOccupation())}
		}
		// The contract's rules decide; a response the plain check passes
		// passes them too (a test holds the two together), so protovalidate
		// runs only on the few that may not: it was half the service's
		// CPU per response.
		if !plainlyValid(r) {
			if err := s.validator.Validate(r); err != nil {
				in.Invalid = violations(err)
			}
		}
		c.Responses[i] = in
	}
	return c
}

// plainlyValid is a check no looser than the contract's rules on
// SurveyResponse: when it passes, protovalidate would too.
func plainlyValid(r *assessmentv1.SurveyResponse) bool {
	answers := r.GetAnswers()
	if !plainID(r.GetResponseId()) || !plainDate(r.GetCollectionDate()) || len(answers) < 1 || len(answers) > 64 {
		return false
	}
	for _, a := range answers {
		if a < 1 || a > 4 {
			return false
		}
	}
	if p := r.GetProfile(); p != nil {
		_, age := assessmentv1.AgeBand_name[int32(p.GetAgeBand())]
		_, sex := assessmentv1.Sex_name[int32(p.GetSex())]
		_, edu := assessmentv1.Education_name[int32(p.GetEducation())]
		_, job := assessmentv1.Occupation_name[int32(p.GetOccupation())]
		return age && sex && edu && job
	}
	return true
}

// plainID: ^[A-Za-z0-9._:/-]{1,64}$.
func plainID(id string) bool {
	return every(id, 1, 64, func(c byte) bool {
		return letter(c) || digit(c) || c == '.' || c == '_' || c == ':' || c == '/' || c == '-'
	})
}

// plainDate: ^[0-9]{4}-[0-9]{2}-[0-9]{2}$.
func plainDate(d string) bool {
	if len(d) != 10 {
		return false
	}
	for i := 0; i < len(d); i++ {
		if dash := i == 4 || i == 7; dash != (d[i] == '-') || !dash && !digit(d[i]) {
			return false
		}
	}
	return true
}

// violations is a validation error on one line: "field: rule; field: rule".
func violations(err error) string {
	var ve *protovalidate.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	parts := make([]string, len(ve.Violations))
	for i, v := range ve.Violations {
		parts[i] = v.String()
	}
	return strings.Join(parts, "; ")
}

func submitResultToProto(r app.SubmitResult) *assessmentv1.SubmitSurveyResponsesResponse {
	out := &assessmentv1.SubmitSurveyResponsesResponse{Accepted: r.Accepted, Duplicates: r.Duplicates, Refused: r.Refused}
	for _, f := range r.Refusals {
		out.Refusals = append(out.Refusals, &assessmentv1.SurveyRefusal{Index: f.Index, UnitId: f.UnitID, ResponseId: f.ResponseID, Reason: f.Reason})
	}
	return out
}

// DefineUnitSurvey implements SurveyService.
func (s *Surveys) DefineUnitSurvey(ctx context.Context, req *assessmentv1.DefineUnitSurveyRequest) (*assessmentv1.DefineUnitSurveyResponse, error) {
	sv, err := s.surveys()
	if err != nil {
		return nil, err
	}
	def, created, err := sv.DefineUnitSurvey(ctx, app.DefineUnitSurvey{
		RoundID: req.GetRoundId(), UnitID: req.GetUnitId(), Survey: convert.SurveyDefFromProto(req.GetSurvey()), By: actor(ctx),
	})
	if err != nil {
		return nil, err
	}
	return &assessmentv1.DefineUnitSurveyResponse{Created: created, Survey: convert.SurveyDefToProto(def)}, nil
}

// GetSurveyResult implements SurveyService.
func (s *Surveys) GetSurveyResult(ctx context.Context, req *assessmentv1.GetSurveyResultRequest) (*assessmentv1.GetSurveyResultResponse, error) {
	sv, err := s.surveys()
	if err != nil {
		return nil, err
	}
	r, err := sv.Result(ctx, req.GetRoundId(), req.GetUnitId())
	if err != nil {
		return nil, err
	}
	return &assessmentv1.GetSurveyResultResponse{Result: surveyResultToProto(r)}, nil
}

// ListSurveyResults implements SurveyService.
func (s *Surveys) ListSurveyResults(ctx context.Context, req *assessmentv1.ListSurveyResultsRequest) (*assessmentv1.ListSurveyResultsResponse, error) {
	sv, err := s.surveys()
	if err != nil {
		return nil, err
	}
	p, fp, err := page(req, func(r *assessmentv1.ListSurveyResultsRequest) { r.PageSize, r.PageToken = 0, "" })
	if err != nil {
		return nil, err
	}
	rs, more, err := sv.Results(ctx, req.GetRoundId(), req.GetProvinceCode(), p.After, p.Size)
	if err != nil {
		return nil, err
	}
	out := &assessmentv1.ListSurveyResultsResponse{}
	for _, r := range rs {
		out.Results = append(out.Results, surveyResultToProto(r))
	}
	out.NextPageToken = nextToken(fp, more, func() string { return rs[len(rs)-1].UnitID })
	return out, nil
}

func surveyResultToProto(r app.SurveyResult) *assessmentv1.SurveyResult {
	out := &assessmentv1.SurveyResult{
		RoundId: r.RoundID, UnitId: r.UnitID, ProvinceCode: r.ProvinceCode, BandCode: r.BandCode, BandLabel: r.BandLabel,
		Population: r.Population, RequiredSample: r.RequiredSample, SampleBelowGuidance: r.SampleShort,
		UnitSurvey: r.UnitSurvey, RecordedRevision: r.RecordedRevision, Position: r.Position, Synthetic: r.Synthetic,
	}
	if r.Record != nil {
		out.Record = convert.AssessmentToProto(r.Record)
	}
	for i, e := range r.Survey.Elements {
		er := &assessmentv1.SurveyElementResult{Code: e.Code, Weight: e.Weight}
		if i < len(r.Counts) {
			c := r.Counts[i]
			er.Counts = []int64{c[0], c[1], c[2], c[3]}
		}
		if r.Summary != nil && i < len(r.Summary.Elements) {
			er.Total = r.Summary.Elements[i].Total
			er.Mean = r.Summary.Elements[i].Mean.StringFixed(r.Summary.Precision)
		}
		out.Elements = append(out.Elements, er)
	}
	if r.Summary != nil {
		out.Respondents = r.Summary.Respondents
		out.Index = r.Summary.IndexString()
	}
	return out
}
