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
	// CPU per call of this process (client, services and the embedded NATS
	// server together) and of the redis-server, for the operation and the
	// baseline.
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
	head := []string{"operation", "size", "callers", "ops/s", "p50", "p99", "baseline", "baseline ops/s", "ratio", "target", "result", "other cpu", "gc"}
	right := []bool{false, true, true, true, true, true, false, true, true, false, false, true, true}
	rows := [][]string{head}
	for _, x := range r.Rows {
		rows = append(rows, []string{
			x.Operation, sizeString(x.Size), strconv.Itoa(x.Callers), rate(x.OpsSec), micros(x.P50us), micros(x.P99us),
			x.Baseline, rate(x.BaselineOpsSec), ratioString(x), x.Target, passString(x.Pass), percent(x.OtherCPU), strconv.Itoa(x.GCCycles),
		})
	}
	width := make([]int, len(head))
	for _, row := range rows {
		for i, c := range row {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	for n, row := range rows {
		var line strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if right[i] {
				line.WriteString(pad + c)
			} else {
				line.WriteString(c + pad)
			}
			if i < len(row)-1 {
				line.WriteString("  ")
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
		if n == 0 {
			total := len(width)*2 - 2
			for _, wd := range width {
				total += wd
			}
			b.WriteString(strings.Repeat("-", total) + "\n")
		}
	}
	for _, x := range r.Rows {
		if x.Note != "" {
			fmt.Fprintf(&b, "  %s (%s, %d callers): %s\n", x.Operation, sizeString(x.Size), x.Callers, x.Note)
		}
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

func ratioString(x Row) string {
	if x.Ratio == 0 {
		return "-"
	}
	if x.RatioKind == "latency" {
		return strconv.FormatFloat(x.Ratio, 'f', 2, 64) + "x"
	}
	return strconv.FormatFloat(100*x.Ratio, 'f', 0, 64) + "%"
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
