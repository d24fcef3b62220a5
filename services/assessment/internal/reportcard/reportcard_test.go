package reportcard

import (
	"slices"
	"strings"
	"testing"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

var ombudsman = []string{"input", "proses", "output", "pengaduan"}

func note(dim, text string) model.ImprovementNote {
	return model.ImprovementNote{DimensionCode: dim, Note: text}
}

func TestNumber(t *testing.T) {
	cases := []struct {
		name    string
		codes   []string
		given   []model.ImprovementNote
		wantIDs []string
		// wantErr lists what the message must say; nil: no error.
		wantErr []string
	}{
		{name: "none", codes: ombudsman},
		{
			name: "per dimension and overall, numbered in order", codes: ombudsman,
			given:   []model.ImprovementNote{note("pengaduan", "publish the complaint standard"), note("", "overall"), note("input", "train the counter staff")},
			wantIDs: []string{"ombudsman-2023/1", "ombudsman-2023/2", "ombudsman-2023/3"},
		},
		{
			name: "ids sent are ignored", codes: ombudsman,
			given:   []model.ImprovementNote{{ID: "ombudsman-2023/9", DimensionCode: "output", Note: "x"}},
			wantIDs: []string{"ombudsman-2023/1"},
		},
		{
			name: "unknown dimension", codes: ombudsman,
			given:   []model.ImprovementNote{note("input", "a"), note("sarpras", "b")},
			wantErr: []string{"input.improvement_notes[1].dimension_code", `"sarpras"`, "ombudsman 2022", "input, proses, output, pengaduan"},
		},
		{
			name:    "a version without dimensions takes overall notes only",
			given:   []model.ImprovementNote{note("", "a"), note("input", "b")},
			wantErr: []string{"input.improvement_notes[1].dimension_code", "no dimensions"},
		},
		{
			name:    "a version without dimensions, overall",
			given:   []model.ImprovementNote{note("", "a")},
			wantIDs: []string{"ombudsman-2023/1"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Number("ombudsman-2023", "ombudsman 2022", c.codes, c.given)
			if c.wantErr != nil {
				if !fault.Is(err, fault.Invalid) {
					t.Fatalf("err = %v; want InvalidArgument", err)
				}
				for _, w := range c.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%q does not say %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for i, n := range got {
				ids = append(ids, n.ID)
				if n.DimensionCode != c.given[i].DimensionCode || n.Note != c.given[i].Note {
					t.Errorf("note %d = %+v; given %+v", i, n, c.given[i])
				}
			}
			if !slices.Equal(ids, c.wantIDs) {
				t.Errorf("ids %v; want %v", ids, c.wantIDs)
			}
		})
	}
}

func rec(scheme string, year int32, round string) *model.Assessment {
	return &model.Assessment{SchemeID: scheme, Year: year, RoundID: round, Revision: 1}
}

func TestPrevious(t *testing.T) {
	history := []*model.Assessment{
		rec("ombudsman", 2022, "ombudsman-2022"),
		rec("sakip", 2023, "sakip-2023"),
		rec("ombudsman", 2024, "ombudsman-2024"),
		rec("ombudsman", 2023, "ombudsman-2023"),
		nil,
		rec("ombudsman", 2025, "ombudsman-2025"),
	}
	cases := []struct {
		scheme string
		year   int32
		want   string // round id; "" none
	}{
		{"ombudsman", 2024, "ombudsman-2023"},
		{"ombudsman", 2025, "ombudsman-2024"},
		{"ombudsman", 2026, "ombudsman-2025"},
		{"ombudsman", 2023, "ombudsman-2022"},
		{"ombudsman", 2022, ""},
		{"sakip", 2024, "sakip-2023"},
		{"sakip", 2023, ""},
		{"skm", 2024, ""},
	}
	for _, c := range cases {
		got := Previous(history, c.scheme, c.year)
		id := ""
		if got != nil {
			id = got.RoundID
		}
		if id != c.want {
			t.Errorf("Previous(%s, %d) = %q; want %q", c.scheme, c.year, id, c.want)
		}
	}
	// Two rounds of one year: the choice does not depend on the order.
	a, b := rec("x", 2023, "x-2023"), rec("x", 2023, "x-2023b")
	if Previous([]*model.Assessment{a, b}, "x", 2024) != Previous([]*model.Assessment{b, a}, "x", 2024) {
		t.Error("the previous record depends on the history's order")
	}
}

func prev2023() *model.Assessment {
	a := rec("ombudsman", 2023, "ombudsman-2023")
	a.Revision = 2
	a.ImprovementNotes = []model.ImprovementNote{
		{ID: "ombudsman-2023/1", DimensionCode: "pengaduan", Note: "publish the complaint standard"},
		{ID: "ombudsman-2023/2", DimensionCode: "input", Note: "train the counter staff"},
		{ID: "ombudsman-2023/3", Note: "overall"},
	}
	return a
}

func TestResolve(t *testing.T) {
	cases := []struct {
		name    string
		prev    *model.Assessment
		fus     []model.NoteFollowUp
		wantErr []string
	}{
		{name: "none, no earlier record"},
		{name: "none", prev: prev2023()},
		{
			name: "some, in any order", prev: prev2023(),
			fus: []model.NoteFollowUp{{NoteID: "ombudsman-2023/2", Addressed: true, Comment: "done"}, {NoteID: "ombudsman-2023/1"}},
		},
		{
			name: "no earlier record", fus: []model.NoteFollowUp{{NoteID: "ombudsman-2023/1"}},
			wantErr: []string{"input.follow_ups[0].note_id", "hss has no earlier assessment in scheme ombudsman before 2024"},
		},
		{
			name: "unknown note", prev: prev2023(),
			fus:     []model.NoteFollowUp{{NoteID: "ombudsman-2023/1"}, {NoteID: "ombudsman-2023/7"}},
			wantErr: []string{"input.follow_ups[1].note_id", `"ombudsman-2023/7"`, "ombudsman-2023/1, ombudsman-2023/2, ombudsman-2023/3", "revision 2"},
		},
		{
			name: "a note of an older year", prev: prev2023(),
			fus:     []model.NoteFollowUp{{NoteID: "ombudsman-2022/1"}},
			wantErr: []string{"input.follow_ups[0].note_id", `"ombudsman-2022/1"`},
		},
		{
			name: "earlier record without notes", prev: rec("ombudsman", 2023, "ombudsman-2023"),
			fus:     []model.NoteFollowUp{{NoteID: "ombudsman-2023/1"}},
			wantErr: []string{"input.follow_ups[0].note_id", "it has no notes"},
		},
		{
			name: "twice", prev: prev2023(),
			fus:     []model.NoteFollowUp{{NoteID: "ombudsman-2023/3"}, {NoteID: "ombudsman-2023/1"}, {NoteID: "ombudsman-2023/3", Addressed: true}},
			wantErr: []string{"input.follow_ups[2].note_id", "input.follow_ups[0]"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Resolve(c.prev, c.fus, "hss", "ombudsman", 2024)
			if c.wantErr != nil {
				if !fault.Is(err, fault.Invalid) {
					t.Fatalf("err = %v; want InvalidArgument", err)
				}
				for _, w := range c.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%q does not say %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.fus) {
				t.Fatalf("%d follow-ups; want %d", len(got), len(c.fus))
			}
			for i, f := range got {
				g := c.fus[i]
				if f.NoteID != g.NoteID || f.Addressed != g.Addressed || f.Comment != g.Comment || f.Note == nil || f.Note.ID != g.NoteID {
					t.Errorf("follow-up %d = %+v; given %+v", i, f, g)
				}
			}
		})
	}
	// The note filled in is the earlier record's, not shared with it.
	p := prev2023()
	got, err := Resolve(p, []model.NoteFollowUp{{NoteID: "ombudsman-2023/1", Note: &model.ImprovementNote{Note: "sent by the caller"}}}, "hss", "ombudsman", 2024)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Note.Note != "publish the complaint standard" || got[0].Note.DimensionCode != "pengaduan" {
		t.Errorf("note = %+v; want the earlier record's", got[0].Note)
	}
	got[0].Note.Note = "changed"
	if p.ImprovementNotes[0].Note != "publish the complaint standard" {
		t.Error("the follow-up shares its note with the earlier record")
	}
}

func TestPending(t *testing.T) {
	earlier := prev2023().ImprovementNotes
	cases := []struct {
		fus  []model.NoteFollowUp
		want []string
	}{
		{nil, []string{"ombudsman-2023/1", "ombudsman-2023/2", "ombudsman-2023/3"}},
		{[]model.NoteFollowUp{{NoteID: "ombudsman-2023/2", Addressed: true}}, []string{"ombudsman-2023/1", "ombudsman-2023/3"}},
		// Not addressed is still reviewed.
		{[]model.NoteFollowUp{{NoteID: "ombudsman-2023/3"}, {NoteID: "ombudsman-2023/1"}}, []string{"ombudsman-2023/2"}},
		{[]model.NoteFollowUp{{NoteID: "ombudsman-2023/1"}, {NoteID: "ombudsman-2023/2"}, {NoteID: "ombudsman-2023/3"}}, nil},
	}
	for _, c := range cases {
		var ids []string
		for _, n := range Pending(earlier, c.fus) {
			ids = append(ids, n.ID)
		}
		if !slices.Equal(ids, c.want) {
			t.Errorf("Pending with %v = %v; want %v", c.fus, ids, c.want)
		}
	}
	if Pending(nil, nil) != nil {
		t.Error("no earlier notes, something pending")
	}
}
