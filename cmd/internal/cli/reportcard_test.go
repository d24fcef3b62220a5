package cli

import (
	"bytes"
	"strings"
	"testing"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
)

func hss2023() *assessmentv1.Assessment {
	return &assessmentv1.Assessment{RoundId: "ombudsman-2023", SchemeId: "ombudsman", SchemeVersion: "2022", Year: 2023, InstitutionId: "pemkab-hss",
		Total: "84.10", BandCode: "B", Revision: 1,
		ImprovementNotes: []*assessmentv1.ImprovementNote{
			{Id: "ombudsman-2023/1", DimensionCode: "pengaduan", Note: "publish the complaint standard"},
			{Id: "ombudsman-2023/2", DimensionCode: "input", Note: "train the counter staff"},
			{Id: "ombudsman-2023/3", Note: "keep the board current"},
		}}
}

func hss2024() *assessmentv1.Assessment {
	prev := hss2023().GetImprovementNotes()
	return &assessmentv1.Assessment{RoundId: "ombudsman-2024", SchemeId: "ombudsman", SchemeVersion: "2022", Year: 2024, InstitutionId: "pemkab-hss",
		Institution: &assessmentv1.InstitutionSnapshot{Name: "Pemerintah Kabupaten Hulu Sungai Selatan"},
		Total:       "91.20", BandCode: "A", BandLabel: "Kualitas Tertinggi", Basis: assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_TOTAL,
		Revision: 1, RecordedBy: "user:ayu",
		ImprovementNotes: []*assessmentv1.ImprovementNote{{Id: "ombudsman-2024/1", DimensionCode: "output", Note: "publish the survey results"}},
		FollowUps: []*assessmentv1.NoteFollowUp{
			// Given in another order than the notes: shown in theirs.
			{NoteId: "ombudsman-2023/2", Comment: "no training held", Note: prev[1]},
			{NoteId: "ombudsman-2023/1", Addressed: true, Comment: "posted at every counter", Note: prev[0]},
		}}
}

func TestRenderAssessmentCard(t *testing.T) {
	var out bytes.Buffer
	if err := renderAssessmentCard(&out, hss2024(), hss2023()); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"pemkab-hss  Pemerintah Kabupaten Hulu Sungai Selatan",
		"ombudsman-2024 (scheme ombudsman 2022, year 2024)",
		"A (Kualitas Tertinggi)",
		"revision 1 by user:ayu",
		"report card: 1 improvement note(s)",
		"ombudsman-2024/1  output     publish the survey results",
		"notes of ombudsman-2023: 1 addressed, 1 not addressed, 1 not reviewed",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	// One line per earlier note, in the earlier record's order.
	var rows []string
	for l := range strings.Lines(got) {
		if strings.HasPrefix(l, "  ombudsman-2023/") {
			rows = append(rows, strings.Join(strings.Fields(l), " "))
		}
	}
	want := []string{
		"ombudsman-2023/1 pengaduan addressed publish the complaint standard posted at every counter",
		"ombudsman-2023/2 input not addressed train the counter staff no training held",
		"ombudsman-2023/3 (overall) not reviewed keep the board current -",
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("follow-up rows:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
}

func TestRenderAssessmentCardWithoutEarlierRecord(t *testing.T) {
	cases := []struct {
		name string
		a    *assessmentv1.Assessment
		prev *assessmentv1.Assessment
		// wants and lacks are what the output must and must not say.
		wants, lacks []string
	}{
		{"no notes, no earlier record", &assessmentv1.Assessment{RoundId: "ombudsman-2024", InstitutionId: "pemkab-hss"}, nil,
			[]string{"report card: no improvement notes"}, []string{"notes of"}},
		{"no follow-ups: every earlier note not reviewed", &assessmentv1.Assessment{RoundId: "ombudsman-2024", InstitutionId: "pemkab-hss"}, hss2023(),
			[]string{"notes of ombudsman-2023: 3 not reviewed"}, []string{"addressed"}},
		{"the earlier record read is not the one followed up", hss2024(), &assessmentv1.Assessment{RoundId: "ombudsman-2022",
			ImprovementNotes: []*assessmentv1.ImprovementNote{{Id: "ombudsman-2022/1", Note: "old"}}},
			[]string{"1 addressed, 1 not addressed"}, []string{"not reviewed", "ombudsman-2022/1"}},
		{"follow-ups without the earlier record", hss2024(), nil,
			[]string{"notes of ombudsman-2023: 1 addressed, 1 not addressed"}, []string{"not reviewed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := renderAssessmentCard(&out, c.a, c.prev); err != nil {
				t.Fatal(err)
			}
			for _, w := range c.wants {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			for _, l := range c.lacks {
				if strings.Contains(out.String(), l) {
					t.Errorf("output says %q:\n%s", l, out.String())
				}
			}
		})
	}
}

// Notes and comments are free text: stored before the service refused
// control characters, they are shown escaped, never obeyed.
func TestRenderAssessmentCardEscapes(t *testing.T) {
	a := hss2024()
	a.ImprovementNotes[0].Note = "red\x1b[31m alert"
	a.FollowUps[0].Comment = "done\u202eenod"
	a.FollowUps[1].Note.Note = "line\nbreak"
	var out bytes.Buffer
	if err := renderAssessmentCard(&out, a, hss2023()); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if strings.ContainsAny(got, "\x1b\u202e") {
		t.Fatalf("raw control characters in the output:\n%q", got)
	}
	for _, want := range []string{`red\u{001B}[31m alert`, `done\u{202E}enod`, "line break"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

func TestAssessmentsShow(t *testing.T) {
	app, _, _, errOut := newTestApp(t)
	if code := app.Run(t.Context(), []string{"assessments", "show", "--round", "ombudsman-2024"}); code != 2 || !strings.Contains(errOut.String(), "--institution") {
		t.Fatalf("without --institution: exit %d, %s", code, errOut)
	}
}
