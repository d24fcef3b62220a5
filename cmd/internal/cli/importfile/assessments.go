package importfile

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/predikat-id/predikat/pkg/decimal"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
)

// Assessment columns. The institution is named by institution_id, or by
// name ("institution", a registered name or alias) narrowed by kind and
// region_code when a name is not unique; then per line a total, a band or
// a score per dimension (a column named after each dimension code of the
// round's scheme version). The source_* columns name where the figure was
// published.
var (
	AssessmentOptionalColumns = []string{"institution_id", "institution", "kind", "region_code", "total", "band",
		"source_title", "source_publisher", "source_url", "source_date", "source_note", "notes", "respondents", "synthetic"}
)

var bandPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_+-]{0,15}$`)

// AssessmentRow is one line of a results file.
type AssessmentRow struct {
	File string
	Line int
	// InstitutionID is the line's institution_id, or the id the name was
	// matched to (Match).
	InstitutionID string
	// Name, Kind and RegionCode name the institution when the line has no
	// id.
	Name       string
	Kind       registryv1.InstitutionKind
	RegionCode string
	Input      *assessmentv1.AssessmentInput
	// Faults are the line's problems found in reading it, every one of
	// them (ReadAssessments). NameFault: the line's institution could not
	// be read, so it cannot be matched; ResultFault: its total, band or
	// dimension scores could not be read, so there is no figure to check.
	Faults                 []error
	NameFault, ResultFault bool
}

// RequestID is derived from the round, the institution and the line's
// content, so importing the same file again records nothing new, and a
// run stopped part-way is finished by running it again.
func (r AssessmentRow) RequestID(roundID string) string {
	return AssessmentRequestID(roundID, r.InstitutionID, r.Input)
}

// Request is the RecordAssessment call for the row.
func (r AssessmentRow) Request(roundID string) *assessmentv1.RecordAssessmentRequest {
	return &assessmentv1.RecordAssessmentRequest{RoundId: roundID, InstitutionId: r.InstitutionID, Input: r.Input, RequestId: r.RequestID(roundID)}
}

// Problems are every fault found in a file, each naming its line: a file
// is checked whole, and reported whole, before anything is written.
type Problems []error

func (p Problems) Error() string {
	const shown = 20
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems, nothing written:", len(p))
	for i, e := range p {
		if i == shown {
			fmt.Fprintf(&b, "\n  ... and %d more", len(p)-shown)
			break
		}
		b.WriteString("\n  " + e.Error())
	}
	return b.String()
}

// ParseAssessments reads a file of published results for one round: per
// line an institution and exactly one of a total ("96,52" or "96.52"), a
// band ("BB") or the scores of every dimension (columns named dims), with
// its source. Totals are checked as exact decimals here; the scale and
// band codes of the scheme are checked by the service. Every fault of
// every line is reported (Problems), not only the first.
func ParseAssessments(file string, r io.Reader, dims []string) ([]AssessmentRow, error) {
	rows, err := ReadAssessments(file, r, dims)
	if err != nil {
		return nil, err
	}
	var problems Problems
	for _, row := range rows {
		problems = append(problems, row.Faults...)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return rows, nil
}

// ReadAssessments reads the file as ParseAssessments does but returns every
// line, a faulty one with its Faults, so that a caller can still check
// what it could read of it (match its institution, check its figure) and
// list every problem of the file at once. The error is about the file as
// a whole (its header).
func ReadAssessments(file string, r io.Reader, dims []string) ([]AssessmentRow, error) {
	t, err := ReadTableAll(file, r, nil, append(slices.Clone(AssessmentOptionalColumns), dims...))
	if err != nil {
		return nil, err
	}
	has := map[string]bool{}
	for _, c := range t.Columns {
		has[c] = true
	}
	dimCols := 0
	for _, d := range dims {
		if has[d] {
			dimCols++
		}
	}
	switch {
	case !has["institution_id"] && !has["institution"]:
		return nil, &Error{File: file, Line: 1, Msg: "header: needs an \"institution_id\" or an \"institution\" (name) column"}
	case !has["total"] && !has["band"] && dimCols == 0:
		return nil, &Error{File: file, Line: 1, Msg: "header: needs a \"total\" or a \"band\" column, or a column per dimension (" + strings.Join(dims, ", ") + ")"}
	case dimCols > 0 && dimCols < len(dims):
		return nil, &Error{File: file, Line: 1, Msg: "header: dimension columns need every dimension of the scheme: " + strings.Join(dims, ", ")}
	}
	rows := make([]AssessmentRow, 0, len(t.Records)+len(t.Faults))
	for _, rec := range t.Records {
		rows = append(rows, assessmentRow(rec, dims[:min(len(dims), dimCols)]))
	}
	// A line that could not be split into columns has nothing to match or
	// check, but is listed with the others, in file order.
	for _, f := range t.Faults {
		rows = append(rows, AssessmentRow{File: file, Line: f.Line, Faults: []error{f}, NameFault: true, ResultFault: true})
	}
	slices.SortStableFunc(rows, func(a, b AssessmentRow) int { return a.Line - b.Line })
	return rows, nil
}

// assessmentRow reads one line, with every fault it has: each column or
// group of columns is read on its own, in a fixed order, so a line with
// several faults lists them all, always in the same order.
func assessmentRow(rec Record, dims []string) AssessmentRow {
	row := AssessmentRow{File: rec.File, Line: rec.Line, InstitutionID: rec.Get("institution_id"), Name: strings.TrimSpace(rec.Get("institution")),
		RegionCode: rec.Get("region_code")}
	fault := func(err error) {
		if many, ok := err.(interface{ Unwrap() []error }); ok {
			row.Faults = append(row.Faults, many.Unwrap()...)
			return
		}
		row.Faults = append(row.Faults, err)
	}
	switch {
	case row.InstitutionID != "":
		if err := checkInstitutionID(rec, row.InstitutionID); err != nil {
			fault(err)
			row.NameFault = true
		}
	case row.Name == "":
		fault(rec.Errorf("institution", "required: an institution_id or a name"))
		row.NameFault = true
	}
	if k := rec.Get("kind"); k != "" {
		kind, err := ParseKind(k)
		if err != nil {
			fault(rec.Errorf("kind", "%v", err))
			row.NameFault = true
		}
		row.Kind = kind
	}
	in := &assessmentv1.AssessmentInput{Notes: rec.Get("notes")}
	if err := readResult(rec, in, dims); err != nil {
		fault(err)
		row.ResultFault = true
	}
	for _, read := range []func(Record, *assessmentv1.AssessmentInput) error{readNotes, readRespondents, readSource, readSynthetic} {
		if err := read(rec, in); err != nil {
			fault(err)
		}
	}
	row.Input = in
	return row
}

func checkInstitutionID(rec Record, id string) error {
	switch {
	case id == "":
		return rec.Errorf("institution_id", "required")
	case !idPattern.MatchString(id):
		return rec.Errorf("institution_id", "%q is not an institution id", id)
	}
	return nil
}

// readResult sets the line's result: exactly one of a total, a band or a
// score for every dimension.
func readResult(rec Record, in *assessmentv1.AssessmentInput, dims []string) error {
	total, band := rec.Get("total"), rec.Get("band")
	scores, missing, err := readDimensions(rec, dims)
	if err != nil {
		return err
	}
	given := count(total != "", band != "", len(scores) > 0)
	switch {
	case total != "" && band != "" && len(scores) == 0:
		return bothTotalAndBand(rec, total, band)
	case given > 1:
		return rec.Errorf("total", "give one of a total, a band or the dimension scores, not several")
	case len(scores) > 0 && len(missing) > 0:
		return rec.Errorf(missing[0], "missing: a line with dimension scores needs every dimension (%s)", strings.Join(missing, ", "))
	case len(scores) > 0:
		in.Result = &assessmentv1.AssessmentInput_DimensionScores{DimensionScores: &assessmentv1.DimensionScores{Scores: scores}}
	case total != "":
		t, err := parseDecimal(rec, "total", total)
		if err != nil {
			return err
		}
		in.Result = &assessmentv1.AssessmentInput_ReportedTotal{ReportedTotal: t}
	case band != "":
		if !bandPattern.MatchString(band) {
			return rec.Errorf("band", "%q is not a band code such as A, BB or A-", band)
		}
		in.Result = &assessmentv1.AssessmentInput_ReportedBand{ReportedBand: band}
	default:
		field := "total"
		if !rec.Has("total") {
			field = "band"
		}
		return rec.Errorf(field, "missing: each line needs a total, a band or the dimension scores")
	}
	return nil
}

func count(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// readDimensions reads the dimension columns: the scores given, and the
// dimensions without one.
func readDimensions(rec Record, dims []string) ([]*assessmentv1.DimensionScore, []string, error) {
	var scores []*assessmentv1.DimensionScore
	var missing []string
	var errs []error // every unreadable score, not only the first
	for _, d := range dims {
		v := rec.Get(d)
		if v == "" {
			missing = append(missing, d)
			continue
		}
		score, err := parseDecimal(rec, d, v)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		scores = append(scores, &assessmentv1.DimensionScore{Code: d, Score: score})
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return scores, missing, nil
}

// bothTotalAndBand is the error for a line with a total and a band. Two
// runs of digits are most likely an unquoted decimal comma split in two
// columns, which the message says.
func bothTotalAndBand(rec Record, total, band string) error {
	if strings.Trim(band, "0123456789") == "" && strings.Trim(total, "0123456789") == "" {
		return rec.Errorf("band", "give a total or a band, not both; %s,%s looks like a decimal comma: quote it, \"%s,%s\"", total, band, total, band)
	}
	return rec.Errorf("band", "give a total or a band, not both (the band is derived from the total)")
}

// parseDecimal checks a figure as an exact decimal and returns it
// normalized.
func parseDecimal(rec Record, col, v string) (string, error) {
	d, err := decimal.Parse(v)
	if err != nil {
		return "", rec.Errorf(col, "%q is not a decimal number (write 96,52 or 96.52; with commas as separators, quote it)", v)
	}
	if d.Sign() < 0 {
		return "", rec.Errorf(col, "%q is negative", v)
	}
	if d.Scale() > 6 {
		return "", rec.Errorf(col, "%q has more than 6 decimals", v)
	}
	return d.String(), nil
}

func readNotes(rec Record, in *assessmentv1.AssessmentInput) error {
	if len(in.Notes) > 2000 {
		return rec.Errorf("notes", "%d bytes; at most 2000", len(in.Notes))
	}
	return nil
}

func readRespondents(rec Record, in *assessmentv1.AssessmentInput) error {
	s := rec.Get("respondents")
	if s == "" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < 0 || n > 100_000_000 {
		return rec.Errorf("respondents", "%q is not a number of respondents", s)
	}
	in.Respondents = int32(n)
	return nil
}

// readSource sets the line's source when any source_* column has a value.
func readSource(rec Record, in *assessmentv1.AssessmentInput) error {
	src := &assessmentv1.Source{
		Title: rec.Get("source_title"), Publisher: rec.Get("source_publisher"), Url: rec.Get("source_url"),
		PublishedDate: rec.Get("source_date"), Note: rec.Get("source_note"),
	}
	if err := checkSource(rec, src); err != nil {
		return err
	}
	if src.Title+src.Publisher+src.Url+src.PublishedDate+src.Note != "" {
		in.Source = src
	}
	return nil
}

func checkSource(rec Record, s *assessmentv1.Source) error {
	if len(s.Title) > 500 {
		return rec.Errorf("source_title", "%d bytes; at most 500", len(s.Title))
	}
	if len(s.Publisher) > 200 {
		return rec.Errorf("source_publisher", "%d bytes; at most 200", len(s.Publisher))
	}
	if len(s.Note) > 1000 {
		return rec.Errorf("source_note", "%d bytes; at most 1000", len(s.Note))
	}
	if s.Url != "" {
		u, err := url.Parse(s.Url)
		if err != nil || u.Scheme == "" || u.Host == "" || len(s.Url) > 2048 {
			return rec.Errorf("source_url", "%q is not an absolute address such as https://example.com/article", s.Url)
		}
	}
	if err := checkDate(s.PublishedDate); err != nil {
		return rec.Errorf("source_date", "%v", err)
	}
	return nil
}

// AssessmentRequestID is the idempotency key of a recorded line: a hash of
// the round, the institution and the normalized content ("96,52" and
// "96.52" are the same line). The same line imported twice is one record;
// a changed line is a different request, which the service refuses while a
// record exists (a correction states the revision it replaces).
func AssessmentRequestID(roundID, institutionID string, in *assessmentv1.AssessmentInput) string {
	parts := []string{"assessment/v1", roundID, institutionID, in.GetReportedTotal(), strings.ToUpper(in.GetReportedBand()),
		strconv.Itoa(int(in.GetRespondents())), in.GetNotes(),
		in.GetSource().GetTitle(), in.GetSource().GetPublisher(), in.GetSource().GetUrl(), in.GetSource().GetPublishedDate(), in.GetSource().GetNote()}
	// Dimension scores came later: lines without them keep the ids they
	// always had, so a file imported before is still recognised.
	for _, d := range in.GetDimensionScores().GetScores() {
		parts = append(parts, "dim:"+d.GetCode()+"="+d.GetScore())
	}
	// Likewise the synthetic mark: only when set.
	if in.GetSynthetic() {
		parts = append(parts, "synthetic")
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "import-" + hex.EncodeToString(sum[:16])
}

// readSynthetic reads the synthetic column: "yes" (or "ya", "true", "1")
// marks made-up data, which ranks but never earns an award; empty or "no"
// is a real figure.
func readSynthetic(rec Record, in *assessmentv1.AssessmentInput) error {
	switch strings.ToLower(strings.TrimSpace(rec.Get("synthetic"))) {
	case "", "no", "tidak", "false", "0":
	case "yes", "ya", "true", "1":
		in.Synthetic = true
	default:
		return rec.Errorf("synthetic", "%q: yes or no", rec.Get("synthetic"))
	}
	return nil
}
