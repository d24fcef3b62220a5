package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Row is one line of the table: an operation at one size and concurrency,
// beside the baseline it is judged against.
type Row struct {
	Operation string `json:"operation"`
	// Size is the board size, the number of institutions or awards, or
	// the number of assessments rebuilt; 0 when it does not apply.
	Size    int     `json:"size,omitempty"`
	Callers int     `json:"callers"`
	Ops     int     `json:"ops"`
	OpsSec  float64 `json:"ops_per_sec"`
	P50us   float64 `json:"p50_us"`
	P99us   float64 `json:"p99_us"`
	// Baseline names what the operation is compared with, measured in the
	// same run ("" when none).
	Baseline       string  `json:"baseline,omitempty"`
	BaselineOpsSec float64 `json:"baseline_ops_per_sec,omitempty"`
	BaselineP50us  float64 `json:"baseline_p50_us,omitempty"`
	BaselineP99us  float64 `json:"baseline_p99_us,omitempty"`
	// CPU per call of the stack (the harness's client, the embedded NATS
	// server and the services, in this process or as its child processes)
	// and of the redis-server, for the operation and the baseline.
	CPUus           float64 `json:"cpu_us_per_op,omitempty"`
	RedisCPUus      float64 `json:"redis_cpu_us_per_op,omitempty"`
	BaselineCPUus   float64 `json:"baseline_cpu_us_per_op,omitempty"`
	BaselineRedisUs float64 `json:"baseline_redis_cpu_us_per_op,omitempty"`
	// Ratio is ops/s over the baseline's ops/s (RatioKind "throughput"),
	// or p50 latency over the baseline's p50 (RatioKind "latency").
	Ratio     float64 `json:"ratio,omitempty"`
	RatioKind string  `json:"ratio_kind,omitempty"`
	Target    string  `json:"target,omitempty"`
	// Pass is nil when the row has no target.
	Pass *bool  `json:"pass,omitempty"`
	Note string `json:"note,omitempty"`
	// Profile is the CPU profile of the operation, if any.
	Profile string `json:"profile,omitempty"`
	// OtherCPU is the percent of the machine's CPU that other processes
	// used while the row was measured (-1: unknown): a shared machine's
	// noise, so a reader knows which rows to distrust.
	OtherCPU float64 `json:"other_cpu_pct"`
	// RedisScriptUs is the time Redis spent per Lua script (EVALSHA) while
	// the row was measured: the Redis side of a ranking query, or of the
	// events the ranking service applied meanwhile.
	RedisScriptUs float64 `json:"redis_script_us_per_call,omitempty"`
	// GCCycles is how many garbage collections this process (every
	// service, the NATS server and the harness) ran while the row was
	// measured.
	GCCycles int `json:"gc_cycles"`
	// Attempts is how many times the row's cell was measured when it was
	// more than once: a cell that other processes disturbed (OtherCPU
	// above disturbedCPU) is measured again, a bounded number of times,
	// and the row keeps the least disturbed attempt.
	Attempts int `json:"attempts,omitempty"`
	// Disturbed is set when even the attempt kept was disturbed: read the
	// row with care.
	Disturbed bool `json:"disturbed,omitempty"`
	// Error is why the cell could not be measured; the run went on.
	Error string `json:"error,omitempty"`
	// Memory rows (a service in its own process): the heap the last
	// garbage collection found live (GODEBUG=gctrace), and the in-use heap
	// and resident memory read at the end of the run.
	HeapLiveMB  float64 `json:"heap_live_mb,omitempty"`
	HeapInuseMB float64 `json:"heap_inuse_mb,omitempty"`
	RSSMB       float64 `json:"rss_mb,omitempty"`
}

// Report is what the JSON file holds.
type Report struct {
	Start      time.Time `json:"start"`
	Seconds    float64   `json:"seconds"`
	Quick      bool      `json:"quick"`
	GoVersion  string    `json:"go_version"`
	GOOS       string    `json:"goos"`
	GOARCH     string    `json:"goarch"`
	NumCPU     int       `json:"num_cpu"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	Revision   string    `json:"vcs_revision,omitempty"`
	// Env names the CPU, the redis-server and the embedded NATS server.
	Env        map[string]string `json:"env,omitempty"`
	Modified   bool              `json:"vcs_modified,omitempty"`
	CellBudget string            `json:"cell_budget"`
	// OtherCPU is the percent of the machine's CPU other processes used
	// during the whole run (-1: unknown).
	OtherCPU float64        `json:"other_cpu_pct"`
	Setup    map[string]any `json:"setup"`
	Rows     []Row          `json:"rows"`
	Error    string         `json:"error,omitempty"`
}

func newReport(start time.Time, quick bool) *Report {
	r := &Report{Start: start.UTC(), Quick: quick, GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), Setup: map[string]any{}}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				r.Revision = s.Value
			case "vcs.modified":
				r.Modified = s.Value == "true"
			}
		}
	}
	if r.Revision == "" {
		// go run and go test do not stamp the binary: ask git, if the
		// harness runs in a checkout.
		r.Revision, r.Modified = gitRevision()
	}
	return r
}

func gitRevision() (string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rev, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "", false
	}
	st, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output()
	return strings.TrimSpace(string(rev)), err == nil && len(bytes.TrimSpace(st)) > 0
}

func (r *Report) writeJSON(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// writeTable prints the rows as one aligned table.
func (r *Report) writeTable(w io.Writer) error {
	// Built by hand rather than with text/tabwriter: text columns stay
	// left-aligned and numbers right-aligned.
	head := []string{"operation", "size", "callers", "ops/s", "p50", "p99", "baseline", "baseline ops/s", "ratio", "target", "result", "other cpu", "gc", "runs"}
	right := []bool{false, true, true, true, true, true, false, true, true, false, false, true, true, false}
	rows := [][]string{head}
	for _, x := range r.Rows {
		rows = append(rows, []string{
			x.Operation, sizeString(x.Size), strconv.Itoa(x.Callers), rate(x.OpsSec), micros(x.P50us), micros(x.P99us),
			x.Baseline, rate(x.BaselineOpsSec), ratioString(x), x.Target, resultString(x), percent(x.OtherCPU), strconv.Itoa(x.GCCycles), runsString(x),
		})
	}
	var b strings.Builder
	writeAligned(&b, rows, right)
	for _, x := range r.Rows {
		if x.Note != "" {
			fmt.Fprintf(&b, "  %s (%s, %d callers): %s\n", x.Operation, sizeString(x.Size), x.Callers, x.Note)
		}
		if x.Error != "" {
			fmt.Fprintf(&b, "  %s (%s, %d callers) not measured: %s\n", x.Operation, sizeString(x.Size), x.Callers, x.Error)
		}
	}
	switch r.Env["echo"] {
	case "process":
		fmt.Fprintf(&b, "  %s and %s: served by a process of their own, as each service is\n", echoName, bareEchoName)
	case "in-process":
		fmt.Fprintf(&b, "  %s and %s: served in the harness's process, as the services are\n", echoName, bareEchoName)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func sizeString(n int) string {
	switch {
	case n == 0:
		return "-"
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1_000 && n%1_000 == 0:
		return strconv.Itoa(n/1_000) + "k"
	}
	return strconv.Itoa(n)
}

func rate(v float64) string {
	if v == 0 {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// micros renders microseconds with a unit that keeps 3 significant digits.
func micros(us float64) string {
	switch {
	case us == 0:
		return "-"
	case us < 1000:
		return strconv.FormatFloat(us, 'f', 0, 64) + "µs"
	case us < 10_000:
		return strconv.FormatFloat(us/1000, 'f', 2, 64) + "ms"
	case us < 1_000_000:
		return strconv.FormatFloat(us/1000, 'f', 1, 64) + "ms"
	}
	return strconv.FormatFloat(us/1e6, 'f', 2, 64) + "s"
}

// The kinds of ratio a row can have.
const (
	ratioThroughput = "throughput"  // ops/s over the baseline's ops/s
	ratioLatency    = "latency"     // p50 over the baseline's p50
	ratioLatencyP99 = "latency_p99" // p99 over the baseline's p99
	ratioCost       = "cost"        // time per call over the baseline's, each against its own same-cell baseline
	ratioMemory     = "memory"      // no ratio: the row's value is a heap in MB
)

func ratioString(x Row) string {
	if x.RatioKind == ratioMemory {
		if v := memoryValue(x); v > 0 {
			return strconv.FormatFloat(v, 'f', 0, 64) + " MB"
		}
		return "-"
	}
	if x.Ratio == 0 {
		return "-"
	}
	switch x.RatioKind {
	case ratioLatency, ratioLatencyP99, ratioCost:
		return strconv.FormatFloat(x.Ratio, 'f', 2, 64) + "x"
	}
	return strconv.FormatFloat(100*x.Ratio, 'f', 0, 64) + "%"
}

// memoryValue is the heap a memory row is judged on: the live heap after
// the last garbage collection when known, else the heap in use.
func memoryValue(x Row) float64 {
	if x.HeapLiveMB > 0 {
		return x.HeapLiveMB
	}
	return x.HeapInuseMB
}

func resultString(x Row) string {
	if x.Error != "" {
		return "ERROR"
	}
	return passString(x.Pass)
}

// runsString says how often a disturbed cell was measured, and whether
// the attempt kept was still disturbed.
func runsString(x Row) string {
	s := ""
	if x.Attempts > 1 {
		s = strconv.Itoa(x.Attempts)
	}
	if x.Disturbed {
		s = strings.TrimSpace(s + " disturbed")
	}
	return s
}

func percent(v float64) string {
	if v < 0 {
		return "?"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + "%"
}

func passString(p *bool) string {
	switch {
	case p == nil:
		return ""
	case *p:
		return "PASS"
	}
	return "FAIL"
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
