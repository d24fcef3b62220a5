package cli

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"google.golang.org/protobuf/proto"
)

var skm2017 = []string{"persyaratan", "prosedur", "waktu", "biaya", "produk", "kompetensi", "perilaku", "sarana", "pengaduan"}

// readAll reads every line of a survey file: the file-level error, if any,
// and each line mapped to the SKM 2017 survey.
func readAll(t *testing.T, format, body, unit string) ([]surveyLine, [][]uint32, []string, error) {
	t.Helper()
	r, err := newSurveyReader(format, "f", strings.NewReader(body), unit)
	if err != nil {
		return nil, nil, nil, err
	}
	var lines []surveyLine
	var answers [][]uint32
	var problems []string
	for {
		l, err := r.next()
		if errors.Is(err, io.EOF) {
			return lines, answers, problems, nil
		}
		if err != nil {
			return nil, nil, nil, err
		}
		p := l.problem
		var a []uint32
		if p == "" {
			a, p = mapAnswers(l, skm2017)
		}
		lines, answers, problems = append(lines, l), append(answers, a), append(problems, p)
	}
}

// Element columns in any order come out in the survey's order; each line
// keeps its line number in the file (comments and blank lines counted); a
// line that cannot be read says why and the others still count.
func TestSurveyCSV(t *testing.T) {
	body := "# synthetic\n" +
		"waktu;unit;response_id;collection_date;persyaratan;prosedur;biaya;produk;kompetensi;perilaku;sarana;pengaduan;sex;age_band\n" +
		"1;pkm-a;r1;2026-03-02;4;4;4;4;4;4;4;2;p;20-29\n" +
		"\n" +
		"5;pkm-a;r2;2026-03-02;4;4;4;4;4;4;4;2;;\n" +
		"x;pkm-a;r3;2026-03-02;4;4;4;4;4;4;4;2;;\n" +
		";pkm-a;r4;2026-03-02;4;4;4;4;4;4;4;2;;\n" +
		"3;pkm-a;r5;2026-03-02;4;4;4\n" +
		"3;pkm-a;r6;2026-03-02;4;4;4;4;4;4;4;2;x;\n" +
		"3;;r7;2026-03-02;4;4;4;4;4;4;4;2;;\n"
	lines, answers, problems, err := readAll(t, "csv", body, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		line    int
		answers []uint32
		problem string
	}{
		{3, []uint32{4, 4, 1, 4, 4, 4, 4, 4, 2}, ""},
		{5, []uint32{4, 4, 5, 4, 4, 4, 4, 4, 2}, ""}, // 5 is the service's to refuse
		{6, nil, `waktu: "x" is not a whole number`},
		{7, nil, "waktu: no answer"},
		{8, nil, "7 fields, but the header has 14 columns"},
		{9, nil, `sex "x": one of male, female`},
		{10, nil, "no unit"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d: %+v", len(lines), len(want), problems)
	}
	for i, w := range want {
		if lines[i].line != w.line {
			t.Errorf("line %d: read as line %d", w.line, lines[i].line)
		}
		if w.problem == "" && (problems[i] != "" || !slices.Equal(answers[i], w.answers)) {
			t.Errorf("line %d: %v %q, want %v", w.line, answers[i], problems[i], w.answers)
		}
		if w.problem != "" && !strings.Contains(problems[i], w.problem) {
			t.Errorf("line %d: problem %q, want %q", w.line, problems[i], w.problem)
		}
	}
	if p := lines[0].profile; p.GetSex() != assessmentv1.Sex_SEX_FEMALE || p.GetAgeBand() != assessmentv1.AgeBand_AGE_BAND_20_29 {
		t.Errorf("profile of line 3: %v", p)
	}
	if lines[1].profile != nil {
		t.Errorf("an empty profile is none: %v", lines[1].profile)
	}
}

// A header is checked whole before any line: the required columns, no
// column twice, no name that is neither a known column nor an element code.
func TestSurveyCSVHeader(t *testing.T) {
	for _, tc := range []struct{ body, unit, want string }{
		{"", "", "empty file"},
		{"unit,response_id\n", "", `missing column "collection_date"`},
		{"response_id,collection_date,persyaratan\n", "", `missing column "unit": give it, or --unit`},
		{"unit,response_id,collection_date,waktu,waktu\n", "", `column "waktu" appears twice`},
		{"unit,response_id,collection_date,Waktu Layanan\n", "", `column "waktu layanan" is neither`},
		{"unit,response_id,collection_date,,waktu\n", "", "column 4 has no name"},
	} {
		if _, _, _, err := readAll(t, "csv", tc.body, tc.unit); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.body, err, tc.want)
		}
	}
	// --unit stands for a missing unit column, and names the unit of a file
	// that has one.
	lines, _, problems, err := readAll(t, "csv", "response_id,collection_date,"+strings.Join(skm2017, ",")+"\nr1,2026-01-02,4,4,4,4,4,4,4,4,4\n", "pkm-a")
	if err != nil || len(lines) != 1 || lines[0].unit != "pkm-a" || problems[0] != "" {
		t.Fatalf("--unit without a unit column: %v %+v %q", err, lines, problems)
	}
	_, _, problems, err = readAll(t, "csv", "unit,response_id,collection_date,"+strings.Join(skm2017, ",")+"\npkm-b,r1,2026-01-02,4,4,4,4,4,4,4,4,4\n", "pkm-a")
	if err != nil || len(problems) != 1 || !strings.Contains(problems[0], `unit "pkm-b" is not the --unit "pkm-a"`) {
		t.Fatalf("another unit than --unit: %v %q", err, problems)
	}
}

// JSON lines: answers by code in any order, a quoted number read as one,
// blank lines skipped but counted, a broken line reported with its number.
func TestSurveyJSONLines(t *testing.T) {
	full := `"persyaratan":4,"prosedur":3,"waktu":"2","biaya":4,"produk":4,"kompetensi":4,"perilaku":4,"sarana":4,"pengaduan":1`
	body := `{"unit":"pkm-a","response_id":"r1","collection_date":"2026-03-02","answers":{` + full + `},"profile":{"education":"SMA","occupation":"pns"}}` + "\n" +
		"\n" +
		`{"unit":"pkm-a","response_id":"r2","answers":{` + full + `,"kebersihan":4}}` + "\n" +
		`{"unit":"pkm-a","response_id":"r3","answers":{"persyaratan":4}}` + "\n" +
		`{"unit":"pkm-a","response_id":"r4","answers":{` + full + `},"extra":1}` + "\n" +
		`{"unit":"pkm-a","response_id":"r5","answers":{` + strings.Replace(full, "4", "3.5", 1) + `}}` + "\n" +
		`{"response_id":"r6","answers":{` + full + `}}` + "\n" +
		`{"unit":"pkm-a","response_id":"r7","answers":{` + full + `},"profile":{"name":"x"}}` + "\n" +
		"{\n"
	lines, answers, problems, err := readAll(t, "jsonl", body, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		line    int
		problem string
	}{
		{1, ""}, {3, `unknown element code "kebersihan"`}, {4, `missing "prosedur"`}, {5, `unknown field "extra"`},
		{6, `persyaratan: "3.5" is not a whole number`}, {7, "no unit"}, {8, `profile: unknown field "name"`}, {9, "not a JSON object"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d: %q", len(lines), len(want), problems)
	}
	for i, w := range want {
		if lines[i].line != w.line || (w.problem == "") != (problems[i] == "") || !strings.Contains(problems[i], w.problem) {
			t.Errorf("line %d: read as line %d, problem %q, want %q", w.line, lines[i].line, problems[i], w.problem)
		}
	}
	if !slices.Equal(answers[0], []uint32{4, 3, 2, 4, 4, 4, 4, 4, 1}) {
		t.Errorf("answers of line 1: %v", answers[0])
	}
	if p := lines[0].profile; p.GetEducation() != assessmentv1.Education_EDUCATION_SENIOR_SECONDARY || p.GetOccupation() != assessmentv1.Occupation_OCCUPATION_CIVIL_SERVANT {
		t.Errorf("profile of line 1: %v", p)
	}
}

// An empty cell of an element the unit's survey lacks is no answer (a file
// of two units with different surveys); a filled one is an unknown code.
func TestMapAnswersOtherUnitsColumns(t *testing.T) {
	l := surveyLine{unit: "pkm-a", answers: []fileAnswer{{code: "waktu", raw: "3"}, {code: "kebersihan", empty: true}}}
	if a, p := mapAnswers(l, []string{"waktu"}); p != "" || !slices.Equal(a, []uint32{3}) {
		t.Errorf("%v %q", a, p)
	}
	l.answers[1] = fileAnswer{code: "kebersihan", raw: "4"}
	if _, p := mapAnswers(l, []string{"waktu"}); !strings.Contains(p, `unknown element code "kebersihan"`) {
		t.Errorf("%q", p)
	}
}

func TestSurveyFormatAndNamedAnswer(t *testing.T) {
	for _, tc := range []struct{ path, flag, want string }{
		{"a.csv", "", "csv"}, {"a.CSV", "", "csv"}, {"a.jsonl", "", "jsonl"}, {"a.ndjson", "", "jsonl"}, {"a.dat", "jsonl", "jsonl"}, {"a.dat", "", ""}, {"a.csv", "xml", ""},
	} {
		got, err := surveyFormat(tc.path, tc.flag)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("%s --format %q: %q %v", tc.path, tc.flag, got, err)
		}
	}
	if got := namedAnswer("answers[2]: must be <= 4; answers[12]: x", skm2017[:3]); got != "answers[2] (waktu): must be <= 4; answers[12]: x" {
		t.Errorf("%q", got)
	}
}

func TestSurveyDefinitionFlags(t *testing.T) {
	def, err := surveyDefinition([]string{"waktu=1/9", " kebersihan = 0.1:Kebersihan ruang tunggu"}, "")
	if err != nil {
		t.Fatal(err)
	}
	want := &assessmentv1.SurveyDefinition{Elements: []*assessmentv1.SurveyElement{{Code: "waktu", Weight: "1/9"}, {Code: "kebersihan", Weight: "0.1", Name: "Kebersihan ruang tunggu"}}}
	if !proto.Equal(def, want) {
		t.Errorf("%v", def)
	}
	for _, bad := range [][]string{{"waktu"}, {"=1/9"}, {"waktu="}} {
		if _, err := surveyDefinition(bad, ""); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := surveyDefinition(nil, ""); err == nil {
		t.Error("no element accepted")
	}
}

// The result shows every element's counts and mean, the index and band,
// the sample check and the record; a stored control character is escaped.
func TestRenderSurveyResult(t *testing.T) {
	r := &assessmentv1.SurveyResult{RoundId: "skm-2026", UnitId: "pkm-a", ProvinceCode: "63", Respondents: 4, Index: "80.48", BandCode: "B", BandLabel: "Baik\x1b[2J",
		Elements:   []*assessmentv1.SurveyElementResult{{Code: "waktu", Weight: "0.111", Counts: []int64{1, 1, 0, 2}, Total: 12, Mean: "3.00"}},
		Population: 1200, RequiredSample: 291, SampleBelowGuidance: true, RecordedRevision: 2,
		Record: &assessmentv1.Assessment{Revision: 2, Total: "80.48", BandCode: "B"}}
	var b strings.Builder
	if err := renderSurveyResult(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"waktu    0.111   1  1  0  2  3.00", "index        80.48", "below guidance: 4 respondents, 291 required for 1200",
		"revision 2 carries this result (80.48 B)"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("a raw escape:\n%q", out)
	}
}
