package importfile

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/predikat-id/predikat/pkg/decimal"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
)

// Assessment columns: institution_id, and a total or a band per line (the
// header needs at least one of the two columns). The source_* columns name
// where the figure was published.
var (
	AssessmentColumns         = []string{"institution_id"}
	AssessmentOptionalColumns = []string{"total", "band", "source_title", "source_publisher", "source_url", "source_date", "source_note", "notes", "respondents"}
)

var bandPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_+-]{0,15}$`)

// AssessmentRow is one line of a results file.
type AssessmentRow struct {
	Line          int
	InstitutionID string
	Input         *assessmentv1.AssessmentInput
	// RequestID is derived from the round, the institution and the line's
	// content, so importing the same file again records nothing new.
	RequestID string
}

// Request is the RecordAssessment call for the row.
func (r AssessmentRow) Request(roundID string) *assessmentv1.RecordAssessmentRequest {
	return &assessmentv1.RecordAssessmentRequest{RoundId: roundID, InstitutionId: r.InstitutionID, Input: r.Input, RequestId: r.RequestID}
}

// ParseAssessments reads a file of published results for one round: per
// line an institution and exactly one of a total ("96,52" or "96.52") or a
// band ("BB"), with its source. Totals are checked as exact decimals here;
// the scale and band codes of the scheme are checked by the service.
func ParseAssessments(file string, r io.Reader, roundID string) ([]AssessmentRow, error) {
	t, err := ReadTable(file, r, AssessmentColumns, AssessmentOptionalColumns)
	if err != nil {
		return nil, err
	}
	hasTotal, hasBand := false, false
	for _, c := range t.Columns {
		hasTotal = hasTotal || c == "total"
		hasBand = hasBand || c == "band"
	}
	if !hasTotal && !hasBand {
		return nil, &Error{File: file, Line: 1, Msg: "header: needs a \"total\" or a \"band\" column (or both)"}
	}
	rows := make([]AssessmentRow, 0, len(t.Records))
	lineOf := map[string]int{}
	for _, rec := range t.Records {
		row, err := assessmentRow(rec, roundID)
		if err != nil {
			return nil, err
		}
		if prev, dup := lineOf[row.InstitutionID]; dup {
			return nil, rec.Errorf("institution_id", "%q is already on line %d: one line per institution and round", row.InstitutionID, prev)
		}
		lineOf[row.InstitutionID] = rec.Line
		rows = append(rows, row)
	}
	return rows, nil
}

func assessmentRow(rec Record, roundID string) (AssessmentRow, error) {
	id := rec.Get("institution_id")
	if err := checkInstitutionID(rec, id); err != nil {
		return AssessmentRow{}, err
	}
	in := &assessmentv1.AssessmentInput{Notes: rec.Get("notes")}
	// One reader per column or group of columns, in a fixed order: a line
	// with several faults always reports the same one.
	for _, read := range []func(Record, *assessmentv1.AssessmentInput) error{
		readResult, readNotes, readRespondents, readSource,
	} {
		if err := read(rec, in); err != nil {
			return AssessmentRow{}, err
		}
	}
	return AssessmentRow{Line: rec.Line, InstitutionID: id, Input: in, RequestID: AssessmentRequestID(roundID, id, in)}, nil
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

// readResult sets the line's result: exactly one of a total or a band.
func readResult(rec Record, in *assessmentv1.AssessmentInput) error {
	total, band := rec.Get("total"), rec.Get("band")
	switch {
	case total != "" && band != "":
		return bothTotalAndBand(rec, total, band)
	case total != "":
		t, err := parseTotal(rec, total)
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
		return rec.Errorf(field, "missing: each line needs a total or a band")
	}
	return nil
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

// parseTotal checks a total as an exact decimal and returns it normalized.
func parseTotal(rec Record, total string) (string, error) {
	d, err := decimal.Parse(total)
	if err != nil {
		return "", rec.Errorf("total", "%q is not a decimal number (write 96,52 or 96.52; quote a value with a comma)", total)
	}
	if d.Sign() < 0 {
		return "", rec.Errorf("total", "%q is negative", total)
	}
	if d.Scale() > 6 {
		return "", rec.Errorf("total", "%q has more than 6 decimals", total)
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
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "import-" + hex.EncodeToString(sum[:16])
}
