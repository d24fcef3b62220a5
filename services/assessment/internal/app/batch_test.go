package app

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
)

// lockedRegistry lets the batch's parallel decisions share a fake registry.
type lockedRegistry struct {
	mu sync.Mutex
	r  *fakeRegistry
}

func (l *lockedRegistry) Institution(ctx context.Context, id string) (model.Institution, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Institution(ctx, id)
}

func (l *lockedRegistry) Region(ctx context.Context, code string) (model.Region, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Region(ctx, code)
}

func batchFixture(t *testing.T, n int) (*App, *fakeStore, []RecordAssessment) {
	t.Helper()
	cat, err := scheme.Load()
	if err != nil {
		t.Fatal(err)
	}
	insts := map[string]model.Institution{"kab-retired": {ID: "kab-retired", Kind: regency, RegionCode: "63.03", Retired: true, RetireReason: "merged"}}
	var recs []RecordAssessment
	for i := range n {
		id := "kab-" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		insts[id] = model.Institution{ID: id, Name: "Kabupaten " + id, Kind: regency, RegionCode: "63.03"}
		recs = append(recs, RecordAssessment{InstitutionID: id, Input: model.Input{ReportedTotal: "9" + string(rune('0'+i%10)) + ".00"}, RequestID: "b-" + id, By: "tester"})
	}
	st := newFakeStore()
	a := New(cat, st, &lockedRegistry{r: &fakeRegistry{institutions: insts}}, fixedClock{time.Date(2024, 12, 11, 10, 0, 0, 0, time.UTC)}, dayWindows{})
	if _, err := a.CreateRound.Handle(context.Background(), CreateRound{SchemeID: "ombudsman", Year: 2024, By: "tester"}); err != nil {
		t.Fatal(err)
	}
	return a, st, recs
}

// Records decided in parallel are answered in the batch's order, stored in
// one append, and answered again (not stored twice) when sent again.
func TestBatchAnswersInOrder(t *testing.T) {
	a, st, recs := batchFixture(t, 40)
	ctx := context.Background()
	got, err := a.BatchRecord.Handle(ctx, BatchRecord{RoundID: "ombudsman-2024", Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range got {
		if !r.Created || r.Assessment.InstitutionID != recs[i].InstitutionID || r.Assessment.Total != recs[i].Input.ReportedTotal {
			t.Fatalf("answer %d: %+v for %+v", i, r.Assessment, recs[i])
		}
	}
	appends := st.appends
	again, err := a.BatchRecord.Handle(ctx, BatchRecord{RoundID: "ombudsman-2024", Records: recs})
	if err != nil || st.appends != appends {
		t.Fatalf("sent again: %v, %d more appends", err, st.appends-appends)
	}
	for i, r := range again {
		if r.Created || r.Assessment != got[i].Assessment {
			t.Fatalf("answer %d sent again: %+v", i, r)
		}
	}
}

// The first failure in the batch's order is the answer, and nothing is
// stored.
func TestBatchFirstFailureInOrder(t *testing.T) {
	a, st, recs := batchFixture(t, 30)
	recs[7].InstitutionID, recs[7].RequestID = "kab-retired", "b-retired"
	recs[20].InstitutionID, recs[20].RequestID = "kab-nowhere", "b-nowhere"
	for range 20 { // whichever finishes first, the answer is records[7]'s
		_, err := a.BatchRecord.Handle(context.Background(), BatchRecord{RoundID: "ombudsman-2024", Records: recs})
		if !fault.Is(err, fault.Precondition) || !strings.Contains(err.Error(), "records[7] (kab-retired)") {
			t.Fatalf("got %v", err)
		}
	}
	if st.appends != 0 {
		t.Fatalf("%d appends of a refused batch", st.appends)
	}
}
