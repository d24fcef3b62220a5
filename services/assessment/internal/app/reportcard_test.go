package app

import (
	"context"
	"strings"
	"testing"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

// reportCard2023 records kab-banjar's 2023 Ombudsman result with three
// notes (two per dimension, one on the whole result) and returns the
// fixture, whose 2024 round is open.
func reportCard2023(t *testing.T) fixture {
	t.Helper()
	f := setup(t)
	ctx := context.Background()
	if _, err := f.app.CreateRound.Handle(ctx, CreateRound{SchemeID: "ombudsman", Year: 2023, By: "tester"}); err != nil {
		t.Fatal(err)
	}
	rec := RecordAssessment{RoundID: "ombudsman-2023", InstitutionID: "kab-banjar", RequestID: "r2023", By: "tester",
		Input: model.Input{ReportedTotal: "84.10", ImprovementNotes: notes2023()}}
	got, err := f.app.RecordAssessment.Handle(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	want := []model.ImprovementNote{
		{ID: "ombudsman-2023/1", DimensionCode: "pengaduan", Note: "publish the complaint-handling standard at the counter"},
		{ID: "ombudsman-2023/2", DimensionCode: "input", Note: "train the counter staff"},
		{ID: "ombudsman-2023/3", Note: "keep the service standard up to date"},
	}
	if !sameNotes(got.Assessment.ImprovementNotes, want) {
		t.Fatalf("2023 notes %+v; want %+v", got.Assessment.ImprovementNotes, want)
	}
	return f
}

func notes2023() []model.ImprovementNote {
	return []model.ImprovementNote{
		{DimensionCode: "pengaduan", Note: "publish the complaint-handling standard at the counter"},
		{DimensionCode: "input", Note: "train the counter staff"},
		{Note: "keep the service standard up to date"},
	}
}

func sameNotes(a, b []model.ImprovementNote) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func followUps2024() []model.NoteFollowUp {
	return []model.NoteFollowUp{
		{NoteID: "ombudsman-2023/1", Addressed: true, Comment: "standard posted at the counter"},
		{NoteID: "ombudsman-2023/3", Comment: "still the 2021 standard"},
	}
}

func record2024(requestID string) RecordAssessment {
	return RecordAssessment{RoundID: "ombudsman-2024", InstitutionID: "kab-banjar", RequestID: requestID, By: "tester",
		Input: model.Input{ReportedTotal: "90.25", ImprovementNotes: []model.ImprovementNote{{DimensionCode: "output", Note: "publish the survey results"}},
			FollowUps: followUps2024()}}
}

// A record's follow-ups name the previous year's notes and carry their text.
func TestReportCardFollowsUpLastYearsNotes(t *testing.T) {
	f := reportCard2023(t)
	ctx := context.Background()
	got, err := f.app.RecordAssessment.Handle(ctx, record2024("r2024"))
	if err != nil {
		t.Fatal(err)
	}
	a := got.Assessment
	if len(a.ImprovementNotes) != 1 || a.ImprovementNotes[0].ID != "ombudsman-2024/1" || a.ImprovementNotes[0].DimensionCode != "output" {
		t.Fatalf("2024 notes %+v", a.ImprovementNotes)
	}
	if len(a.FollowUps) != 2 {
		t.Fatalf("follow-ups %+v", a.FollowUps)
	}
	first, second := a.FollowUps[0], a.FollowUps[1]
	if !first.Addressed || first.Comment != "standard posted at the counter" || first.Note == nil ||
		first.Note.DimensionCode != "pengaduan" || first.Note.Note != "publish the complaint-handling standard at the counter" {
		t.Errorf("first follow-up %+v (note %+v)", first, first.Note)
	}
	if second.Addressed || second.Note == nil || second.Note.ID != "ombudsman-2023/3" || second.Note.DimensionCode != "" || second.Note.Note != "keep the service standard up to date" {
		t.Errorf("second follow-up %+v (note %+v)", second, second.Note)
	}
	// Stored as answered.
	stored, err := f.store.Assessment(ctx, RecordKey{SchemeID: "ombudsman", Year: 2024, InstitutionID: "kab-banjar"}, "ombudsman-2024", 0)
	if err != nil || len(stored.FollowUps) != 2 || stored.FollowUps[0].Note == nil || len(stored.ImprovementNotes) != 1 {
		t.Fatalf("stored %+v, %v", stored, err)
	}
}

// The previous assessment is the latest revision of the most recent earlier
// year: a 2023 correction's notes count, a 2022 note does not.
func TestReportCardFollowsTheLatestRevisionOfTheLatestYear(t *testing.T) {
	f := reportCard2023(t)
	ctx := context.Background()
	if _, err := f.app.CreateRound.Handle(ctx, CreateRound{SchemeID: "ombudsman", Year: 2022, By: "tester"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.RecordAssessment.Handle(ctx, RecordAssessment{RoundID: "ombudsman-2022", InstitutionID: "kab-banjar", RequestID: "r2022", By: "tester",
		Input: model.Input{ReportedTotal: "70.00", ImprovementNotes: []model.ImprovementNote{{Note: "a"}, {Note: "b"}, {Note: "c"}, {Note: "d"}}}}); err != nil {
		t.Fatal(err)
	}
	fix := RecordAssessment{RoundID: "ombudsman-2023", InstitutionID: "kab-banjar", RequestID: "r2023-fix", By: "tester", CorrectsRevision: 1, Reason: "notes revised",
		Input: model.Input{ReportedTotal: "84.10", ImprovementNotes: []model.ImprovementNote{{DimensionCode: "proses", Note: "shorten the queue"}}}}
	if _, err := f.app.RecordAssessment.Handle(ctx, fix); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		noteID  string
		wantErr string // "" accepted
	}{
		{"ombudsman-2023/1", ""},
		{"ombudsman-2023/2", "its notes: ombudsman-2023/1"},
		{"ombudsman-2022/4", "round ombudsman-2023, revision 2"},
	}
	for i, c := range cases {
		rec := record2024("r-latest-" + string(rune('a'+i)))
		rec.Input.FollowUps = []model.NoteFollowUp{{NoteID: c.noteID, Addressed: true}}
		got, err := f.app.RecordAssessment.Handle(ctx, rec)
		if c.wantErr == "" {
			if err != nil || got.Assessment.FollowUps[0].Note.Note != "shorten the queue" {
				t.Fatalf("%s: %+v, %v", c.noteID, got.Assessment, err)
			}
			continue
		}
		if !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), "input.follow_ups[0].note_id") || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%s: %v; want InvalidArgument saying %q", c.noteID, err, c.wantErr)
		}
	}
}

func TestReportCardRefusals(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*RecordAssessment)
		field string
		says  string
	}{
		{"unknown dimension", func(r *RecordAssessment) {
			r.Input.ImprovementNotes = []model.ImprovementNote{{DimensionCode: "output", Note: "a"}, {DimensionCode: "sarpras", Note: "b"}}
		}, "input.improvement_notes[1].dimension_code", "input, proses, output, pengaduan"},
		{"unknown note", func(r *RecordAssessment) {
			r.Input.FollowUps = []model.NoteFollowUp{{NoteID: "ombudsman-2023/4"}}
		}, "input.follow_ups[0].note_id", "ombudsman-2023/1, ombudsman-2023/2, ombudsman-2023/3"},
		{"this year's note", func(r *RecordAssessment) {
			r.Input.FollowUps = []model.NoteFollowUp{{NoteID: "ombudsman-2024/1"}}
		}, "input.follow_ups[0].note_id", "previous assessment (round ombudsman-2023"},
		{"a note twice", func(r *RecordAssessment) {
			r.Input.FollowUps = append(followUps2024(), model.NoteFollowUp{NoteID: "ombudsman-2023/1", Addressed: false})
		}, "input.follow_ups[2].note_id", "already followed up in input.follow_ups[0]"},
		{"bidi in a note", func(r *RecordAssessment) {
			r.Input.ImprovementNotes = []model.ImprovementNote{{Note: "ok"}, {Note: "abc\u202edef"}}
		}, "input.improvement_notes[1].note", "right-to-left override"},
		{"control in a comment", func(r *RecordAssessment) {
			r.Input.FollowUps = []model.NoteFollowUp{{NoteID: "ombudsman-2023/1", Comment: "done\nreally"}}
		}, "input.follow_ups[0].comment", "line feed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := reportCard2023(t)
			rec := record2024("r-bad")
			c.edit(&rec)
			_, err := f.app.RecordAssessment.Handle(context.Background(), rec)
			if !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), c.field) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("%v; want InvalidArgument naming %s and saying %q", err, c.field, c.says)
			}
			if f.store.appends != 1 {
				t.Fatalf("%d appends: a refused record appends nothing", f.store.appends)
			}
		})
	}
}

// Follow-ups without an earlier assessment name nothing.
func TestReportCardFollowUpWithoutEarlierAssessment(t *testing.T) {
	f := setup(t)
	rec := record2024("r1")
	_, err := f.app.RecordAssessment.Handle(context.Background(), rec)
	if !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), "kab-banjar has no earlier assessment in scheme ombudsman before 2024") {
		t.Fatalf("%v", err)
	}
	// Notes alone need none.
	rec.Input.FollowUps = nil
	if _, err := f.app.RecordAssessment.Handle(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
}

func TestReportCardRequestIdentity(t *testing.T) {
	f := reportCard2023(t)
	ctx := context.Background()
	first, err := f.app.RecordAssessment.Handle(ctx, record2024("r2024"))
	if err != nil {
		t.Fatal(err)
	}
	// The same notes, follow-ups in another order, ids sent or not: the
	// same request.
	again := record2024("r2024")
	again.Input.FollowUps = []model.NoteFollowUp{again.Input.FollowUps[1], again.Input.FollowUps[0]}
	again.Input.ImprovementNotes[0].ID = "ignored/1"
	if got, err := f.app.RecordAssessment.Handle(ctx, again); err != nil || got.Created || got.Assessment != first.Assessment {
		t.Fatalf("retry = %+v, %v", got, err)
	}
	edits := map[string]func(*RecordAssessment){
		"other note text": func(r *RecordAssessment) { r.Input.ImprovementNotes[0].Note = "publish the survey" },
		"other dimension": func(r *RecordAssessment) { r.Input.ImprovementNotes[0].DimensionCode = "proses" },
		"a note more": func(r *RecordAssessment) {
			r.Input.ImprovementNotes = append(r.Input.ImprovementNotes, model.ImprovementNote{Note: "x"})
		},
		"no notes":          func(r *RecordAssessment) { r.Input.ImprovementNotes = nil },
		"addressed changed": func(r *RecordAssessment) { r.Input.FollowUps[1].Addressed = true },
		"comment changed":   func(r *RecordAssessment) { r.Input.FollowUps[0].Comment = "" },
		"a follow-up less":  func(r *RecordAssessment) { r.Input.FollowUps = r.Input.FollowUps[:1] },
		"notes in new order": func(r *RecordAssessment) {
			r.Input.ImprovementNotes = append([]model.ImprovementNote{{Note: "x"}}, r.Input.ImprovementNotes...)
		},
	}
	for name, edit := range edits {
		rec := record2024("r2024")
		edit(&rec)
		if _, err := f.app.RecordAssessment.Handle(ctx, rec); !isRequestReused(err, "r2024") {
			t.Errorf("%s: %v; want AlreadyExists", name, err)
		}
	}
	if f.store.appends != 2 {
		t.Fatalf("%d appends, want 2", f.store.appends)
	}
}

// A request without a report card keeps the fingerprint it had before
// report cards existed: nothing of them is digested unless given.
func TestReportCardFingerprintOnlyWhenGiven(t *testing.T) {
	plain := bandA("r1")
	empty := bandA("r1")
	empty.Input.ImprovementNotes, empty.Input.FollowUps = []model.ImprovementNote{}, []model.NoteFollowUp{}
	// The digest of this request as stored before report cards existed.
	const before = "sha256:c8cd674aad9ae52ca1c8399833b3935a6235d2122f5279b042e6033e4bcb1fef"
	if plain.fingerprint(false) != before || empty.fingerprint(false) != before {
		t.Fatalf("fingerprints %s and %s; want %s as before", plain.fingerprint(false), empty.fingerprint(false), before)
	}
	noted := bandA("r1")
	noted.Input.ImprovementNotes = []model.ImprovementNote{{Note: "x"}}
	followed := bandA("r1")
	followed.Input.FollowUps = []model.NoteFollowUp{{NoteID: "x-2023/1"}}
	if noted.fingerprint(false) == plain.fingerprint(false) || followed.fingerprint(false) == plain.fingerprint(false) || noted.fingerprint(false) == followed.fingerprint(false) {
		t.Fatal("a report card left the fingerprint as it was")
	}
}

// A correction after publication states its notes as a record does, ids
// given afresh; an objection's acceptance too.
func TestReportCardOnCorrections(t *testing.T) {
	f := reportCard2023(t)
	ctx := context.Background()
	if _, err := f.app.RecordAssessment.Handle(ctx, record2024("r2024")); err != nil {
		t.Fatal(err)
	}
	publish(t, f)
	fix := record2024("fix-1")
	fix.CorrectsRevision, fix.Reason = 1, "second note"
	fix.Input.ImprovementNotes = append(fix.Input.ImprovementNotes, model.ImprovementNote{DimensionCode: "pengaduan", Note: "answer complaints within 14 days"})
	fix.Input.FollowUps[1].Addressed = true
	got, err := f.app.CorrectAssessment.Handle(ctx, fix)
	if err != nil {
		t.Fatal(err)
	}
	a := got.Assessment
	if !a.AfterPublication || len(a.ImprovementNotes) != 2 || a.ImprovementNotes[1].ID != "ombudsman-2024/2" || a.ImprovementNotes[1].DimensionCode != "pengaduan" ||
		len(a.FollowUps) != 2 || !a.FollowUps[1].Addressed || a.FollowUps[1].Note == nil || a.FollowUps[1].Note.ID != "ombudsman-2023/3" {
		t.Fatalf("correction %+v", a)
	}
	bad := record2024("fix-2")
	bad.CorrectsRevision, bad.Reason = 2, "typo"
	bad.Input.FollowUps = []model.NoteFollowUp{{NoteID: "ombudsman-2023/9"}}
	if _, err := f.app.CorrectAssessment.Handle(ctx, bad); !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), "input.follow_ups[0].note_id") {
		t.Fatalf("correction with an unknown note: %v", err)
	}
}

func TestReportCardOnAcceptedObjection(t *testing.T) {
	f := closedRound(t)
	ctx := context.Background()
	filed, err := f.app.FileObjection.Handle(ctx, fileBanjar("o1"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.app.DecideObjection.Handle(ctx, DecideObjection{RoundID: "ombudsman-2024", InstitutionID: "kab-banjar", ObjectionID: filed.Objection.ID,
		Decision: model.ObjectionAccepted, Reasons: "register verified", RequestID: "d1", By: "reviewer",
		Input: &model.Input{ReportedTotal: "81.25", ImprovementNotes: []model.ImprovementNote{{DimensionCode: "pengaduan", Note: "keep the complaint register"}}}})
	if err != nil {
		t.Fatal(err)
	}
	c := got.Correction
	if c == nil || len(c.ImprovementNotes) != 1 || c.ImprovementNotes[0].ID != "ombudsman-2024/1" || c.ImprovementNotes[0].Note != "keep the complaint register" {
		t.Fatalf("correction %+v", c)
	}
	filed2, err := f.app.FileObjection.Handle(ctx, fileBanjar("o2"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.app.DecideObjection.Handle(ctx, DecideObjection{RoundID: "ombudsman-2024", InstitutionID: "kab-banjar", ObjectionID: filed2.Objection.ID,
		Decision: model.ObjectionAccepted, Reasons: "r", RequestID: "d2", By: "other-reviewer",
		Input: &model.Input{ReportedTotal: "81.25", ImprovementNotes: []model.ImprovementNote{{Note: "hidden\u2066text"}}}})
	if !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), "input.improvement_notes[0].note") {
		t.Fatalf("a bidi note in an acceptance: %v", err)
	}
}

// A batch composes its records as RecordAssessment does: notes numbered,
// follow-ups resolved, a bad one refusing the batch by its index.
func TestReportCardInABatch(t *testing.T) {
	a, st, recs := batchFixture(t, 3)
	ctx := context.Background()
	if _, err := a.CreateRound.Handle(ctx, CreateRound{SchemeID: "ombudsman", Year: 2023, By: "tester"}); err != nil {
		t.Fatal(err)
	}
	prev := recs[1]
	prev.RoundID, prev.RequestID = "ombudsman-2023", "prev"
	prev.Input.ImprovementNotes = notes2023()
	if _, err := a.RecordAssessment.Handle(ctx, prev); err != nil {
		t.Fatal(err)
	}
	bad := append([]RecordAssessment(nil), recs...)
	bad[2].Input.FollowUps = []model.NoteFollowUp{{NoteID: "ombudsman-2023/1"}}
	if _, err := a.BatchRecord.Handle(ctx, BatchRecord{RoundID: "ombudsman-2024", Records: bad}); !fault.Is(err, fault.Invalid) ||
		!strings.Contains(err.Error(), "records[2]") || !strings.Contains(err.Error(), "no earlier assessment") {
		t.Fatalf("batch with a follow-up of nothing: %v", err)
	}
	recs[1].Input.ImprovementNotes = []model.ImprovementNote{{DimensionCode: "proses", Note: "shorten the queue"}}
	recs[1].Input.FollowUps = []model.NoteFollowUp{{NoteID: "ombudsman-2023/2", Addressed: true}}
	got, err := a.BatchRecord.Handle(ctx, BatchRecord{RoundID: "ombudsman-2024", Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	r := got[1].Assessment
	if len(r.ImprovementNotes) != 1 || r.ImprovementNotes[0].ID != "ombudsman-2024/1" || len(r.FollowUps) != 1 || r.FollowUps[0].Note == nil || r.FollowUps[0].Note.Note != "train the counter staff" {
		t.Fatalf("batch record %+v", r)
	}
	if len(got[0].Assessment.ImprovementNotes) != 0 || st.appends != 4 {
		t.Fatalf("other records %+v, %d appends", got[0].Assessment, st.appends)
	}
	// Sent again: answered, not stored twice.
	again, err := a.BatchRecord.Handle(ctx, BatchRecord{RoundID: "ombudsman-2024", Records: recs})
	if err != nil || again[1].Assessment != r || st.appends != 4 {
		t.Fatalf("batch again: %+v, %v, %d appends", again, err, st.appends)
	}
}
