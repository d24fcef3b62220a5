package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"github.com/predikat-id/predikat/services/assessment/internal/app"
)

var unitA = app.SurveyKey{RoundID: "skm-2026", SchemeID: "skm", Year: 2026, UnitID: "puskesmas-a"}

func openSurveys(t *testing.T, ns *natstest.Server, cacheBytes int64) *Surveys {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, err := OpenSurveys(ctx, ns.JetStream(t), 1, cacheBytes, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func answers(ids ...string) []app.SurveyAnswer {
	out := make([]app.SurveyAnswer, len(ids))
	for i, id := range ids {
		out[i] = app.SurveyAnswer{ResponseID: id, CollectionDate: "2026-03-02", Answers: []byte{4, 4, 3, 4, 2, 4, 4, 1, 4}}
	}
	return out
}

// write stores the ids that the unit does not have, as a session decides:
// it returns what it stored, or the batch's refusal.
func write(t *testing.T, s *Surveys, fresh bool, ids ...string) ([]string, error) {
	t.Helper()
	ctx := context.Background()
	in, err := s.SurveyIntake(ctx, unitA.RoundID, unitA.SchemeID, unitA.Year)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.SurveyUnit(ctx, unitA, fresh)
	if err != nil {
		t.Fatal(err)
	}
	var news []string
	for _, id := range ids {
		if _, ok := st.Stored(id); !ok {
			news = append(news, id)
		}
	}
	if len(news) == 0 {
		return nil, nil
	}
	last, err := s.StoreSurveyBatch(ctx, in, []app.SurveyWrite{{Key: unitA, Expect: st.Position, Responses: answers(news...)}}, "user:kiosk")
	if err != nil {
		return nil, err
	}
	if err := s.WaitSurveys(ctx, last); err != nil {
		t.Fatal(err)
	}
	return news, nil
}

// A response id counts once per unit and round, whichever replica sends it
// and whatever each remembers: a writer that missed another's write is
// refused by the log and reads the unit again.
func TestSurveyResponsesStoredOnce(t *testing.T) {
	ns := natstest.Start(t)
	a := openSurveys(t, ns, 0)
	// b keeps nothing in its cache: every decision reads the unit's log.
	b := openSurveys(t, ns, 1)

	if got, err := write(t, a, false, "r1", "r2", "r3"); err != nil || len(got) != 3 {
		t.Fatalf("a: %v %v", got, err)
	}
	if err := b.SyncSurveys(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, err := write(t, b, false, "r1", "r2", "r4"); err != nil || !reflect.DeepEqual(got, []string{"r4"}) {
		t.Fatalf("b: stored %v (%v), want only r4", got, err)
	}
	// a's cache still has the unit where a left it: its write is refused
	// whole, and a fresh read knows r4.
	if _, err := write(t, a, false, "r4", "r5"); !errors.Is(err, app.ErrBatchMoved) {
		t.Fatalf("a on a stale unit: %v, want ErrBatchMoved", err)
	}
	if got, err := write(t, a, true, "r4", "r5"); err != nil || !reflect.DeepEqual(got, []string{"r5"}) {
		t.Fatalf("a after reading again: stored %v (%v), want only r5", got, err)
	}
	if err := b.SyncSurveys(context.Background()); err != nil {
		t.Fatal(err)
	}
	ca, _ := a.SurveyCounts(unitA.RoundID, unitA.UnitID)
	cb, _ := b.SurveyCounts(unitA.RoundID, unitA.UnitID)
	if ca.Respondents != 5 || !reflect.DeepEqual(ca, cb) {
		t.Fatalf("counts: a %+v, b %+v; want 5 respondents on both", ca, cb)
	}
	if want := [4]int64{0, 0, 0, 5}; ca.Counts[0] != want || ca.Counts[7] != [4]int64{5, 0, 0, 0} {
		t.Fatalf("counts per answer: %v", ca.Counts)
	}
	// A replica started now counts the same from the log.
	c := openSurveys(t, ns, 0)
	if cc, _ := c.SurveyCounts(unitA.RoundID, unitA.UnitID); !reflect.DeepEqual(cc, ca) {
		t.Fatalf("after a restart: %+v, want %+v", cc, ca)
	}
	if got, err := write(t, c, false, "r1", "r2", "r3", "r4", "r5"); err != nil || len(got) != 0 {
		t.Fatalf("everything again after a restart: stored %v (%v)", got, err)
	}
}

// The intake marker settles which responses count: a batch whose writer
// read the intake before the close is refused whole.
func TestSurveyIntakeCloseRefusesLateBatches(t *testing.T) {
	ns := natstest.Start(t)
	s := openSurveys(t, ns, 0)
	ctx := context.Background()
	if _, err := write(t, s, false, "r1"); err != nil {
		t.Fatal(err)
	}
	before, err := s.SurveyIntake(ctx, unitA.RoundID, unitA.SchemeID, unitA.Year)
	if err != nil || !before.Open {
		t.Fatalf("intake: %+v %v", before, err)
	}
	closed, err := s.ChangeIntake(ctx, unitA.RoundID, unitA.SchemeID, unitA.Year, false)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.ChangeIntake(ctx, unitA.RoundID, unitA.SchemeID, unitA.Year, false)
	if err != nil || again != closed {
		t.Fatalf("closing twice: %d then %d (%v)", closed, again, err)
	}
	st, err := s.SurveyUnit(ctx, unitA, false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.StoreSurveyBatch(ctx, before, []app.SurveyWrite{{Key: unitA, Expect: st.Position, Responses: answers("r2")}}, "user:kiosk")
	if !errors.Is(err, app.ErrBatchMoved) {
		t.Fatalf("a batch decided before the close: %v, want ErrBatchMoved", err)
	}
	if err := s.SyncSurveys(ctx); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.SurveyCounts(unitA.RoundID, unitA.UnitID); c.Respondents != 1 {
		t.Fatalf("respondents after the refused batch: %d, want 1", c.Respondents)
	}
	if _, err := s.ChangeIntake(ctx, unitA.RoundID, unitA.SchemeID, unitA.Year, true); err != nil {
		t.Fatal(err)
	}
	if got, err := write(t, s, false, "r2"); err != nil || len(got) != 1 {
		t.Fatalf("after reopening: %v %v", got, err)
	}
}

// A unit's own survey comes before its responses, once.
func TestDefineUnitSurvey(t *testing.T) {
	ns := natstest.Start(t)
	s := openSurveys(t, ns, 0)
	ctx := context.Background()
	def := app.SurveyDef{Elements: []app.SurveyElement{{Code: "persyaratan", Weight: "1/9"}}}
	b := unitA
	b.UnitID = "dpmptsp-b"
	if got, created, err := s.DefineUnitSurvey(ctx, b, def, "user:kiosk"); err != nil || !created || !reflect.DeepEqual(got, def) {
		t.Fatalf("define: %v %v %v", got, created, err)
	}
	if _, created, err := s.DefineUnitSurvey(ctx, b, app.SurveyDef{Elements: []app.SurveyElement{{Code: "x", Weight: "1"}}}, "user:kiosk"); err != nil || created {
		t.Fatalf("define again: created %v, %v (the stored one answers, the use case compares)", created, err)
	}
	if _, err := write(t, s, false, "r1"); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.DefineUnitSurvey(ctx, unitA, def, "user:kiosk")
	if !fault.Is(err, fault.Precondition) {
		t.Fatalf("define after responses: %v, want a precondition", err)
	}
	if err := s.SyncSurveys(ctx); err != nil {
		t.Fatal(err)
	}
	if c, ok := s.SurveyCounts(b.RoundID, b.UnitID); !ok || c.Def == nil || fmt.Sprint(c.Def.Elements) != fmt.Sprint(def.Elements) {
		t.Fatalf("counts of the defined unit: %+v", c)
	}
}

// Respondent profiles are kept apart from the answers, in a stream whose
// maximum age removes them; the answers' messages carry none.
func TestProfilesKeptApart(t *testing.T) {
	ns := natstest.Start(t)
	s := openSurveys(t, ns, 0)
	ctx := context.Background()
	in, err := s.SurveyIntake(ctx, unitA.RoundID, unitA.SchemeID, unitA.Year)
	if err != nil {
		t.Fatal(err)
	}
	profile := app.RespondentProfile{AgeBand: 3, Sex: 2, Education: 5, Occupation: 1}
	if _, err := s.StoreSurveyBatch(ctx, in, []app.SurveyWrite{{Key: unitA, Responses: answers("r1"),
		Profiles: []app.ProfiledResponse{{ResponseID: "r1", Profile: profile}}}}, "user:kiosk"); err != nil {
		t.Fatal(err)
	}
	info, err := s.profiles.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.MaxAge != events.ProfileRetention || info.State.Msgs != 1 {
		t.Fatalf("profiles stream: max age %v, %d messages", info.Config.MaxAge, info.State.Msgs)
	}
	m, err := s.stream.GetLastMsgForSubject(ctx, events.SurveyUnitSubject(unitA.SchemeID, unitA.Year, unitA.UnitID))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := events.DecodeAs[eventsv1.SurveyResponsesStored](m.Subject, m.Data)
	if err != nil {
		t.Fatal(err)
	}
	// The stored response is exactly its id, day and answers.
	if len(ev.GetResponses()) != 1 || len(ev.GetResponses()[0].ProtoReflect().GetUnknown()) != 0 ||
		!reflect.DeepEqual(ev.GetResponses()[0].GetAnswers(), answers("r1")[0].Answers) {
		t.Fatalf("stored response: %v", ev.GetResponses())
	}
	pm, err := s.profiles.GetLastMsgForSubject(ctx, events.SurveyProfileSubject(unitA.SchemeID, unitA.Year, unitA.UnitID))
	if err != nil {
		t.Fatal(err)
	}
	pev, err := events.DecodeAs[eventsv1.SurveyProfilesStored](pm.Subject, pm.Data)
	if err != nil || pev.GetProfiles()[0].GetProfile().GetEducation() != assessmentv1.Education_EDUCATION_BACHELOR {
		t.Fatalf("stored profile: %v %v", pev, err)
	}
}

// On a clustered JetStream a repeated message id is answered as a
// duplicate before the expected sequence is checked: stating another
// survey for a unit that has one must still answer with the stored one,
// not created.
func TestDefineUnitSurveyClustered(t *testing.T) {
	js := natstest.StartCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var s *Surveys
	for { // the streams' leaders take a moment
		var err error
		if s, err = OpenSurveys(ctx, js, 3, 0, slog.Default()); err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	first := app.SurveyDef{Elements: []app.SurveyElement{{Code: "persyaratan", Weight: "1/2"}, {Code: "prosedur", Weight: "1/2"}}}
	other := app.SurveyDef{Elements: []app.SurveyElement{{Code: "prosedur", Weight: "1/2"}, {Code: "persyaratan", Weight: "1/2"}}}
	if _, created, err := s.DefineUnitSurvey(ctx, unitA, first, "user:a"); err != nil || !created {
		t.Fatalf("first: created %v, %v", created, err)
	}
	got, created, err := s.DefineUnitSurvey(ctx, unitA, other, "user:b")
	if err != nil || created || !reflect.DeepEqual(got, first) {
		t.Fatalf("another survey: %v created %v (%v), want the stored one, not created", got, created, err)
	}
	// The intake: a close and a reopen decided at the same position are
	// different writes.
	closed, err := s.ChangeIntake(ctx, unitA.RoundID, unitA.SchemeID, unitA.Year, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChangeIntake(ctx, unitA.RoundID, unitA.SchemeID, unitA.Year, true); err != nil {
		t.Fatal(err)
	}
	if in, err := s.SurveyIntake(ctx, unitA.RoundID, unitA.SchemeID, unitA.Year); err != nil || !in.Open || in.Position <= closed {
		t.Fatalf("intake after a close and a reopen: %+v %v", in, err)
	}
}

// A unit whose ids exceed the cache's bound is not kept (it would push
// every other unit out); the others stay.
func TestSurveyCacheKeepsOthersOverAGiantUnit(t *testing.T) {
	c := newUnitCache(10_000)
	for i := range 20 {
		c.put(fmt.Sprintf("u%d", i), &cachedUnit{ids: map[string]app.ResponseDigest{"x": {}}, bytes: 100})
	}
	c.put("giant", &cachedUnit{ids: map[string]app.ResponseDigest{}, bytes: 20_000})
	if _, ok := c.state("giant"); ok {
		t.Fatal("the giant unit was kept")
	}
	for i := range 20 {
		if _, ok := c.state(fmt.Sprintf("u%d", i)); !ok {
			t.Fatalf("unit u%d was pushed out", i)
		}
	}
}

// The view keeps, per record, the survey position of its latest survey
// record, also under a revision typed in over it.
func TestViewKeepsTheSurveyPosition(t *testing.T) {
	v := newView()
	rec := func(basis assessmentv1.AssessmentBasis, requestID string, rev uint64) *assessmentv1.Assessment {
		return &assessmentv1.Assessment{RoundId: "skm-2026", InstitutionId: "pkm-a", Basis: basis, RequestId: requestID, Revision: rev}
	}
	typedB := &assessmentv1.Assessment{RoundId: "skm-2026", InstitutionId: "pkm-b", Basis: assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_TOTAL,
		RequestId: "survey:99", Revision: 1}
	v.putAssessment(entry{a: rec(assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_SURVEY, "survey:5", 1), seq: 10})
	v.putAssessment(entry{a: rec(assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_TOTAL, "typed", 2), seq: 11})
	if sl, _ := v.assessment("skm-2026", "pkm-a"); sl.surveyPos != 5 || sl.revision != 2 {
		t.Fatalf("slot %+v: want survey position 5 under revision 2", sl)
	}
	v.putAssessment(entry{a: rec(assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_SURVEY, "survey:9", 3), seq: 12})
	if sl, _ := v.assessment("skm-2026", "pkm-a"); sl.surveyPos != 9 {
		t.Fatalf("slot %+v: want survey position 9", sl)
	}
	// Only a survey record's own request id counts.
	v.putAssessment(entry{a: typedB, seq: 13})
	if sl, ok := v.assessment("skm-2026", "pkm-b"); !ok || sl.surveyPos != 0 {
		t.Fatalf("a typed record named like a survey one: %+v", sl)
	}
}

// What a writer knows of a stored response is the digest of its content
// as the log holds it: the same whether the writer stored it (its cache),
// read the unit from the log (another replica, a restart) or learnt it
// fresh, so a response id sent again with other answers or another day is
// told from a resend on every replica.
func TestSurveyUnitKnowsStoredContent(t *testing.T) {
	ns := natstest.Start(t)
	a := openSurveys(t, ns, 0)
	if got, err := write(t, a, false, "r1"); err != nil || len(got) != 1 {
		t.Fatalf("a: %v %v", got, err)
	}
	stored := answers("r1")[0]
	otherAnswers, otherDay := stored, stored
	otherAnswers.Answers = []byte{1, 4, 3, 4, 2, 4, 4, 1, 4}
	otherDay.CollectionDate = "2026-03-03"
	b := openSurveys(t, ns, 1) // keeps nothing: reads the log
	for name, s := range map[string]*Surveys{"writer": a, "other replica": b} {
		for _, fresh := range []bool{false, true} {
			st, err := s.SurveyUnit(context.Background(), unitA, fresh)
			if err != nil {
				t.Fatal(err)
			}
			d, ok := st.Stored("r1")
			if !ok || d != stored.Digest() || d == otherAnswers.Digest() || d == otherDay.Digest() {
				t.Errorf("%s (fresh %v): r1 stored %v with digest %x, want %x", name, fresh, ok, d, stored.Digest())
			}
			if _, ok := st.Stored("r2"); ok {
				t.Errorf("%s (fresh %v): r2 is not stored", name, fresh)
			}
		}
	}
}
