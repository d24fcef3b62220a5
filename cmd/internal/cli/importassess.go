package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"

	"github.com/predikat-id/predikat/cmd/internal/cli/importfile"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// importAssessments records a round's published table in one step. The
// file is checked whole before its first write: every line parsed, every
// institution matched (by id, or by name or alias within kind and region),
// every figure computed by the service (scale, precision, bands, the
// scheme's eligibility), every existing record compared. Any problem is
// listed with its line and nothing is written. Then the lines are
// recorded, each under a request id derived from its content: a run
// stopped part-way (a crash, a kill, a lost connection) is finished by
// running the same command again, and no line is ever counted twice.
func (s *session) importAssessments(ctx context.Context, path, roundID string, dry bool, batch int) error {
	body, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	round, err := s.asm.GetRound(ctx, &assessmentv1.GetRoundRequest{RoundId: roundID})
	if err != nil {
		return err
	}
	r := round.GetRound()
	sch, err := s.asm.GetScheme(ctx, &assessmentv1.GetSchemeRequest{SchemeId: r.GetSchemeId(),
		Selector: &assessmentv1.GetSchemeRequest_Version{Version: r.GetSchemeVersion()}})
	if err != nil {
		return err
	}
	var dims []string
	for _, d := range sch.GetScheme().GetDimensions() {
		dims = append(dims, d.GetCode())
	}
	rows, err := importfile.ParseAssessments(path, bytes.NewReader(body), dims)
	if err != nil {
		return err
	}
	plan, err := s.planAssessments(ctx, r, sch.GetScheme(), rows)
	if err != nil {
		return err
	}
	if dry {
		fmt.Fprintf(s.out, "%s: %d lines checked with the service for %s: %d to record, %d already recorded (nothing written)\n",
			path, len(rows), roundID, len(plan.todo), plan.unchanged)
		return nil
	}
	return s.writeAssessments(ctx, path, roundID, plan, batch)
}

// assessmentPlan is what a checked file will write.
type assessmentPlan struct {
	todo      []importfile.AssessmentRow
	unchanged int
	total     int
}

// planAssessments checks every line against the registry and the service
// and returns the lines still to record.
func (s *session) planAssessments(ctx context.Context, r *assessmentv1.Round, sch *assessmentv1.Scheme, rows []importfile.AssessmentRow) (*assessmentPlan, error) {
	insts, err := s.allInstitutions(ctx)
	if err != nil {
		return nil, err
	}
	existing, err := s.roundRecords(ctx, r.GetId())
	if err != nil {
		return nil, err
	}
	m := importfile.NewMatcher(insts)
	plan := &assessmentPlan{total: len(rows)}
	var problems importfile.Problems
	lineOf := map[string]int{}
	for i := range rows {
		row := &rows[i]
		in, err := m.Match(row)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		if prev, dup := lineOf[row.InstitutionID]; dup {
			problems = append(problems, fmt.Errorf("%s:%d: %s is already on line %d: one line per institution and round", row.File, row.Line, row.InstitutionID, prev))
			continue
		}
		lineOf[row.InstitutionID] = row.Line
		if !slices.Contains(sch.GetEligibleKinds(), in.GetKind()) {
			problems = append(problems, fmt.Errorf("%s:%d: %s is a %s, which %s %s does not assess", row.File, row.Line, row.InstitutionID,
				kindText(in.GetKind()), sch.GetId(), sch.GetVersion()))
			continue
		}
		// The service computes the figure as recording would: scale,
		// precision, band codes, dimension scores.
		if _, err := s.asm.ComputeAssessment(ctx, &assessmentv1.ComputeAssessmentRequest{SchemeId: sch.GetId(),
			Selector: &assessmentv1.ComputeAssessmentRequest_Version{Version: sch.GetVersion()}, Input: row.Input}); err != nil {
			problems = append(problems, fmt.Errorf("%s:%d: %s: %s", row.File, row.Line, row.InstitutionID, errorText(err)))
			continue
		}
		switch have, ok := existing[row.InstitutionID]; {
		case !ok:
			plan.todo = append(plan.todo, *row)
		case have.GetRequestId() == row.RequestID(r.GetId()):
			plan.unchanged++
		default:
			problems = append(problems, fmt.Errorf("%s:%d: %s already has a record with other figures (revision %d, %s %s): a changed line is a correction (predikat assessments correct), not an import",
				row.File, row.Line, row.InstitutionID, have.GetRevision(), orDash(have.GetTotal()), have.GetBandCode()))
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	if r.GetState() != assessmentv1.RoundState_ROUND_STATE_OPEN && len(plan.todo) > 0 {
		return nil, fmt.Errorf("round %s is %s: it takes no records (nothing written)", r.GetId(), roundStateText(r.GetState()))
	}
	return plan, nil
}

// writeAssessments records the planned lines in atomic batches of up to
// batch lines (each stored whole or not at all), with progress, and says
// how far it got when it stops. A caller whose access is scoped to
// institutions or provinces may not send batches: its lines go one by one.
func (s *session) writeAssessments(ctx context.Context, path, roundID string, plan *assessmentPlan, batch int) error {
	bar := newProgress(s.err, s.progress, roundID, len(plan.todo))
	defer bar.finish()
	recorded, unchanged := 0, plan.unchanged
	count := func(created bool) {
		if created {
			recorded++
		} else {
			unchanged++
		}
		bar.step()
	}
	stopped := func(row importfile.AssessmentRow, err error) error {
		bar.finish()
		return fmt.Errorf("%s:%d: %s: %w\n%d of %d lines are stored; run the same command again to record the rest (stored lines are not recorded twice)",
			path, row.Line, row.InstitutionID, err, recorded+unchanged, plan.total)
	}
	oneByOne := false
	for start := 0; start < len(plan.todo); {
		chunk := plan.todo[start:min(start+batch, len(plan.todo))]
		start += len(chunk)
		if !oneByOne {
			req := &assessmentv1.BatchRecordAssessmentsRequest{RoundId: roundID}
			for _, row := range chunk {
				r := row.Request(roundID)
				req.Records = append(req.Records, &assessmentv1.BatchRecord{InstitutionId: r.GetInstitutionId(), Input: r.GetInput(), RequestId: r.GetRequestId()})
			}
			resp, err := s.asm.BatchRecordAssessments(ctx, req)
			switch {
			case status.Code(err) == codes.PermissionDenied:
				oneByOne = true // from here on, with the same request ids
			case err != nil:
				return stopped(chunk[batchIndex(err, len(chunk))], err)
			default:
				for _, res := range resp.GetResults() {
					count(res.GetCreated())
				}
				continue
			}
		}
		for _, row := range chunk {
			one, err := s.asm.RecordAssessment(ctx, row.Request(roundID))
			if err != nil {
				return stopped(row, err)
			}
			count(one.GetCreated())
		}
	}
	bar.finish()
	fmt.Fprintf(s.out, "%s: %d recorded, %d already recorded in %s: all %d lines stored\n", path, recorded, unchanged, roundID, plan.total)
	return nil
}

// allInstitutions lists every registered institution.
func (s *session) allInstitutions(ctx context.Context) ([]*registryv1.Institution, error) {
	return allPages(ctx, &registryv1.ListInstitutionsRequest{PageSize: 1000},
		func(r *registryv1.ListInstitutionsRequest, t string) { r.PageToken = t },
		s.reg.ListInstitutions, (*registryv1.ListInstitutionsResponse).GetInstitutions)
}

// roundRecords is the current record of every institution in a round.
func (s *session) roundRecords(ctx context.Context, roundID string) (map[string]*assessmentv1.Assessment, error) {
	all, err := allPages(ctx, &assessmentv1.ListAssessmentsRequest{RoundId: roundID, PageSize: 1000},
		func(r *assessmentv1.ListAssessmentsRequest, t string) { r.PageToken = t },
		s.asm.ListAssessments, (*assessmentv1.ListAssessmentsResponse).GetAssessments)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*assessmentv1.Assessment, len(all))
	for _, a := range all {
		out[a.GetInstitutionId()] = a
	}
	return out, nil
}

var recordIndex = regexp.MustCompile(`records\[(\d+)\]`)

// batchIndex is the record a batch refusal names ("records[3] ..."), so
// the error shows that line of the file; the first when it names none.
func batchIndex(err error, n int) int {
	if m := recordIndex.FindStringSubmatch(status.Convert(err).Message()); m != nil {
		if i, convErr := strconv.Atoi(m[1]); convErr == nil && i < n {
			return i
		}
	}
	return 0
}
