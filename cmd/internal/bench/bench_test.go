package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs the whole harness at a tiny size (a few hundred calls per
// cell at most), so CI exercises every step: the private stack, the board
// records, the ranking start-up rebuild, every cell, the fan-out, a
// rebuild, the table and the JSON.
func TestSmoke(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	path := filepath.Join(t.TempDir(), "results.json")
	profiles := filepath.Join(t.TempDir(), "pprof")
	err := Run(ctx, Options{Out: &out, JSONPath: path, Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		ProfileDir: profiles,
		plan: &plan{institutions: 120, boards: []int{200, 2_000}, prevBoard: 50, rebuilds: []int{2_000}, fanout: 30, batches: []int{5},
			cell: budget{ops: 40}, callers: []int{1, 4}, setupCallers: 8}})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	baselines := map[string]bool{}
	for _, r := range rep.Rows {
		want[r.Operation]++
		baselines[r.Baseline] = true
		if r.Error != "" {
			t.Errorf("row %s (%d, %d callers) not measured: %s", r.Operation, r.Size, r.Callers, r.Error)
		}
		if r.Operation != "PublishRound -> first award" && r.Operation != "PublishRound -> last award" && r.RatioKind != ratioMemory && r.P50us <= 0 {
			t.Errorf("row %+v has no latency", r)
		}
		if strings.HasPrefix(r.Operation, "GetStanding") || strings.HasPrefix(r.Operation, "GetLeaderboard") || strings.HasPrefix(r.Operation, "RecordAssessment") ||
			r.Operation == batchName || r.Operation == fanoutName {
			// The fan-out's baseline is a latency: it has no rate.
			if r.OpsSec <= 0 || (r.BaselineOpsSec <= 0 && r.Operation != fanoutName) || r.Ratio <= 0 || (r.Target != "" && r.Pass == nil) {
				t.Errorf("row %+v is incomplete", r)
			}
			switch {
			case r.Operation == "RecordAssessment cost growth":
				// Computed from two cells, each with its profile.
			case r.Profile == "":
				t.Errorf("row %+v has no profile", r)
			default:
				if _, err := os.Stat(r.Profile); err != nil {
					t.Errorf("profile: %v", err)
				}
			}
		}
	}
	// 2 callers: RecordAssessment x2 baselines, on the empty stream and
	// with the board records, and its growth, and its ceiling at 1 caller; the batch against the raw
	// batch and the record; 2 boards x 3 baselines each for the two pages
	// and the standing, plus the growth rows.
	for op, n := range map[string]int{recordEmptyName: 4, recordName: 4, "RecordAssessment cost growth": 2, recordEmptyName + ", ceiling": 1, recordName + ", ceiling": 1, batchName: 4,
		"GetLeaderboard top 10": 12, "GetLeaderboard top 10 p50 growth": 2, "GetLeaderboard middle 10": 12, "GetLeaderboard middle 10 p50 growth": 2,
		"GetStanding": 12, "GetStanding p50 growth": 2, "ListInstitutions": 2, "JetStream atomic batch of 5 vs publishes": 2, "JetStream atomic batch of 5 with readers": 1,
		"PublishRound -> first award": 1, "PublishRound -> last award": 1, fanoutName: 1, "RebuildBoards": 1, "heap, every service in process": 1} {
		if want[op] != n {
			t.Errorf("%d rows of %q, want %d", want[op], op, n)
		}
	}
	for _, b := range []string{echoName, bareEchoName, publishName, "JetStream atomic batch of 5", rawFanoutName, "stream read, last per subject", recordEmptyName} {
		if !baselines[b] {
			t.Errorf("no row against %q", b)
		}
	}
	if !strings.Contains(out.String(), "GetStanding p50 growth") || !strings.Contains(out.String(), "JSON in "+path) {
		t.Errorf("table:\n%s", out.String())
	}
	for _, name := range []string{"recordassessment-2300-c4", "recordassessment-empty-stream-c1", "getleaderboard-top-10-2k-c1", "getleaderboard-middle-10-200-c4",
		"getstanding-2k-c4", "listinstitutions-120-c1", "batchrecordassessments-of-5-c4", "award-fan-out-30-c1", "rebuildboards-2k-c1"} {
		if _, err := os.Stat(filepath.Join(profiles, name+".pprof")); err != nil {
			t.Errorf("profile: %v", err)
		}
	}
	if rep.Env["redis_server"] == "" || rep.Env["echo"] != "in-process" || rep.Env["nats"] != "embedded" || rep.Setup["heap_after_setup_mb"] == nil {
		t.Errorf("report: env %v, setup %v", rep.Env, rep.Setup)
	}
}

// TestSmokeProcesses runs the smallest plan with each service as its own
// process: the rows come out and each service's memory is reported.
func TestSmokeProcesses(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	if testing.Short() {
		t.Skip("builds the three services")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	path := filepath.Join(t.TempDir(), "results.json")
	// NATS in a process of its own too (the embedded one is TestSmoke's):
	// the harness restarts it between phases, its store kept.
	err := Run(ctx, Options{Out: &out, JSONPath: path, Processes: true, NATSProcess: true,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		plan: &plan{institutions: 60, boards: []int{200}, prevBoard: 50, rebuilds: []int{200}, fanout: 10, batches: []int{5},
			cell: budget{ops: 20}, callers: []int{1}, setupCallers: 4}})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) == 0 || rep.Env["services"] != "processes" || rep.Env["echo"] != "process" || rep.Env["nats"] != "process" {
		t.Errorf("report: %d rows, env %v", len(rep.Rows), rep.Env)
	}
	for _, name := range []string{"registry", "assessment", "ranking"} {
		if rep.Setup["rss_after_setup_mb_"+name] == nil {
			t.Errorf("no memory of %s: setup %v", name, rep.Setup)
		}
	}
	heaps := 0
	for _, r := range rep.Rows {
		if r.Error != "" {
			t.Errorf("row %s (%d, %d callers) not measured: %s", r.Operation, r.Size, r.Callers, r.Error)
		}
		if strings.HasPrefix(r.Operation, "heap, ") {
			heaps++
			// Each process reports its heap in use; a live heap once it
			// has collected garbage.
			if r.HeapInuseMB <= 0 || r.RSSMB <= 0 {
				t.Errorf("memory row %+v", r)
			}
		}
	}
	if heaps != 3 {
		t.Errorf("%d memory rows, want one per service", heaps)
	}
}

func TestPercentileAndSummary(t *testing.T) {
	var lat []time.Duration
	for i := 100; i >= 1; i-- {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	st := summarize(lat, 2*time.Second)
	if st.P50 != 50*time.Millisecond || st.P99 != 99*time.Millisecond || st.Max != 100*time.Millisecond || st.OpsPerSec != 50 {
		t.Fatalf("%+v", st)
	}
	if percentile(nil, 0.5) != 0 || percentile([]time.Duration{7}, 0.99) != 7 {
		t.Fatal("edge cases")
	}
}

func TestRunStopsOnFirstError(t *testing.T) {
	calls := 0
	_, err := run(context.Background(), 1, budget{ops: 10}, func(ctx context.Context, w, i int) error {
		calls++
		if i == 3 {
			return os.ErrDeadlineExceeded
		}
		return nil
	})
	if err == nil || calls != 4 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
}

func TestTableAligns(t *testing.T) {
	ok := true
	rep := &Report{Rows: []Row{
		{Operation: "GetStanding", Size: 1_000_000, Callers: 50, OpsSec: 1234.5, P50us: 812, P99us: 15300, Baseline: "gRPC echo", BaselineOpsSec: 20000, Ratio: 0.0617, Target: ">= 50%", Pass: new(bool)},
		{Operation: "RebuildBoards", Size: 100_000, Callers: 1, OpsSec: 61000, P50us: 1.6e6, Target: ">= 50000/s", Pass: &ok},
	}}
	var b bytes.Buffer
	if err := rep.writeTable(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 || len(lines[0]) != len(strings.TrimRight(lines[2], " ")) && !strings.Contains(lines[2], "FAIL") {
		t.Fatalf("table:\n%s", b.String())
	}
	for _, want := range []string{"1M", "15.3ms", "812µs", "1.60s", "6%", "FAIL", "PASS"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// TestBench runs the real harness, as cmd/predikat-bench does, from go test:
//
//	PREDIKAT_BENCH=full go test -run '^TestBench$' -v -timeout 15m ./internal/bench/
//
// PREDIKAT_BENCH=quick runs the Quick plan. The JSON goes to
// PREDIKAT_BENCH_JSON (default .bench/results.json at the repository root);
// PREDIKAT_BENCH_PPROF names a directory for CPU profiles of every cell.
func TestBench(t *testing.T) {
	mode := os.Getenv("PREDIKAT_BENCH")
	if mode == "" {
		t.Skip("set PREDIKAT_BENCH=full or PREDIKAT_BENCH=quick to run the benchmark harness")
	}
	path := os.Getenv("PREDIKAT_BENCH_JSON")
	if path == "" {
		path = filepath.Join("..", "..", "..", "..", DefaultJSONPath)
	}
	err := Run(context.Background(), Options{Out: os.Stdout, JSONPath: path, Quick: mode == "quick",
		ProfileDir: os.Getenv("PREDIKAT_BENCH_PPROF"),
		Logger:     slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		t.Fatal(err)
	}
}
