package cli

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/predikat-id/predikat/cmd/internal/cli/importfile"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
)

// A survey file is read line by line, twice (once to find its units and
// check what the file says as a whole, once to send): memory stays bounded
// by the units' pending messages, whatever the file's size. Reading it is
// pure: what a line says is decided here, what it means for the unit's
// survey by mapAnswers, and what the service thinks of it by the service.

// surveyLine is one response as a file states it.
type surveyLine struct {
	line                   int
	unit, responseID, date string
	// answers by element code, in the file's order; a column present but
	// empty is an answer with empty set.
	answers []fileAnswer
	profile *assessmentv1.RespondentProfile
	// problem is why the line cannot be read ("" when it can): it is
	// reported with its line and not sent.
	problem string
}

type fileAnswer struct {
	code, raw string
	empty     bool
}

// surveyReader yields a file's lines; io.EOF at the end. Any other error
// is about the whole file (its header, reading it) and stops the import.
type surveyReader interface {
	next() (surveyLine, error)
}

// surveyFormat is "csv" or "jsonl": --format, else the file's extension.
func surveyFormat(path, flagValue string) (string, error) {
	f := strings.ToLower(strings.TrimSpace(flagValue))
	if f == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".csv", ".txt":
			f = "csv"
		case ".jsonl", ".ndjson":
			f = "jsonl"
		default:
			return "", usagef("cannot tell the format of %q from its extension: give --format csv or --format jsonl", path)
		}
	}
	switch f {
	case "csv":
		return "csv", nil
	case "jsonl", "ndjson", "json":
		return "jsonl", nil
	}
	return "", usagef("--format %q: csv or jsonl", flagValue)
}

func newSurveyReader(format, file string, r io.Reader, unitFlag string) (surveyReader, error) {
	if format == "jsonl" {
		return &jsonlSurveyReader{file: file, r: bufio.NewReaderSize(r, 64<<10), unit: unitFlag}, nil
	}
	return newCSVSurveyReader(file, r, unitFlag)
}

// Columns of a survey CSV that are not element codes.
const (
	colUnit       = "unit"
	colResponseID = "response_id"
	colDate       = "collection_date"
)

var (
	profileColumns = []string{"age_band", "sex", "education", "occupation"}
	elementCode    = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)
)

type csvSurveyReader struct {
	file    string
	cr      *csv.Reader
	columns []string
	unit    string // --unit
}

func newCSVSurveyReader(file string, r io.Reader, unitFlag string) (*csvSurveyReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	// The separator is that of the first line that is not a comment, as in
	// every CSV the CLI reads (a spreadsheet in the Indonesian locale
	// writes semicolons).
	head, _ := br.Peek(64 << 10)
	cr := csv.NewReader(br)
	cr.Comma = importfile.Separator(head)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty file: the first line names the columns (unit,response_id,collection_date, then one per element code)", file)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", file, err)
	}
	line, _ := cr.FieldPos(0)
	t := &csvSurveyReader{file: file, cr: cr, unit: unitFlag}
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch {
		case h == "":
			return nil, fmt.Errorf("%s:%d: header: column %d has no name", file, line, i+1)
		case seen[h]:
			return nil, fmt.Errorf("%s:%d: header: column %q appears twice", file, line, h)
		case !isFixedColumn(h) && !elementCode.MatchString(h):
			return nil, fmt.Errorf("%s:%d: header: column %q is neither unit, response_id, collection_date, a profile column (%s) nor an element code (such as persyaratan)",
				file, line, h, strings.Join(profileColumns, ", "))
		}
		seen[h] = true
		t.columns = append(t.columns, h)
	}
	for _, c := range []string{colResponseID, colDate} {
		if !seen[c] {
			return nil, fmt.Errorf("%s:%d: header: missing column %q", file, line, c)
		}
	}
	if !seen[colUnit] && unitFlag == "" {
		return nil, fmt.Errorf("%s:%d: header: missing column %q: give it, or --unit for a file of one unit", file, line, colUnit)
	}
	return t, nil
}

func isFixedColumn(c string) bool {
	return c == colUnit || c == colResponseID || c == colDate || slices.Contains(profileColumns, c)
}

func (t *csvSurveyReader) next() (surveyLine, error) {
	fields, err := t.cr.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) && !errors.Is(err, csv.ErrFieldCount) {
			// The reader goes on after the broken record: the line is
			// reported and the rest of the file still counts.
			return surveyLine{line: pe.StartLine, problem: fmt.Sprintf("cannot read the line: column %d: %v", pe.Column, pe.Err)}, nil
		}
		if errors.Is(err, io.EOF) {
			return surveyLine{}, io.EOF
		}
		return surveyLine{}, fmt.Errorf("%s: %w", t.file, err)
	}
	line, _ := t.cr.FieldPos(0)
	l := surveyLine{line: line, unit: t.unit}
	if len(fields) != len(t.columns) {
		l.problem = fmt.Sprintf("%d fields, but the header has %d columns (with commas as separators, quote a field that contains one)", len(fields), len(t.columns))
		return l, nil
	}
	t.fill(&l, fields)
	return l, nil
}

// fill reads a line's fields by their columns.
func (t *csvSurveyReader) fill(l *surveyLine, fields []string) {
	profile := map[string]string{}
	for i, c := range t.columns {
		v := strings.TrimSpace(fields[i])
		switch {
		case c == colUnit:
			if v != "" {
				l.unit = v
			}
			if t.unit != "" && v != "" && v != t.unit {
				l.problem = fmt.Sprintf("unit %q is not the --unit %q", v, t.unit)
			}
		case c == colResponseID:
			l.responseID = v
		case c == colDate:
			l.date = v
		case slices.Contains(profileColumns, c):
			profile[c] = v
		default:
			l.answers = append(l.answers, fileAnswer{code: c, raw: v, empty: v == ""})
		}
	}
	if l.problem == "" && l.unit == "" {
		l.problem = "no unit: fill the unit column, or give --unit"
	}
	if l.problem == "" {
		l.profile, l.problem = readProfile(profile)
	}
}

// jsonlSurveyReader reads one JSON object per line:
//
//	{"unit":"pkm-x","response_id":"r1","collection_date":"2026-03-02","answers":{"persyaratan":4,...},"profile":{"sex":"female"}}
type jsonlSurveyReader struct {
	file string
	r    *bufio.Reader
	line int
	unit string
}

type jsonResponse struct {
	Unit           string                     `json:"unit"`
	ResponseID     string                     `json:"response_id"`
	CollectionDate string                     `json:"collection_date"`
	Answers        map[string]json.RawMessage `json:"answers"`
	Profile        map[string]string          `json:"profile"`
}

func (t *jsonlSurveyReader) next() (surveyLine, error) {
	for {
		raw, err := t.r.ReadBytes('\n')
		if len(raw) == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return surveyLine{}, io.EOF
			}
			return surveyLine{}, fmt.Errorf("%s: %w", t.file, err)
		}
		t.line++
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue
		}
		return t.parse(raw), nil
	}
}

func (t *jsonlSurveyReader) parse(raw []byte) surveyLine {
	l := surveyLine{line: t.line, unit: t.unit}
	var r jsonResponse
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		l.problem = "not a JSON object of a response: " + jsonProblem(err)
		return l
	}
	if dec.More() {
		l.problem = "more than one JSON value on the line"
		return l
	}
	l.responseID, l.date = r.ResponseID, r.CollectionDate
	switch {
	case r.Unit != "" && t.unit != "" && r.Unit != t.unit:
		l.unit, l.problem = r.Unit, fmt.Sprintf("unit %q is not the --unit %q", r.Unit, t.unit)
		return l
	case r.Unit != "":
		l.unit = r.Unit
	case l.unit == "":
		l.problem = `no unit: give "unit", or --unit`
		return l
	}
	if r.Answers == nil {
		l.problem = `no "answers": an object of element code to answer, e.g. {"persyaratan":4}`
		return l
	}
	codes := make([]string, 0, len(r.Answers))
	for c := range r.Answers {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		v := strings.TrimSpace(string(r.Answers[c]))
		if s, err := strconv.Unquote(v); err == nil {
			v = strings.TrimSpace(s)
		}
		if v == "null" {
			v = ""
		}
		l.answers = append(l.answers, fileAnswer{code: c, raw: v, empty: v == ""})
	}
	profile := map[string]string{}
	for k, v := range r.Profile {
		if !slices.Contains(profileColumns, k) {
			l.problem = fmt.Sprintf("profile: unknown field %q (known: %s)", k, strings.Join(profileColumns, ", "))
			return l
		}
		profile[k] = v
	}
	l.profile, l.problem = readProfile(profile)
	return l
}

// jsonProblem shortens a decoding error to what the line's author needs.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%q: a %s where %s was expected", te.Field, te.Value, te.Type)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// Profile values as a file writes them: the enum names in lower case with
// dashes ("20-29", "senior-secondary"), or the words of the regulation's
// questionnaire.
var (
	ageBands    = profileValues(assessmentv1.AgeBand_value, "AGE_BAND_", map[string]string{"<20": "under-20", "60+": "60-over"})
	sexes       = profileValues(assessmentv1.Sex_value, "SEX_", map[string]string{"l": "male", "laki-laki": "male", "p": "female", "perempuan": "female"})
	educations  = profileValues(assessmentv1.Education_value, "EDUCATION_", map[string]string{"sd": "primary", "smp": "junior-secondary", "sma": "senior-secondary", "smk": "senior-secondary", "d1": "diploma", "d2": "diploma", "d3": "diploma", "d4": "diploma", "s1": "bachelor", "s2": "postgraduate", "s3": "postgraduate"})
	occupations = profileValues(assessmentv1.Occupation_value, "OCCUPATION_", map[string]string{"pns": "civil-servant", "asn": "civil-servant", "tni": "military-police", "polri": "military-police", "swasta": "private-employee", "wirausaha": "self-employed", "pelajar": "student", "mahasiswa": "student", "lainnya": "other"})
)

type profileEnum struct {
	values map[string]int32
	names  []string // the canonical ones, in the enum's order, for messages
}

func profileValues(enum map[string]int32, prefix string, aliases map[string]string) profileEnum {
	p := profileEnum{values: map[string]int32{}}
	type kv struct {
		name string
		n    int32
	}
	var list []kv
	for name, n := range enum {
		if n == 0 {
			continue
		}
		v := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(name, prefix)), "_", "-")
		p.values[v] = n
		list = append(list, kv{v, n})
	}
	slices.SortFunc(list, func(a, b kv) int { return int(a.n - b.n) })
	for _, e := range list {
		p.names = append(p.names, e.name)
	}
	for alias, to := range aliases {
		p.values[alias] = p.values[to]
	}
	return p
}

func (p profileEnum) parse(field, v string) (int32, string) {
	v = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(v)), "_", "-")
	if v == "" {
		return 0, ""
	}
	n, ok := p.values[v]
	if !ok {
		return 0, fmt.Sprintf("%s %q: one of %s (or empty)", field, v, strings.Join(p.names, ", "))
	}
	return n, ""
}

// readProfile reads the optional profile fields; nil when all are empty.
func readProfile(f map[string]string) (*assessmentv1.RespondentProfile, string) {
	age, p1 := ageBands.parse("age_band", f["age_band"])
	sex, p2 := sexes.parse("sex", f["sex"])
	edu, p3 := educations.parse("education", f["education"])
	occ, p4 := occupations.parse("occupation", f["occupation"])
	for _, p := range []string{p1, p2, p3, p4} {
		if p != "" {
			return nil, p
		}
	}
	if age == 0 && sex == 0 && edu == 0 && occ == 0 {
		return nil, ""
	}
	return &assessmentv1.RespondentProfile{AgeBand: assessmentv1.AgeBand(age), Sex: assessmentv1.Sex(sex),
		Education: assessmentv1.Education(edu), Occupation: assessmentv1.Occupation(occ)}, ""
}

// mapAnswers puts a line's answers in the order of the unit's survey
// (codes). An element of the survey the line lacks or leaves empty, an
// answer that is not a whole number, or a non-empty answer to an element
// the survey does not have makes the line unreadable; a number outside 1-4
// is sent, for the service to refuse by the survey's rules.
func mapAnswers(l surveyLine, codes []string) ([]uint32, string) {
	have := make(map[string]fileAnswer, len(l.answers))
	for _, a := range l.answers {
		have[a.code] = a
	}
	for _, a := range l.answers {
		if !a.empty && !slices.Contains(codes, a.code) {
			return nil, fmt.Sprintf("unknown element code %q: the survey of %s has %s", a.code, l.unit, strings.Join(codes, ", "))
		}
	}
	out := make([]uint32, len(codes))
	for i, c := range codes {
		a, ok := have[c]
		switch {
		case !ok:
			return nil, fmt.Sprintf("missing %q (column or answer): the survey of %s has %s", c, l.unit, strings.Join(codes, ", "))
		case a.empty:
			return nil, fmt.Sprintf("%s: no answer (1-4)", c)
		}
		n, err := strconv.ParseUint(a.raw, 10, 32)
		if err != nil {
			return nil, fmt.Sprintf("%s: %q is not a whole number (answers are 1-4)", c, a.raw)
		}
		out[i] = uint32(n)
	}
	return out, ""
}
