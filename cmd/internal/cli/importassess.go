package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/predikat-id/predikat/cmd/internal/cli/importfile"
	"github.com/predikat-id/predikat/pkg/decimal"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
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
	rows, err := importfile.ReadAssessments(path, bytes.NewReader(body), dims)
	if err != nil {
		return err
	}
	plan, err := s.planAssessments(ctx, r, sch.GetScheme(), rows)
	if err != nil {
		return err
	}
	for _, note := range plan.notes {
		fmt.Fprintln(s.out, note)
	}
	if dry {
		fmt.Fprintf(s.out, "%s: %d lines checked with the service for %s: %d to record, %d already recorded%s (nothing written)\n",
			path, len(rows), roundID, len(plan.todo), plan.unchanged, plan.sameText())
		return nil
	}
	return s.writeAssessments(ctx, path, roundID, plan, batch)
}

// assessmentPlan is what a checked file will write.
type assessmentPlan struct {
	todo []importfile.AssessmentRow
	// unchanged: lines this file (or one with the same lines) recorded
	// before; same: lines whose institution already has a record with the
	// very figures of the line, recorded some other way (RecordAssessment,
	// another file): nothing to write for either.
	unchanged, same int
	total           int
	notes           []string // one per line left as it is, saying why
}

// sameText is the summary's count of lines already recorded otherwise.
func (p *assessmentPlan) sameText() string {
	if p.same == 0 {
		return ""
	}
	return fmt.Sprintf(", %d already recorded with the same figures by another request (left as stored)", p.same)
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
	// Every line is checked as far as it can be read: a line with an
	// unreadable total still has its institution matched, so one pass
	// lists every problem of the file.
	var problems importfile.Problems
	lineOf := map[string]int{}
	for i := range rows {
		row := &rows[i]
		problems = append(problems, row.Faults...)
		fig, err := s.checkLine(ctx, m, sch, row, lineOf)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		if fig == nil || len(row.Faults) > 0 {
			continue // nothing more to check, or its figure is fine but the line is not
		}
		if err := plan.place(r.GetId(), row, existing[row.InstitutionID], fig); err != nil {
			problems = append(problems, err)
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

// checkLine checks what can be read of one line: its institution (matched,
// once in the file, assessed by the scheme) and then its figure, computed
// by the service as recording would (scale, precision, band codes,
// dimension scores). The figure is nil when the line has none to check.
func (s *session) checkLine(ctx context.Context, m *importfile.Matcher, sch *assessmentv1.Scheme, row *importfile.AssessmentRow, lineOf map[string]int) (*assessmentv1.ComputeAssessmentResponse, error) {
	if row.NameFault {
		return nil, nil
	}
	in, err := m.Match(row)
	if err != nil {
		return nil, err
	}
	if prev, dup := lineOf[row.InstitutionID]; dup {
		return nil, fmt.Errorf("%s:%d: %s is already on line %d: one line per institution and round", row.File, row.Line, row.InstitutionID, prev)
	}
	lineOf[row.InstitutionID] = row.Line
	if !slices.Contains(sch.GetEligibleKinds(), in.GetKind()) {
		return nil, fmt.Errorf("%s:%d: %s is a %s, which %s %s does not assess", row.File, row.Line, row.InstitutionID,
			kindText(in.GetKind()), sch.GetId(), sch.GetVersion())
	}
	if row.ResultFault {
		return nil, nil
	}
	fig, err := s.asm.ComputeAssessment(ctx, &assessmentv1.ComputeAssessmentRequest{SchemeId: sch.GetId(),
		Selector: &assessmentv1.ComputeAssessmentRequest_Version{Version: sch.GetVersion()}, Input: row.Input})
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %s: %s", row.File, row.Line, row.InstitutionID, errorText(err))
	}
	return fig, nil
}

// place puts a checked line in the plan against the institution's stored
// record (have, nil when there is none): to record; recorded before by
// this very line; recorded with the same figures by another request; or,
// with other figures, refused.
func (p *assessmentPlan) place(roundID string, row *importfile.AssessmentRow, have *assessmentv1.Assessment, fig *assessmentv1.ComputeAssessmentResponse) error {
	switch {
	case have == nil:
		p.todo = append(p.todo, *row)
	case have.GetRequestId() == row.RequestID(roundID):
		p.unchanged++
	case sameFigures(have, row.Input, fig):
		p.same++
		p.notes = append(p.notes, fmt.Sprintf("%s:%d: %s: already recorded with these figures (revision %d, %s %s) by another request: left as it is%s",
			row.File, row.Line, row.InstitutionID, have.GetRevision(), orDash(have.GetTotal()), have.GetBandCode(), provenanceDiff(have, row.Input)))
	default:
		return fmt.Errorf("%s:%d: %s already has a record with other figures (revision %d, %s %s; the line gives %s %s): a changed line is a correction (predikat assessments correct), not an import",
			row.File, row.Line, row.InstitutionID, have.GetRevision(), orDash(have.GetTotal()), have.GetBandCode(), orDash(fig.GetTotal()), fig.GetBandCode())
	}
	return nil
}

// sameFigures reports whether the stored record have carries the figures
// of a line: what the grade is made of, so the same basis, the same total
// and band, the same dimension scores (as decimals: 96,5 is 96.50) and the
// same synthetic mark. Where the figure was published (source), notes and
// a respondent count are not figures: they do not make a line another
// record, and the note of such a line says when they differ.
func sameFigures(have *assessmentv1.Assessment, in *assessmentv1.AssessmentInput, fig *assessmentv1.ComputeAssessmentResponse) bool {
	if have.GetBasis() != fig.GetBasis() || !sameDecimal(have.GetTotal(), fig.GetTotal()) ||
		!strings.EqualFold(have.GetBandCode(), fig.GetBandCode()) || have.GetSynthetic() != in.GetSynthetic() {
		return false
	}
	line, stored := in.GetDimensionScores().GetScores(), have.GetDimensionScores()
	if len(line) != len(stored) {
		return false
	}
	for i := range line {
		if line[i].GetCode() != stored[i].GetCode() || !sameDecimal(line[i].GetScore(), stored[i].GetScore()) {
			return false
		}
	}
	return true
}

func sameDecimal(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	x, errA := decimal.Parse(a)
	y, errB := decimal.Parse(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return x.Equal(y)
}

// provenanceDiff names what the line gives besides its figures that the
// stored record has otherwise, and how to change it; "" when nothing.
func provenanceDiff(have *assessmentv1.Assessment, in *assessmentv1.AssessmentInput) string {
	var differ []string
	if in.GetSource() != nil && !proto.Equal(in.GetSource(), have.GetSource()) {
		differ = append(differ, "source")
	}
	if in.GetNotes() != "" && in.GetNotes() != have.GetNotes() {
		differ = append(differ, "notes")
	}
	if in.GetRespondents() != 0 && in.GetRespondents() != have.GetRespondents() {
		differ = append(differ, "respondents")
	}
	if len(differ) == 0 {
		return ""
	}
	if len(differ) == 1 {
		return fmt.Sprintf(" (the line's %s differs from the stored record's and is not written: a correction, predikat assessments correct, changes it)", differ[0])
	}
	return fmt.Sprintf(" (the line's %s differ from the stored record's and are not written: a correction, predikat assessments correct, changes them)", strings.Join(differ, " and "))
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
			path, row.Line, row.InstitutionID, err, recorded+unchanged+plan.same, plan.total)
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
	fmt.Fprintf(s.out, "%s: %d recorded, %d already recorded%s in %s: all %d lines stored\n", path, recorded, unchanged, plan.sameText(), roundID, plan.total)
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
