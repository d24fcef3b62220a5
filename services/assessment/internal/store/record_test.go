package store

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"github.com/predikat-id/predikat/services/assessment/internal/app"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/objection"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
	"google.golang.org/protobuf/proto"
)

const regency model.Kind = 2 // INSTITUTION_KIND_REGENCY_GOVERNMENT

// registry knows the institutions of these tests: a test double of the
// registry service (this package's storage is the real JetStream).
type registry struct{}

func (registry) Institution(_ context.Context, id string) (model.Institution, error) {
	return model.Institution{ID: id, Name: "Pemerintah " + id, Kind: regency, RegionCode: "63.03"}, nil
}

func (registry) Region(_ context.Context, code string) (model.Region, error) {
	switch code {
	case "63":
		return model.Region{Code: "63", Name: "Kalimantan Selatan"}, nil
	case "63.03":
		return model.Region{Code: "63.03", Name: "Kabupaten Banjar", ProvinceCode: "63"}, nil
	}
	return model.Region{}, fault.NotFoundf("region %s does not exist", code)
}

type clock struct{}

func (clock) Now() time.Time { return time.Date(2024, 12, 11, 10, 0, 0, 0, time.UTC) }

// weekWindows ends every objection window a week after the close (the
// calendar is tested on its own).
type weekWindows struct{}

func (weekWindows) Window(close time.Time, _ string, _ int32) (objection.Window, error) {
	end := close.Add(7 * 24 * time.Hour)
	return objection.Window{End: end, Local: end.Format(time.RFC3339)}, nil
}

// replica is one assessment replica's storage and use cases.
type replica struct {
	st  *Store
	app *app.App
}

// openReplica opens the storage on js as a replica would. A replica that
// does not follow has an assessments view fed only by its own writes,
// as a view far behind the stream would be.
func openReplica(t testing.TB, js jetstream.JetStream, follow bool) replica {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cat, err := scheme.Load()
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(ctx, js, 1, natstest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	if follow {
		err = st.Start(ctx)
	} else {
		err = st.watchRounds(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	return replica{st: st, app: app.New(cat, st.ForApp(cat), registry{}, clock{}, weekWindows{})}
}

func (r replica) record(t *testing.T, inst, total string, corrects uint64, requestID string) (app.Recorded, error) {
	t.Helper()
	reason := ""
	if corrects > 0 {
		reason = "correction"
	}
	return r.app.RecordAssessment.Handle(context.Background(), app.RecordAssessment{RoundID: "ombudsman-2024", InstitutionID: inst,
		Input: model.Input{ReportedTotal: total}, CorrectsRevision: corrects, Reason: reason, RequestID: requestID, By: "tester"})
}

func (r replica) mustRecord(t *testing.T, inst, total string, corrects uint64, requestID string) *model.Assessment {
	t.Helper()
	got, err := r.record(t, inst, total, corrects, requestID)
	if err != nil {
		t.Fatalf("record %s (%s): %v", inst, requestID, err)
	}
	if !got.Created || got.Assessment.Revision != corrects+1 {
		t.Fatalf("record %s (%s): created=%v revision %d, want a new revision %d", inst, requestID, got.Created, got.Assessment.Revision, corrects+1)
	}
	return got.Assessment
}

func twoReplicas(t *testing.T) (a, b replica, js jetstream.JetStream) {
	t.Helper()
	js = natstest.Start(t).JetStream(t)
	a = openReplica(t, js, true)
	if _, err := a.app.CreateRound.Handle(context.Background(), app.CreateRound{SchemeID: "ombudsman", Year: 2024, By: "tester"}); err != nil {
		t.Fatal(err)
	}
	return a, openReplica(t, js, false), js
}

// revisions is how many revisions the stream holds for an institution.
func revisions(t *testing.T, st *Store, inst string) uint64 {
	t.Helper()
	info, err := st.assessments.Info(context.Background(), jetstream.WithSubjectFilter(events.AssessmentSubject("ombudsman", 2024, inst)))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Subjects[events.AssessmentSubject("ombudsman", 2024, inst)]
}

// A record decided on a view behind the stream is checked by its expected
// sequence: it is decided again on the record as stored, never stored
// over a revision it did not see.
func TestTipFromAViewBehindTheStream(t *testing.T) {
	a, b, _ := twoReplicas(t)
	a.mustRecord(t, "kab-banjar", "80.00", 0, "r1")

	// b's view has no record: the caller's corrects_revision is what the
	// stream says, so it is read there.
	b.mustRecord(t, "kab-banjar", "81.00", 1, "r2")
	// b's view has no record and the caller thinks there is none: the
	// stream has one, so it is a conflict, not a first revision.
	if _, err := b.record(t, "kab-banjar", "82.00", 0, "r-stale-first"); !fault.Is(err, fault.Conflict) {
		t.Fatalf("first revision over a stored one: %v, want Conflict", err)
	}
	a.mustRecord(t, "kab-banjar", "83.00", 2, "r3")

	// b's view says revision 2 (its own write) and the caller agrees; the
	// stream is at 3: the publish expects b's sequence and fails, and the
	// stream's revision tells the caller its correction is stale.
	if _, err := b.record(t, "kab-banjar", "84.00", 2, "r-stale-correction"); !fault.Is(err, fault.Conflict) {
		t.Fatalf("correction of revision 2 over revision 3: %v, want Conflict", err)
	}
	// The same view with the right revision but a sequence that moved on
	// (as after a refused revision): the publish fails, the stream is
	// read and the record stored after the latest.
	b.st.view.mu.Lock()
	sl := b.st.view.byRound["ombudsman-2024"]["kab-banjar"]
	sl.revision = 3
	b.st.view.byRound["ombudsman-2024"]["kab-banjar"] = sl
	b.st.view.mu.Unlock()
	got := b.mustRecord(t, "kab-banjar", "85.00", 3, "r4")
	if got.Total != "85.00" {
		t.Fatalf("stored %+v", got)
	}
	if n := revisions(t, b.st, "kab-banjar"); n != 4 {
		t.Fatalf("%d revisions stored, want 4", n)
	}
	// What b stored, b lists at once (read your writes without waiting
	// for a consumer: b has none).
	list, more, err := b.app.Queries.Assessments(context.Background(), app.AssessmentFilter{RoundID: "ombudsman-2024"}, app.Page{Size: 10})
	if err != nil || more || len(list) != 1 || list[0].Revision != 4 || list[0].Total != "85.00" {
		t.Fatalf("b lists %v (more %v, %v), want revision 4", list, more, err)
	}
}

// A retry is answered with its first answer wherever the view stands: its
// revision superseded (the view only knows the latest), the latest, or a
// view that never saw it; never stored twice.
func TestRetryOfARequestTheViewDoesNotHold(t *testing.T) {
	a, b, _ := twoReplicas(t)
	first := a.mustRecord(t, "kab-banjar", "80.00", 0, "r1")
	a.mustRecord(t, "kab-banjar", "81.00", 1, "r2")

	for _, r := range []replica{a, b} {
		got, err := r.record(t, "kab-banjar", "80.00", 0, "r1")
		if err != nil || got.Created || got.Assessment.Revision != 1 || got.Assessment.Total != first.Total {
			t.Fatalf("retry of a superseded revision = %+v, %v; want revision 1, not created", got, err)
		}
		got, err = r.record(t, "kab-banjar", "81.00", 1, "r2")
		if err != nil || got.Created || got.Assessment.Revision != 2 {
			t.Fatalf("retry of the latest revision = %+v, %v; want revision 2, not created", got, err)
		}
		if _, err := r.record(t, "kab-banjar", "99.00", 0, "r1"); !fault.Is(err, fault.Exists) {
			t.Fatalf("request id reused for another request: %v, want Exists", err)
		}
	}
	// Still answered once the round is closed.
	if _, err := a.app.CloseRound.Handle(context.Background(), app.CloseRound{RoundID: "ombudsman-2024"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []replica{a, b} {
		got, err := r.record(t, "kab-banjar", "81.00", 1, "r2")
		if err != nil || got.Created || got.Assessment.Revision != 2 {
			t.Fatalf("retry after the close = %+v, %v", got, err)
		}
	}
	if n := revisions(t, a.st, "kab-banjar"); n != 2 {
		t.Fatalf("%d revisions stored, want 2", n)
	}
}

// A round closed through another replica: this replica's copy of the round
// may still say OPEN, and a record decided on it is then refused by the
// close's fence, or counts inside it; a refusal is never answered from a
// stale copy.
func TestRecordOnAStaleRoundCopy(t *testing.T) {
	a, b, _ := twoReplicas(t)
	a.mustRecord(t, "kab-banjar", "80.00", 0, "r1")
	// b's copy of the round is the OPEN one, whatever its watch says.
	open, err := b.st.cachedRound(context.Background(), "ombudsman-2024")
	if err != nil || open.State != model.RoundOpen {
		t.Fatalf("round on b: %+v, %v", open, err)
	}
	if _, err := a.app.CloseRound.Handle(context.Background(), app.CloseRound{RoundID: "ombudsman-2024"}); err != nil {
		t.Fatal(err)
	}
	b.st.roundCache.mu.Lock()
	b.st.roundCache.byID["ombudsman-2024"] = open
	b.st.roundCache.mu.Unlock()
	_, err = b.record(t, "kab-other", "70.00", 0, "r-after-close")
	if !fault.Is(err, fault.Precondition) {
		t.Fatalf("record after the close through a stale copy: %v, want FailedPrecondition", err)
	}
	// Whatever was stored past the fence is no part of the round.
	if _, err := a.app.ReopenRound.Handle(context.Background(), app.ReopenRound{RoundID: "ombudsman-2024", Reason: "more"}); err != nil {
		t.Fatal(err)
	}
	// b learns the reopening from its watch or, when its copy refuses,
	// from the bucket.
	got := b.mustRecord(t, "kab-other", "71.00", 0, "r-after-reopen")
	if got.Total != "71.00" {
		t.Fatalf("stored %+v", got)
	}
}

// The view keeps a few dozen bytes per record, not the record.
func TestViewBytesPerRecord(t *testing.T) {
	const n = 100_000
	perRecord := viewBytesPerRecord(t, n)
	t.Logf("view: %.0f bytes per record (%d records)", perRecord, n)
	if perRecord > 200 {
		t.Fatalf("view holds %.0f bytes per record, want at most 200", perRecord)
	}
}

func viewBytesPerRecord(t testing.TB, n int) float64 {
	v := newView()
	before := heapAfterGC()
	for i := range n {
		v.putAssessment(entry{a: sampleAssessment(i), seq: uint64(i + 1), roundRevision: 3})
	}
	after := heapAfterGC()
	if got := len(v.slots("ombudsman-2024")); got != n {
		t.Fatalf("view holds %d records, want %d", got, n)
	}
	return float64(after-before) / float64(n)
}

func BenchmarkViewPut(b *testing.B) {
	v := newView()
	as := make([]entry, 1024)
	for i := range as {
		as[i] = entry{a: sampleAssessment(i), seq: uint64(i + 1)}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e := as[i%len(as)]
		e.seq = uint64(i + 1)
		v.putAssessment(e)
	}
}

// BenchmarkViewMemory reports the view's heap per record at a million.
func BenchmarkViewMemory(b *testing.B) {
	for b.Loop() {
		b.ReportMetric(viewBytesPerRecord(b, 1_000_000), "B/record")
	}
}

func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// sampleAssessment is a record as the service stores it: decoded, every
// field its own allocation, as the view's consumer sees it.
func sampleAssessment(i int) *assessmentv1.Assessment {
	a := &assessmentv1.Assessment{
		RoundId: "ombudsman-2024", SchemeId: "ombudsman", SchemeVersion: "2024.1", Year: 2024,
		InstitutionId: fmt.Sprintf("kantah-%02d%02d-%06d", i%34, i%17, i),
		Institution: &assessmentv1.InstitutionSnapshot{
			Id: fmt.Sprintf("kantah-%02d%02d-%06d", i%34, i%17, i), Name: fmt.Sprintf("Kantor Pertanahan %d", i),
			Kind: 7, RegionCode: fmt.Sprintf("%02d.%02d", 11+i%34, i%17), ProvinceCode: fmt.Sprintf("%02d", 11+i%34),
		},
		Total: fmt.Sprintf("%d.%02d", 60+i%40, i%100), BandCode: []string{"A", "B", "C", "D", "E"}[i%5],
		Revision: 1, RequestId: fmt.Sprintf("bench-%d-r1", i), RecordedBy: "bench",
	}
	b, err := proto.Marshal(a)
	if err != nil {
		panic(err)
	}
	var out assessmentv1.Assessment
	if err := proto.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return &out
}

// Records share their reads of the round after the append, but each sees
// the round as stored after its own call began: never a read that started
// before (it could miss the close that refuses the record).
func TestFreshRoundSeesEveryChangeBeforeTheCall(t *testing.T) {
	a, _, _ := twoReplicas(t)
	ctx := context.Background()
	e, err := a.st.rounds.Get(ctx, "ombudsman-2024")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 20 {
		wg.Go(func() {
			for i := range 20 {
				written := uint64(0)
				if (w+i)%3 == 0 {
					// Rewrite the round as it is: a new revision.
					var err error
					if written, err = a.st.rounds.Put(ctx, "ombudsman-2024", e.Value()); err != nil {
						t.Error(err)
						return
					}
				}
				_, rev, err := a.st.freshRound(ctx, "ombudsman-2024", time.Now())
				if err != nil {
					t.Error(err)
					return
				}
				if rev < written {
					t.Errorf("fresh read returned revision %d after revision %d was written", rev, written)
				}
			}
		})
	}
	wg.Wait()
}

// The view's consumer skips what the view already holds (a revision its
// writer put there, or an older one) and applies everything else.
func TestViewHoldsItsOwnWrites(t *testing.T) {
	v := newView()
	a := sampleAssessment(7)
	a.RoundId, a.SchemeId, a.Year = "ombudsman-2024", "ombudsman", 2024
	v.putAssessment(entry{a: a, seq: 5})
	subject := events.AssessmentSubject("ombudsman", 2024, a.GetInstitutionId())
	for _, c := range []struct {
		subject string
		seq     uint64
		want    bool
	}{
		{subject, 5, true},
		{subject, 4, true},
		{subject, 6, false},
		{events.AssessmentSubject("ombudsman", 2023, a.GetInstitutionId()), 5, false},
		{events.AssessmentSubject("ombudsman", 2024, "kab-other"), 5, false},
		{"predikat.assessment.recorded.broken", 1, false},
	} {
		if got := v.holds(c.subject, c.seq); got != c.want {
			t.Errorf("holds(%s, %d) = %v, want %v", c.subject, c.seq, got, c.want)
		}
	}
}

// A publication reads the round's records as the view holds them: in one
// pass of the stream where the stream's last revision is the view's, by
// sequence where it is not (a view behind the stream keeps its own).
func TestLoadEntriesReadsWhatTheViewHolds(t *testing.T) {
	a, b, _ := twoReplicas(t)
	ctx := context.Background()
	b.mustRecord(t, "kab-banjar", "80.00", 0, "r1")
	b.mustRecord(t, "kab-banjar", "81.00", 1, "r2")
	b.mustRecord(t, "kab-other", "70.00", 0, "r3")
	a.mustRecord(t, "kab-other", "71.00", 1, "r4") // b's view never learns it

	want := map[string]string{"kab-banjar": "81.00", "kab-other": "70.00"}
	got, err := b.st.loadEntries(ctx, "ombudsman-2024")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for _, e := range got {
		if want[e.a.GetInstitutionId()] != e.a.GetTotal() {
			t.Errorf("%s: total %s, want %s (the view's revision)", e.a.GetInstitutionId(), e.a.GetTotal(), want[e.a.GetInstitutionId()])
		}
		if sl, _ := b.st.view.assessment("ombudsman-2024", e.a.GetInstitutionId()); sl.seq != e.seq {
			t.Errorf("%s: sequence %d, the view's is %d", e.a.GetInstitutionId(), e.seq, sl.seq)
		}
	}
}

// A refused revision is replaced in the view by the one before it, but
// never over a revision stored after it meanwhile (the round reopened and
// the record written again): that one counts.
func TestRefusalNeverRollsBackALaterRevision(t *testing.T) {
	v := newView()
	a := sampleAssessment(1)
	prev := &entry{a: a, seq: 10, roundRevision: 1}
	v.putAssessment(*prev)
	v.putAssessment(entry{a: a, seq: 20, roundRevision: 1}) // refused past the close
	v.replaceAssessment(a.GetRoundId(), a.GetInstitutionId(), 20, prev)
	if sl, _ := v.assessment(a.GetRoundId(), a.GetInstitutionId()); sl.seq != 10 {
		t.Fatalf("after the refusal the view holds sequence %d, want the revision before it (10)", sl.seq)
	}
	v.putAssessment(entry{a: a, seq: 30, roundRevision: 3}) // stored after a reopen
	v.replaceAssessment(a.GetRoundId(), a.GetInstitutionId(), 20, prev)
	if sl, _ := v.assessment(a.GetRoundId(), a.GetInstitutionId()); sl.seq != 30 {
		t.Fatalf("a late refusal rolled the view back to sequence %d, want 30", sl.seq)
	}
}
