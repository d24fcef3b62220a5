package objection

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

func TestIDIsStableAndSubjectSafe(t *testing.T) {
	a := ID("ombudsman-2024", "pemkab-hss", "req-1")
	if a != ID("ombudsman-2024", "pemkab-hss", "req-1") {
		t.Fatal("the same filing must name the same objection")
	}
	if !regexp.MustCompile(`^obj-[a-z2-7]{16}$`).MatchString(a) {
		t.Fatalf("id %q is not of the API's form", a)
	}
	for _, other := range []string{ID("ombudsman-2025", "pemkab-hss", "req-1"), ID("ombudsman-2024", "pemkab-tapin", "req-1"), ID("ombudsman-2024", "pemkab-hss", "req-2"),
		// The parts are separated, so shifting a character between them
		// changes the id.
		ID("ombudsman-2024", "pemkab-hs", "sreq-1")} {
		if other == a {
			t.Fatalf("two filings share id %s", a)
		}
	}
}

func TestCheckFileable(t *testing.T) {
	end := time.Date(2025, 3, 12, 16, 0, 0, 0, time.UTC)
	w := Window{End: end, Local: "2025-03-12 24:00 WITA"}
	closed := model.Round{ID: "ombudsman-2024", SchemeID: "ombudsman", SchemeVersion: "2022", State: model.RoundClosed}
	cases := []struct {
		name  string
		r     model.Round
		days  int32
		now   time.Time
		kind  fault.Kind
		words string
	}{
		{"inside the window", closed, 10, end.Add(-time.Second), 0, ""},
		{"at its end", closed, 10, end, fault.Precondition, "ended 2025-03-12 24:00 WITA"},
		{"open round", model.Round{ID: "x-2024", State: model.RoundOpen}, 10, end.Add(-time.Hour), fault.Precondition, "after the round closes"},
		{"published round", model.Round{ID: "x-2024", State: model.RoundPublished}, 10, end.Add(-time.Hour), fault.Precondition, "final"},
		{"no window in the version", closed, 0, end.Add(-time.Hour), fault.Precondition, "takes no objections"},
	}
	for _, c := range cases {
		err := CheckFileable(c.r, c.days, w, c.now, "pemkab-hss")
		if c.kind == 0 {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if !fault.Is(err, c.kind) || !strings.Contains(err.Error(), c.words) {
			t.Errorf("%s: got %v, want %v saying %q", c.name, err, c.kind, c.words)
		}
	}
}

func TestCheckPublishable(t *testing.T) {
	r := model.Round{ID: "ombudsman-2024", State: model.RoundClosed}
	end := time.Date(2025, 3, 12, 16, 0, 0, 0, time.UTC)
	last := Window{End: end, Local: "2025-03-12 24:00 WIB"}
	var open []model.Objection
	for i := range 7 {
		open = append(open, model.Objection{ID: ID(r.ID, "inst", string(rune('a'+i))), InstitutionID: "inst"})
	}
	if err := CheckPublishable(r, open, last, end.Add(time.Hour), ""); !fault.Is(err, fault.Precondition) ||
		!strings.Contains(err.Error(), "7 open objection(s)") || !strings.Contains(err.Error(), "and 2 more") {
		t.Fatalf("open objections: %v", err)
	}
	if err := CheckPublishable(r, nil, last, end.Add(-time.Nanosecond), ""); !fault.Is(err, fault.Precondition) || !strings.Contains(err.Error(), "runs until 2025-03-12 24:00 WIB") {
		t.Fatalf("inside the window: %v", err)
	}
	if err := CheckPublishable(r, nil, last, end, ""); err != nil {
		t.Fatalf("at the window's end: %v", err)
	}
	if err := CheckPublishable(r, nil, Window{}, end, ""); err != nil {
		t.Fatalf("no window: %v", err)
	}
	if err := CheckPublishable(r, open, last, end.Add(-time.Hour), "minister's deadline"); err != nil {
		t.Fatalf("forced: %v", err)
	}
}

func TestCheckDecidable(t *testing.T) {
	o := model.Objection{ID: "obj-x", RoundID: "ombudsman-2024", InstitutionID: "pemkab-hss", State: model.ObjectionOpen}
	revs := []*model.Assessment{{Revision: 1, RecordedBy: "spiffe://predikat/ombudsman/kalsel"}, {Revision: 2, RecordedBy: "user:budi"}}
	if err := CheckDecidable(o, "user:siti", revs); err != nil {
		t.Fatal(err)
	}
	if err := CheckDecidable(o, "user:budi", revs); !fault.Is(err, fault.Denied) || !strings.Contains(err.Error(), "revision 2") {
		t.Fatalf("an assessor decided: %v", err)
	}
	// The objection's own correction, by the reviewer deciding it, does
	// not count as an assessment.
	own := append(revs, &model.Assessment{Revision: 3, RecordedBy: "user:siti", ObjectionID: o.ID})
	if err := CheckDecidable(o, "user:siti", own); err != nil {
		t.Fatalf("the reviewer's own correction: %v", err)
	}
	o.State, o.DecidedBy = model.ObjectionRejected, "user:siti"
	if err := CheckDecidable(o, "user:ani", revs); !fault.Is(err, fault.Precondition) || !strings.Contains(err.Error(), "REJECTED by user:siti") {
		t.Fatalf("decided twice: %v", err)
	}
}
