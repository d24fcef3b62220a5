package bench

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSKMCrash runs the SKM bench's correctness part at a tiny size, each
// service its own process: responses streamed, the assessment service
// killed with SIGKILL in the middle of a wave, restarted, the
// unacknowledged submissions and the last acknowledged ones sent again,
// every unit's result compared with what was sent, then again after
// another restart (a rebuild from the log). No timing is judged.
func TestSKMCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the services")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	path := filepath.Join(t.TempDir(), "results.json")
	err := RunSKM(ctx, SKMOptions{Out: &out, JSONPath: path,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		plan:   &skmPlan{units: 60, perUnit: 20, unitsPerSubmission: 3, streams: 3, slices: 1, crashUnits: 48, setupCallers: 8}})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := LoadReport(path)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]Row{}
	for _, r := range rep.Rows {
		rows[r.Operation] = r
		if r.Error != "" {
			t.Errorf("row %s: %s", r.Operation, r.Error)
		}
	}
	for _, op := range []string{"crash mid-ingestion, restart", "rebuild from the log, restart"} {
		r, ok := rows[skmRowPrefix+op]
		if !ok || r.Pass == nil || !*r.Pass || r.Ops != 60 || !strings.Contains(r.Note, "identical") {
			t.Errorf("%s: %+v", op, r)
		}
	}
	if r := rows[skmRowPrefix+"crash mid-ingestion, restart"]; !strings.Contains(r.Note, "kill -9") {
		t.Errorf("the crash was not a kill: %s", r.Note)
	}
	if r := rows[skmRowPrefix+"SubmitSurveyResponses"]; r.Ops != 1200 || r.OpsSec <= 0 || r.BaselineOpsSec <= 0 {
		t.Errorf("ingestion row: %+v", r)
	}
	if r := rows[skmRowPrefix+"heap, assessment service"]; r.RSSMB <= 0 {
		t.Errorf("memory row: %+v", r)
	}
}

// TestSKMGenerator: the answers are 1-4, the same for the same unit and
// response, and a tally of a wave counts each response once per element.
func TestSKMGenerator(t *testing.T) {
	g := newSKMGen(1, 2026, 3, 10, 2, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	again := newSKMGen(1, 2026, 3, 10, 2, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if g.answers(1, 5) != again.answers(1, 5) || g.answers(1, 5) == g.answers(1, 6) && g.answers(2, 5) == g.answers(2, 6) {
		t.Fatal("answers not a function of unit and response")
	}
	for u := range 3 {
		for k := range 20 {
			for _, a := range g.answers(u, k) {
				if a < 1 || a > 4 {
					t.Fatalf("answer %d", a)
				}
			}
			if d := g.date(u, k); d < "2026-01-01" || d > "2026-11-30" {
				t.Fatalf("date %s", d)
			}
		}
	}
	msg := g.unitMsg(2, 1)
	if msg.GetUnitId() != "ul-bench-000002" || len(msg.GetResponses()) != 10 || msg.GetResponses()[0].GetResponseId() != "r000010" {
		t.Fatalf("message %v", msg)
	}
	tl := g.want(2, []int{0, 1})
	for e := range skmElements {
		var n int64
		for _, c := range tl.counts[e] {
			n += c
		}
		if n != 20 || tl.respondents != 20 {
			t.Fatalf("tally %+v", tl)
		}
	}
}
