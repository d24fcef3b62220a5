package bench

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDisturbedAndRepeats(t *testing.T) {
	if disturbed(-1) || disturbed(0) || disturbed(disturbedCPU) || !disturbed(disturbedCPU+0.1) {
		t.Fatal("disturbed: the threshold is exclusive and an unknown share is quiet")
	}
	r := repeats{left: 10 * time.Second}
	if r.again(5, 1) {
		t.Error("a quiet cell is not repeated")
	}
	if !r.again(60, 1) || !r.again(60, maxAttempts-1) {
		t.Error("a disturbed cell is repeated while attempts and budget are left")
	}
	if r.again(60, maxAttempts) {
		t.Errorf("no more than %d attempts", maxAttempts)
	}
	r.spend(11 * time.Second)
	if r.again(60, 1) {
		t.Error("no repeat once the run's budget is spent")
	}
}

func TestLeastDisturbed(t *testing.T) {
	as := []attempt[string]{{"first", 70}, {"second", 30}, {"third", 30}, {"fourth", 45}}
	if got := leastDisturbed(as).val; got != "second" {
		t.Errorf("kept %q, want the least disturbed, the first of a tie", got)
	}
	if got := leastDisturbed([]attempt[string]{{"a", 40}, {"unknown", -1}}).val; got != "unknown" {
		t.Errorf("kept %q: an unknown share counts as quiet", got)
	}
}

func TestCostGrowth(t *testing.T) {
	// 1,000 records/s on the empty stream beside a 2,000/s publish; with
	// the records stored the machine is slower (the publish at 1,500/s)
	// and the record at 600/s: of its 1.67x, 1.33x is the machine.
	norm, raw := costGrowth(1000, 2000, 600, 1500)
	if math.Abs(raw-1000.0/600) > 1e-9 || math.Abs(norm-(1000.0/600)/(2000.0/1500)) > 1e-9 {
		t.Fatalf("norm %v raw %v", norm, raw)
	}
	row := recordGrowthRow(1_104_000, 1, recordCell{op: stats{OpsPerSec: 1000}, publish: stats{OpsPerSec: 2000}},
		recordCell{op: stats{OpsPerSec: 600}, publish: stats{OpsPerSec: 1500}})
	if row.Pass == nil || *row.Pass || row.RatioKind != ratioCost || row.Ratio != norm {
		t.Errorf("1.25x against a limit of 1.2x: %+v", row)
	}
	if n, _ := costGrowth(0, 1, 1, 1); n != 0 {
		t.Error("an empty measurement has no growth")
	}
	row = recordGrowthRow(1, 1, recordCell{op: stats{OpsPerSec: 1000}, publish: stats{OpsPerSec: 2000}},
		recordCell{op: stats{OpsPerSec: 900}, publish: stats{OpsPerSec: 2000}})
	if row.Pass == nil || !*row.Pass {
		t.Errorf("1.11x passes: %+v", row)
	}
}

func TestJudgeFanout(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		p99, raw time.Duration
		ok       bool
	}{
		{3 * ms, 1 * ms, true},
		{3*ms + 1, 1 * ms, false}, // over 3x the raw p99
		{12 * ms, 5 * ms, false},  // within 3x, not under 10 ms
		{9 * ms, 4 * ms, true},
		{0, 1 * ms, false},
		{1 * ms, 0, false},
	} {
		if got := judgeFanout(c.p99, c.raw); got != c.ok {
			t.Errorf("p99 %s, raw %s: %v, want %v", c.p99, c.raw, got, c.ok)
		}
	}
}

func TestGrowthAndVersusRows(t *testing.T) {
	row := growthRow("GetStanding p50 growth", 1_000_000, 50, stats{P50: 3 * time.Millisecond}, "GetStanding 1k", stats{P50: 2 * time.Millisecond}, "")
	if row.Ratio != 1.5 || row.Pass == nil || !*row.Pass {
		t.Errorf("1.5x is within the limit: %+v", row)
	}
	row = versus("GetLeaderboard top 10", 1000, 1, stats{OpsPerSec: 499}, echoName, stats{OpsPerSec: 1000}, targetQueryVsEcho, "")
	if row.Pass == nil || *row.Pass || row.Target != ">= 50%" {
		t.Errorf("49.9%% fails: %+v", row)
	}
	row = versus("GetLeaderboard top 10", 1000, 1, stats{OpsPerSec: 499}, bareEchoName, stats{OpsPerSec: 1000}, 0, "")
	if row.Pass != nil || row.Target != "" {
		t.Errorf("a second baseline has no target: %+v", row)
	}
}

func TestPairPool(t *testing.T) {
	p := newPairPool([]int32{2013, 2014}, 10)
	var got []string
	for {
		y, at, ok := p.take(4)
		if !ok {
			break
		}
		got = append(got, strconv.Itoa(int(y))+":"+strconv.Itoa(at))
	}
	// 4+4 of each year; the last 2 of a year are skipped rather than
	// split over two rounds.
	if want := "2013:0 2013:4 2014:0 2014:4"; strings.Join(got, " ") != want {
		t.Errorf("took %v, want %s", got, want)
	}
	if p.left() != 0 {
		t.Errorf("%d left", p.left())
	}
	p = newPairPool([]int32{2013}, 10)
	p.take(3)
	if p.left() != 7 {
		t.Errorf("%d left, want 7", p.left())
	}
}

// TestPairPoolShares: a cell measured again cannot take the pairs of the
// cells after it; what it leaves goes to them.
func TestPairPoolShares(t *testing.T) {
	p := newPairPool([]int32{2013, 2014}, 10) // 20 pairs, 3 cells
	p.shareFor(3)                             // 6
	n := 0
	for {
		if _, _, ok := p.take(2); !ok {
			break
		}
		n++
	}
	if n != 3 || p.left() != 14 {
		t.Errorf("first cell took %d batches of 2, %d left; want 3 and 14", n, p.left())
	}
	p.shareFor(2) // 7: the first cell's share used whole
	if _, _, ok := p.take(2); !ok {
		t.Fatal("the second cell found no pair")
	}
	p.shareFor(1) // what the second cell left: 12
	n = 0
	for {
		if _, _, ok := p.take(2); !ok {
			break
		}
		n++
	}
	if n != 6 || p.left() != 0 {
		t.Errorf("last cell took %d batches of 2, %d left; want 6 and 0", n, p.left())
	}
}

func TestGCTrace(t *testing.T) {
	var rest bytes.Buffer
	tr := &gcTrace{next: &rest}
	// Lines arrive in pieces, as a pipe delivers them.
	in := "starting\ngc 1 @0.011s 2%: 0.010+1.2+0.003 ms clock, 0.020+0.5/1.0/0+0.006 ms cpu, 4->4->1 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P\n" +
		"gc 2 @5.2s 3%: 0.1+20+0.01 ms clock, 0.2+1/19/0+0.02 ms cpu, 410->420->205 MB, 421 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)\nwarn: x\n"
	for i := 0; i < len(in); i += 7 {
		if _, err := tr.Write([]byte(in[i:min(i+7, len(in))])); err != nil {
			t.Fatal(err)
		}
	}
	live, n := tr.last()
	if live != 205 || n != 2 {
		t.Errorf("live %v MB after %d GCs, want 205 after 2", live, n)
	}
	if rest.String() != "starting\nwarn: x\n" {
		t.Errorf("passed on %q", rest.String())
	}
	if _, ok := parseGCTrace("gc is not a trace line"); ok {
		t.Error("parsed a line that is no trace")
	}
}

func TestScrapeGauges(t *testing.T) {
	in := `# HELP go_memstats_heap_inuse_bytes Number of heap bytes that are in use.
# TYPE go_memstats_heap_inuse_bytes gauge
go_memstats_heap_inuse_bytes 3.145728e+08
go_memstats_heap_alloc_bytes 2.097152e+08
go_memstats_heap_inuse_bytes_total 1
`
	g := scrapeGauges(strings.NewReader(in), "go_memstats_heap_inuse_bytes", "go_memstats_heap_alloc_bytes")
	if g["go_memstats_heap_inuse_bytes"] != 314572800 || g["go_memstats_heap_alloc_bytes"] != 209715200 || len(g) != 2 {
		t.Errorf("%v", g)
	}
}

func TestMemoryValueAndRuns(t *testing.T) {
	ok := true
	x := Row{Operation: "heap, assessment service", RatioKind: ratioMemory, HeapInuseMB: 310, HeapLiveMB: 250, Target: "<= 300 MB", Pass: &ok}
	if memoryValue(x) != 250 || ratioString(x) != "250 MB" {
		t.Errorf("the live heap is judged: %v %q", memoryValue(x), ratioString(x))
	}
	x.HeapLiveMB = 0
	if memoryValue(x) != 310 {
		t.Error("without a GC trace, the heap in use")
	}
	if s := runsString(Row{Attempts: 3, Disturbed: true}); s != "3 disturbed" {
		t.Errorf("%q", s)
	}
	if s := runsString(Row{}); s != "" {
		t.Errorf("%q", s)
	}
	if s := resultString(Row{Error: "context deadline exceeded", Pass: &ok}); s != "ERROR" {
		t.Errorf("%q", s)
	}
}

func TestCompare(t *testing.T) {
	pass, fail := true, false
	a := &Report{Start: time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC), Seconds: 300, Revision: "0123456789abcdef", Env: map[string]string{"services": "processes"}, Rows: []Row{
		{Operation: "GetStanding", Size: 1_000_000, Callers: 50, OpsSec: 5000, Baseline: echoName, Ratio: 0.25, RatioKind: ratioThroughput, Target: ">= 50%", Pass: &fail},
		{Operation: "GetStanding p50 growth", Size: 1_000_000, Callers: 50, Baseline: "GetStanding 1k", Ratio: 1.05, RatioKind: ratioLatency, Pass: &pass},
		{Operation: "heap, assessment service", Size: 1_104_000, RatioKind: ratioMemory, HeapLiveMB: 1700, Pass: &fail},
		{Operation: "RebuildBoards", Size: 1_000_000, Callers: 1, Error: "context deadline exceeded"},
		{Operation: "gone", Callers: 1, OpsSec: 10},
	}}
	b := &Report{Start: a.Start.Add(time.Hour), Seconds: 280, Quick: false, Rows: []Row{
		{Operation: "GetStanding", Size: 1_000_000, Callers: 50, OpsSec: 12000, Baseline: echoName, Ratio: 0.62, RatioKind: ratioThroughput, Target: ">= 50%", Pass: &pass},
		{Operation: "GetStanding p50 growth", Size: 1_000_000, Callers: 50, Baseline: "GetStanding 1k", Ratio: 0.98, RatioKind: ratioLatency, Pass: &pass},
		{Operation: "heap, assessment service", Size: 1_104_000, RatioKind: ratioMemory, HeapLiveMB: 280, Pass: &pass},
		{Operation: "RebuildBoards", Size: 1_000_000, Callers: 1, Ratio: 0.85, RatioKind: ratioThroughput, Pass: &pass},
		{Operation: "new", Callers: 1, OpsSec: 20},
	}}
	dir := t.TempDir()
	for name, r := range map[string]*Report{"a.json": a, "b.json": b} {
		if err := r.writeJSON(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	la, err := LoadReport(filepath.Join(dir, "a.json"))
	if err != nil {
		t.Fatal(err)
	}
	lb, err := LoadReport(filepath.Join(dir, "b.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Compare(&out, la, lb, "a.json", "b.json"); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	t.Log("\n" + text)
	for _, want := range []string{
		"A: a.json (2026-12-01 01:00, revision 0123456789ab, full, processes, 300s",
		"B: b.json",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, text)
		}
	}
	for _, c := range []struct{ row, want string }{
		{"GetStanding 1M 50", "25%  FAIL      62%  PASS    +37 pts"},
		{"GetStanding p50 growth", "1.05x  PASS     0.98x  PASS    -0.07x"},
		{"heap, assessment service", "1700 MB  FAIL    280 MB  PASS  -1420 MB"},
		{"RebuildBoards 1M 1", "-  ERROR      85%  PASS         -"},
		{"gone - 1", "10/s"},
		{"new - 1", "20/s"},
	} {
		found := false
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, strings.Fields(c.row)[0]) && strings.Contains(strings.Join(strings.Fields(l), " "), strings.Join(strings.Fields(c.row), " ")) &&
				strings.Contains(strings.Join(strings.Fields(l), " "), strings.Join(strings.Fields(c.want), " ")) {
				found = true
			}
		}
		if !found {
			t.Errorf("no line %q with %q in\n%s", c.row, c.want, text)
		}
	}
	if _, err := LoadReport(filepath.Join(dir, "missing.json")); !os.IsNotExist(err) {
		t.Errorf("a missing file: %v", err)
	}
}

// A cell measured again must not repeat its calls' numbers: they make
// message ids unique, and a repeated id is answered by JetStream's
// de-duplication without a write.
func TestAttemptsCallNumbersDiffer(t *testing.T) {
	seen := map[int]int{}
	sub := subject{"publish", func(_ context.Context, _, i int) error {
		seen[i]++
		return nil
	}}
	for a := range maxAttempts {
		if _, err := compare(context.Background(), 1, budget{ops: 40}, attemptSubjects([]subject{sub}, a)); err != nil {
			t.Fatal(err)
		}
	}
	for i, n := range seen {
		if n > 1 {
			t.Fatalf("call number %d made %d times", i, n)
		}
	}
	if len(seen) != maxAttempts*(40+4) {
		t.Errorf("%d calls, want %d", len(seen), maxAttempts*44)
	}
}
