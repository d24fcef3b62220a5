package app

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
)

// fakeSurveys is a SurveyStore in memory. meanwhile, when set, runs once
// before the next batch lands, as another writer would, and the batch is
// then refused as the log would refuse it.
type fakeSurveys struct {
	intake    SurveyIntake
	units     map[SurveyKey]*fakeUnit
	pos       uint64
	meanwhile func()
	batches   int
}

type fakeUnit struct {
	position uint64
	ids      map[string]ResponseDigest
	counts   SurveyCounts
}

func newFakeSurveys() *fakeSurveys {
	return &fakeSurveys{intake: SurveyIntake{Open: true}, units: map[SurveyKey]*fakeUnit{}}
}

func (f *fakeSurveys) unit(k SurveyKey) *fakeUnit {
	u := f.units[k]
	if u == nil {
		u = &fakeUnit{ids: map[string]ResponseDigest{}, counts: SurveyCounts{UnitID: k.UnitID}}
		f.units[k] = u
	}
	return u
}

func (f *fakeSurveys) SurveyIntake(context.Context, string, string, int32) (SurveyIntake, error) {
	return f.intake, nil
}

func (f *fakeSurveys) ChangeIntake(_ context.Context, _, _ string, _ int32, open bool) (uint64, error) {
	if f.intake.Open != open || f.intake.Position == 0 {
		f.pos++
		f.intake = SurveyIntake{Open: open, Position: f.pos}
	}
	return f.intake.Position, nil
}

func (f *fakeSurveys) SurveyUnit(_ context.Context, k SurveyKey, _ bool) (SurveyUnitState, error) {
	u := f.unit(k)
	ids := maps.Clone(u.ids)
	return SurveyUnitState{Position: u.position, Stored: func(id string) (ResponseDigest, bool) {
		d, ok := ids[id]
		return d, ok
	}}, nil
}

func (f *fakeSurveys) add(k SurveyKey, rs []SurveyAnswer) {
	u := f.unit(k)
	f.pos++
	for _, r := range rs {
		u.ids[r.ResponseID] = r.Digest()
		if u.counts.Counts == nil {
			u.counts.Counts = make([][4]int64, len(r.Answers))
		}
		for i, a := range r.Answers {
			u.counts.Counts[i][a-1]++
		}
		u.counts.Respondents++
	}
	u.position, u.counts.Position = f.pos, f.pos
}

func (f *fakeSurveys) StoreSurveyBatch(_ context.Context, in SurveyIntake, ws []SurveyWrite, _ string) (uint64, error) {
	if m := f.meanwhile; m != nil {
		f.meanwhile = nil
		m()
	}
	if in != f.intake {
		return 0, ErrBatchMoved
	}
	for _, w := range ws {
		if f.unit(w.Key).position != w.Expect {
			return 0, ErrBatchMoved
		}
	}
	for _, w := range ws {
		f.add(w.Key, w.Responses)
	}
	f.batches++
	return f.pos, nil
}

func (f *fakeSurveys) DefineUnitSurvey(context.Context, SurveyKey, SurveyDef, string) (SurveyDef, bool, error) {
	return SurveyDef{}, false, fault.Preconditionf("not in this fake")
}

func (f *fakeSurveys) SurveyCounts(roundID, unitID string) (SurveyCounts, bool) {
	for k, u := range f.units {
		if k.RoundID == roundID && k.UnitID == unitID {
			return u.counts, true
		}
	}
	return SurveyCounts{}, false
}

func (f *fakeSurveys) SurveyUnits(roundID, after string, limit int) ([]string, bool) {
	var out []string
	for k := range f.units {
		if k.RoundID == roundID && k.UnitID > after {
			out = append(out, k.UnitID)
		}
	}
	return out, false
}

func (f *fakeSurveys) SurveyRounds() []string                    { return []string{"skm-2026"} }
func (f *fakeSurveys) SyncSurveys(context.Context) error         { return nil }
func (f *fakeSurveys) WaitSurveys(context.Context, uint64) error { return nil }

type surveyFixture struct {
	app     *App
	store   *fakeStore
	surveys *fakeSurveys
	key     SurveyKey
}

func setupSurveys(t *testing.T) surveyFixture {
	t.Helper()
	cat, err := scheme.Load()
	if err != nil {
		t.Fatal(err)
	}
	unit := model.Kind(9)
	st, reg := newFakeStore(), &fakeRegistry{institutions: map[string]model.Institution{
		"puskesmas-a": {ID: "puskesmas-a", Name: "Puskesmas A", Kind: unit, RegionCode: "63.03", ParentID: "kab-banjar", YearlyServiceUsers: 100},
	}}
	a := New(cat, st, reg, fixedClock{time.Date(2026, 6, 15, 2, 0, 0, 0, time.UTC)}, dayWindows{})
	fs := newFakeSurveys()
	a.EnableSurveys(fs)
	if _, err := a.CreateRound.Handle(context.Background(), CreateRound{SchemeID: "skm", Year: 2026, By: "tester"}); err != nil {
		t.Fatal(err)
	}
	return surveyFixture{app: a, store: st, surveys: fs, key: SurveyKey{RoundID: "skm-2026", SchemeID: "skm", Year: 2026, UnitID: "puskesmas-a"}}
}

func nine(v uint32) []uint32 { return []uint32{v, v, v, v, v, v, v, v, v} }

func submitChunks(t *testing.T, a *App, chunks ...SurveyChunk) (SubmitResult, error) {
	t.Helper()
	s := a.Surveys.Begin("user:kiosk")
	for _, c := range chunks {
		if err := s.Add(context.Background(), c); err != nil {
			return SubmitResult{}, err
		}
	}
	return s.Finish(context.Background())
}

// A batch refused because another writer stored one of its responses
// meanwhile (the same response, sent again through another replica) is
// decided again: that response is a duplicate, the others count once.
func TestSurveyBatchDecidedAgain(t *testing.T) {
	f := setupSurveys(t)
	f.surveys.meanwhile = func() {
		f.surveys.add(f.key, []SurveyAnswer{{ResponseID: "r2", CollectionDate: "2026-03-01", Answers: []byte{4, 4, 4, 4, 4, 4, 4, 4, 4}}})
	}
	res, err := submitChunks(t, f.app, SurveyChunk{RoundID: "skm-2026", UnitID: "puskesmas-a", Responses: []SurveyInput{
		{ResponseID: "r1", CollectionDate: "2026-03-01", Answers: nine(4)},
		{ResponseID: "r2", CollectionDate: "2026-03-01", Answers: nine(4)},
		{ResponseID: "r3", CollectionDate: "2026-03-01", Answers: nine(3)},
		{ResponseID: "r1", CollectionDate: "2026-03-01", Answers: nine(4)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 2 || res.Duplicates != 2 || res.Refused != 0 || f.surveys.batches != 1 {
		t.Fatalf("result %+v after %d batches, want 2 accepted, 2 duplicates (r2 stored meanwhile, r1 twice), one batch", res, f.surveys.batches)
	}
	if c, _ := f.surveys.SurveyCounts("skm-2026", "puskesmas-a"); c.Respondents != 3 || c.Counts[0] != [4]int64{0, 0, 1, 2} {
		t.Fatalf("counts %+v", c)
	}
}

// A response id names one response, like any request id: sent again as it
// was (a resend, a retry) it is a duplicate and changes nothing; sent again
// with another collection date or other answers, whether stored before,
// stored meanwhile by another writer or sent twice in this call, it is
// refused, saying so, and the answers first stored are the ones counted.
func TestSurveyResponseIDReusedWithOtherContent(t *testing.T) {
	f := setupSurveys(t)
	first := []SurveyInput{
		{ResponseID: "r1", CollectionDate: "2026-03-01", Answers: nine(4)},
		{ResponseID: "r2", CollectionDate: "2026-03-01", Answers: nine(3)},
	}
	if res, err := submitChunks(t, f.app, SurveyChunk{RoundID: "skm-2026", UnitID: "puskesmas-a", Responses: first}); err != nil || res.Accepted != 2 {
		t.Fatalf("first submission: %+v %v", res, err)
	}
	f.surveys.meanwhile = func() {
		f.surveys.add(f.key, []SurveyAnswer{{ResponseID: "r5", CollectionDate: "2026-03-01", Answers: []byte{2, 2, 2, 2, 2, 2, 2, 2, 2}}})
	}
	res, err := submitChunks(t, f.app, SurveyChunk{RoundID: "skm-2026", UnitID: "puskesmas-a", Responses: []SurveyInput{
		{ResponseID: "r1", CollectionDate: "2026-03-01", Answers: nine(4)}, // 0: a resend
		{ResponseID: "r2", CollectionDate: "2026-03-01", Answers: nine(1)}, // 1: other answers
		{ResponseID: "r1", CollectionDate: "2026-03-02", Answers: nine(4)}, // 2: another day
		{ResponseID: "r3", CollectionDate: "2026-03-01", Answers: nine(2)}, // 3: new
		{ResponseID: "r3", CollectionDate: "2026-03-01", Answers: nine(2)}, // 4: twice in this call, as it was
		{ResponseID: "r3", CollectionDate: "2026-03-01", Answers: nine(3)}, // 5: twice in this call, other answers
		{ResponseID: "r5", CollectionDate: "2026-03-01", Answers: nine(4)}, // 6: stored meanwhile with other answers
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 1 || res.Duplicates != 2 || res.Refused != 4 {
		t.Fatalf("result %+v, want 1 accepted (r3), 2 duplicates, 4 refused", res)
	}
	for i, r := range res.Refusals {
		if want := []int64{1, 2, 5, 6}[i]; r.Index != want || !strings.Contains(r.Reason, "already used for a response of puskesmas-a with another collection date or other answers") {
			t.Errorf("refusal %+v, want index %d refused as a response id used for other content", r, want)
		}
	}
	// r1 4s, r2 3s, r3 2s, r5 2s: what was first stored under each id.
	if c, _ := f.surveys.SurveyCounts("skm-2026", "puskesmas-a"); c.Respondents != 4 || c.Counts[0] != [4]int64{0, 2, 1, 1} {
		t.Fatalf("counts %+v", c)
	}
}

// Each response is checked on its own: refused with its index in the call
// and the rule, the others stored.
func TestSurveyRefusals(t *testing.T) {
	f := setupSurveys(t)
	res, err := submitChunks(t, f.app,
		SurveyChunk{RoundID: "skm-2026", UnitID: "puskesmas-a", Responses: []SurveyInput{
			{ResponseID: "r1", CollectionDate: "2025-12-31", Answers: nine(4)},
			{ResponseID: "r2", CollectionDate: "2026-02-30", Answers: nine(4)},
			{ResponseID: "r3", CollectionDate: "2026-03-01", Answers: nine(4)[:3]},
			{ResponseID: "r4", CollectionDate: "2026-03-01", Invalid: "answers[0]: value must be less than or equal to 4"},
			{ResponseID: "r5", CollectionDate: "2026-03-01", Answers: nine(2)},
		}},
		SurveyChunk{RoundID: "skm-2026", UnitID: "no-such-unit", Responses: []SurveyInput{{ResponseID: "x", CollectionDate: "2026-03-01", Answers: nine(4)}}},
	)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]string{0: "not in the round's year 2026", 1: "not a YYYY-MM-DD calendar date", 2: "3 answers: the unit's survey has 9 elements",
		3: "less than or equal to 4", 5: "does not exist"}
	if res.Accepted != 1 || res.Refused != int64(len(want)) {
		t.Fatalf("result %+v", res)
	}
	// In the order sent, though "3 answers" is found only when its
	// batch is decided, after the others.
	if !slices.IsSortedFunc(res.Refusals, func(a, b SurveyRefusal) int { return int(a.Index - b.Index) }) {
		t.Errorf("refusals out of order: %+v", res.Refusals)
	}
	for _, r := range res.Refusals {
		if !strings.Contains(r.Reason, want[r.Index]) || want[r.Index] == "" {
			t.Errorf("refusal %+v, want %q", r, want[r.Index])
		}
	}
}

// Answers sent with the elements they stand for count only when those are
// the unit's survey's, in its order: a caller that could not read the
// survey and assumed another order is refused, never counted under the
// wrong elements; a call naming none is taken in the survey's order.
func TestSurveyElementsNamedByTheCaller(t *testing.T) {
	f := setupSurveys(t)
	std := []string{"persyaratan", "prosedur", "waktu", "biaya", "produk", "kompetensi", "perilaku", "sarana", "pengaduan"}
	swapped := slices.Clone(std)
	swapped[1], swapped[2] = swapped[2], swapped[1]
	res, err := submitChunks(t, f.app, SurveyChunk{RoundID: "skm-2026", UnitID: "puskesmas-a", Responses: []SurveyInput{
		{ResponseID: "r1", CollectionDate: "2026-03-01", Answers: nine(4), Elements: std},
		{ResponseID: "r2", CollectionDate: "2026-03-01", Answers: nine(3), Elements: swapped},
		{ResponseID: "r3", CollectionDate: "2026-03-01", Answers: nine(2), Elements: std[:8]},
		{ResponseID: "r4", CollectionDate: "2026-03-01", Answers: nine(1)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 2 || res.Refused != 2 {
		t.Fatalf("result %+v, want r1 and r4 accepted, r2 and r3 refused", res)
	}
	for _, r := range res.Refusals {
		if r.ResponseID != "r2" && r.ResponseID != "r3" || !strings.Contains(r.Reason, "the unit's survey has persyaratan, prosedur, waktu") {
			t.Errorf("refusal %+v", r)
		}
	}
}

// A round without a survey takes no responses, and the close shuts the
// intake and writes every unit's final record, however recent its last.
func TestSurveyRoundsAndClose(t *testing.T) {
	f := setupSurveys(t)
	if _, err := f.app.CreateRound.Handle(context.Background(), CreateRound{SchemeID: "ombudsman", Year: 2024, By: "tester"}); err != nil {
		t.Fatal(err)
	}
	_, err := submitChunks(t, f.app, SurveyChunk{RoundID: "ombudsman-2024", UnitID: "puskesmas-a", Responses: []SurveyInput{{ResponseID: "r1", CollectionDate: "2024-03-01", Answers: nine(4)}}})
	if !fault.Is(err, fault.Precondition) || !strings.Contains(err.Error(), "has no survey") {
		t.Fatalf("a round without a survey: %v", err)
	}
	if _, err := submitChunks(t, f.app, SurveyChunk{RoundID: "skm-2026", UnitID: "puskesmas-a", Responses: []SurveyInput{{ResponseID: "r1", CollectionDate: "2026-03-01", Answers: nine(4)}}}); err != nil {
		t.Fatal(err)
	}
	if err := f.app.Surveys.RecordDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	key := RecordKey{SchemeID: "skm", Year: 2026, InstitutionID: "puskesmas-a"}
	a, err := f.store.Assessment(context.Background(), key, "skm-2026", 0)
	if err != nil || a.Total != "99.90" || a.Basis != model.BasisSurvey || a.RecordedBy != "predikat/assessment" {
		t.Fatalf("first record: %+v %v", a, err)
	}
	if _, err := submitChunks(t, f.app, SurveyChunk{RoundID: "skm-2026", UnitID: "puskesmas-a", Responses: []SurveyInput{{ResponseID: "r2", CollectionDate: "2026-03-01", Answers: nine(1)}}}); err != nil {
		t.Fatal(err)
	}
	// Within the minute: nothing.
	if err := f.app.Surveys.RecordDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a, _ := f.store.Assessment(context.Background(), key, "skm-2026", 0); a.Revision != 1 {
		t.Fatalf("rewritten within the minute: %+v", a)
	}
	if _, err := f.app.CloseRound.Handle(context.Background(), CloseRound{RoundID: "skm-2026"}); err != nil {
		t.Fatal(err)
	}
	// 2 respondents, answers 4 and 1: 0.111 × 45 / 2 × 25 = 62.4375 → 62.44, D.
	if a, _ := f.store.Assessment(context.Background(), key, "skm-2026", 0); a.Revision != 2 || a.Total != "62.44" || a.BandCode != "D" {
		t.Fatalf("record at the close: %+v", a)
	}
	if f.surveys.intake.Open {
		t.Fatal("the intake is still open after the close")
	}
}

// A unit's own weights sum to exactly 1 (or are the regulation's nine of
// 0.111): weights of 1 each would put its index at 825.
func TestUnitSurveyWeights(t *testing.T) {
	f := setupSurveys(t)
	def := func(w string, extra ...SurveyElement) SurveyDef {
		var d SurveyDef
		for _, c := range []string{"persyaratan", "prosedur", "waktu", "biaya", "produk", "kompetensi", "perilaku", "sarana", "pengaduan"} {
			d.Elements = append(d.Elements, SurveyElement{Code: c, Weight: w})
		}
		d.Elements = append(d.Elements, extra...)
		return d
	}
	for name, tc := range map[string]struct {
		def  SurveyDef
		want string // "" for accepted (the fake store then refuses as a precondition)
	}{
		"ones":              {def("1"), "sum to 9.000000, not 1"},
		"ninths":            {def("1/9"), ""},
		"regulation":        {def("0.111"), ""},
		"tenths":            {def("1/10", SurveyElement{Code: "kebersihan", Weight: "1/10"}), ""},
		"0.111 and a tenth": {def("0.111", SurveyElement{Code: "kebersihan", Weight: "0.1"}), "sum to 1.099000, not 1"},
		"missing element":   {SurveyDef{Elements: def("1/9").Elements[1:]}, `element "persyaratan" of the skm 2017 survey is missing`},
	} {
		_, _, err := f.app.Surveys.DefineUnitSurvey(context.Background(), DefineUnitSurvey{RoundID: "skm-2026", UnitID: "puskesmas-a", Survey: tc.def, By: "user:kiosk"})
		switch {
		case tc.want == "" && !fault.Is(err, fault.Precondition):
			t.Errorf("%s: %v, want it accepted by the use case", name, err)
		case tc.want != "" && (!fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want InvalidArgument saying %q", name, err, tc.want)
		}
	}
}

// The unit's survey records only move forward: never counts at or before
// a survey record already stored (another replica's, further along the
// log), and a record typed in over one stands until new responses arrive.
func TestSurveyRecordsOnlyMoveForward(t *testing.T) {
	f := setupSurveys(t)
	ctx := context.Background()
	key := RecordKey{SchemeID: "skm", Year: 2026, InstitutionID: "puskesmas-a"}
	send := func(id string, v uint32) {
		t.Helper()
		if _, err := submitChunks(t, f.app, SurveyChunk{RoundID: "skm-2026", UnitID: "puskesmas-a", Responses: []SurveyInput{{ResponseID: id, CollectionDate: "2026-03-01", Answers: nine(v)}}}); err != nil {
			t.Fatal(err)
		}
	}
	latest := func() *model.Assessment {
		a, err := f.store.Assessment(ctx, key, "skm-2026", 0)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	send("r1", 4)
	if err := f.app.Surveys.RecordDue(ctx); err != nil {
		t.Fatal(err)
	}
	// Another replica, further along the log, recorded later counts.
	later := *latest()
	later.RequestID, later.Total = model.SurveyRequestID(50), "77.00"
	tip, _ := f.store.Tip(ctx, key, model.Round{}, "", false)
	r, _ := f.store.Round(ctx, "skm-2026")
	if _, _, err := f.store.Append(ctx, Append{Assessment: later, CorrectsRevision: tip.Revision, Tip: tip, Fence: r}); err != nil {
		t.Fatal(err)
	}
	send("r2", 1)
	f.app.Surveys.recorded = map[string]lastRecord{} // a minute has passed
	if err := f.app.Surveys.RecordDue(ctx); err != nil {
		t.Fatal(err)
	}
	if a := latest(); a.RequestID != model.SurveyRequestID(50) {
		t.Fatalf("older counts written over later ones: %s %s", a.RequestID, a.Total)
	}
	// The final record at the close is not undone by the same pass either.
	c, _ := f.surveys.SurveyCounts("skm-2026", "puskesmas-a")
	if c.Position > 50 {
		t.Fatalf("test setup: counts at %d", c.Position)
	}
}

// A reopen that slips in while the close writes its final records opens
// the intake again: the close refuses to go on (the round stays OPEN) and
// says to close again.
func TestSurveyReopenDuringClose(t *testing.T) {
	f := setupSurveys(t)
	ctx := context.Background()
	if _, err := submitChunks(t, f.app, SurveyChunk{RoundID: "skm-2026", UnitID: "puskesmas-a", Responses: []SurveyInput{{ResponseID: "r1", CollectionDate: "2026-03-01", Answers: nine(4)}}}); err != nil {
		t.Fatal(err)
	}
	f.store.beforeAppend = func() {
		if _, err := f.app.ReopenRound.Handle(ctx, ReopenRound{RoundID: "skm-2026", Reason: "more responses came in"}); err != nil {
			t.Errorf("reopen during the close: %v", err)
		}
	}
	_, err := f.app.CloseRound.Handle(ctx, CloseRound{RoundID: "skm-2026"})
	if !fault.Is(err, fault.Conflict) || !strings.Contains(err.Error(), "reopened while it closed") {
		t.Fatalf("close with a reopen in the middle: %v", err)
	}
	if r, _ := f.store.Round(ctx, "skm-2026"); r.State != model.RoundOpen || !f.surveys.intake.Open {
		t.Fatalf("round %v, intake open %v: want OPEN with its intake open", r.State, f.surveys.intake.Open)
	}
	if _, err := f.app.CloseRound.Handle(ctx, CloseRound{RoundID: "skm-2026"}); err != nil {
		t.Fatalf("closing again: %v", err)
	}
}

type stepClock struct{ t time.Time }

func (c *stepClock) Now() time.Time { return c.t }

// Two replicas together write a unit's record at most about once a
// minute: a replica that sees another's write starts its minute then.
func TestSurveyRecordsOnceAMinuteAcrossReplicas(t *testing.T) {
	f := setupSurveys(t)
	ctx := context.Background()
	cat, err := scheme.Load()
	if err != nil {
		t.Fatal(err)
	}
	clk := &stepClock{t: time.Date(2026, 6, 15, 2, 0, 0, 0, time.UTC)}
	replica := func() *App {
		a := New(cat, f.store, &fakeRegistry{institutions: map[string]model.Institution{
			"puskesmas-a": {ID: "puskesmas-a", Name: "Puskesmas A", Kind: model.Kind(9), RegionCode: "63.03", ParentID: "kab-banjar"},
		}}, clk, dayWindows{})
		a.EnableSurveys(f.surveys)
		return a
	}
	a, b := replica(), replica()
	key := RecordKey{SchemeID: "skm", Year: 2026, InstitutionID: "puskesmas-a"}
	revision := func() uint64 {
		got, err := f.store.Assessment(ctx, key, "skm-2026", 0)
		if err != nil {
			return 0
		}
		return got.Revision
	}
	send := func(id string) {
		t.Helper()
		if _, err := submitChunks(t, a, SurveyChunk{RoundID: "skm-2026", UnitID: "puskesmas-a", Responses: []SurveyInput{{ResponseID: id, CollectionDate: "2026-03-01", Answers: nine(4)}}}); err != nil {
			t.Fatal(err)
		}
	}
	pass := func(app *App, at time.Duration) {
		t.Helper()
		clk.t = time.Date(2026, 6, 15, 2, 0, 0, 0, time.UTC).Add(at)
		if err := app.Surveys.RecordDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	send("r1")
	pass(a, 0)
	send("r2")
	pass(b, 10*time.Second) // sees a's write: its minute starts now
	pass(a, 30*time.Second)
	if got := revision(); got != 1 {
		t.Fatalf("revision %d within the minute, want 1", got)
	}
	pass(a, 65*time.Second)
	if got := revision(); got != 2 {
		t.Fatalf("revision %d a minute later, want 2", got)
	}
	send("r3")
	pass(b, 71*time.Second) // a wrote 6 s ago
	pass(b, 90*time.Second)
	if got := revision(); got != 2 {
		t.Fatalf("revision %d: b wrote within a minute of a's write", got)
	}
	pass(b, 132*time.Second)
	if got := revision(); got != 3 {
		t.Fatalf("revision %d a minute after b saw a's write, want 3", got)
	}
}
