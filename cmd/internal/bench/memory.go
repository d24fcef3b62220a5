package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	harness "github.com/predikat-id/predikat/cmd/internal/stack"
)

// A service process runs with GODEBUG=gctrace=1: after every garbage
// collection the runtime writes a line such as
//
//	gc 12 @3.405s 2%: 0.1+2.1+0.01 ms clock, ..., 410->420->205 MB, 421 MB goal, ...
//
// whose third heap figure is the heap the collection found live. The
// services serve no profiling endpoint, so the bench cannot force a
// collection in them; the runtime collects at least every two minutes
// anyway, and a busy service far more often, so the last line is a recent
// measure of what the process holds.
var gcTraceLine = regexp.MustCompile(`^gc \d+ @[0-9.]+s .* (\d+)->(\d+)->(\d+) MB`)

// gcTrace keeps the live heap of a process's last garbage collection and
// passes every other line on.
type gcTrace struct {
	next io.Writer

	mu      sync.Mutex
	partial []byte
	liveMB  float64
	cycles  int
}

func (t *gcTrace) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial = append(t.partial, p...)
	var rest []byte
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		line := t.partial[:i]
		t.partial = t.partial[i+1:]
		if mb, ok := parseGCTrace(string(line)); ok {
			t.liveMB = mb
			t.cycles++
			continue
		}
		rest = append(rest, line...)
		rest = append(rest, '\n')
	}
	if len(rest) > 0 && t.next != nil {
		if _, err := t.next.Write(rest); err != nil {
			return len(p), err
		}
	}
	return len(p), nil
}

// last is the live heap of the last collection seen and how many were.
func (t *gcTrace) last() (float64, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.liveMB, t.cycles
}

// parseGCTrace reads the live heap (MB) of a gctrace line.
func parseGCTrace(line string) (float64, bool) {
	m := gcTraceLine.FindStringSubmatch(strings.TrimSpace(line))
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[3], 64)
	return v, err == nil
}

// scrapeGauges reads the named gauges of a Prometheus text exposition.
func scrapeGauges(r io.Reader, names ...string) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		for _, n := range names {
			if name == n {
				if v, err := strconv.ParseFloat(strings.Fields(val)[0], 64); err == nil {
					out[n] = v
				}
			}
		}
	}
	return out
}

// scrapeHeap reads a service's Go heap from its /metrics.
func scrapeHeap(ctx context.Context, addr string) (inuse, alloc float64, err error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("GET %s/metrics: %s", addr, resp.Status)
	}
	g := scrapeGauges(resp.Body, "go_memstats_heap_inuse_bytes", "go_memstats_heap_alloc_bytes")
	return g["go_memstats_heap_inuse_bytes"] / (1 << 20), g["go_memstats_heap_alloc_bytes"] / (1 << 20), nil
}

// heapTargets are the heaps the services may hold with a million records
// stored, in MB (the registry has none).
var heapTargets = map[string]float64{"assessment": targetAssessmentHeap, "ranking": targetRankingHeap}

// memoryRows reports each service's heap at the end of the run. As
// processes, each has its own: the live heap its last garbage collection
// found (judged) and the heap in use and resident memory now. In process
// they share the harness's heap, reported as one row with no target.
func (r *runner) memoryRows(ctx context.Context) {
	r.measured(-1, 0, 0)
	if r.s.mode != harness.Processes {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		r.add(Row{Operation: "heap, every service in process", Size: r.stored, RatioKind: ratioMemory,
			HeapLiveMB: mb(ms.HeapAlloc), HeapInuseMB: mb(ms.HeapInuse),
			Note: "after a forced GC; the services, the NATS server and the harness share this heap (--processes measures each service)"})
		return
	}
	rss := r.s.memory()
	for _, name := range harness.All {
		row := Row{Operation: "heap, " + name + " service", Size: r.stored, RatioKind: ratioMemory, RSSMB: float64(rss[name])}
		var notes []string
		if t := r.s.gcTraces[name]; t != nil {
			live, cycles := t.last()
			row.HeapLiveMB = live
			notes = append(notes, fmt.Sprintf("live heap of its last GC (%d GCs seen)", cycles))
		}
		if addr := r.s.metricsAddrs[name]; addr != "" {
			inuse, alloc, err := scrapeHeap(ctx, addr)
			if err != nil {
				notes = append(notes, "metrics: "+err.Error())
			} else {
				row.HeapInuseMB = math.Round(inuse)
				notes = append(notes, fmt.Sprintf("in use now %.0f MB, allocated %.0f MB", inuse, alloc))
			}
		}
		notes = append(notes, fmt.Sprintf("resident %d MB", rss[name]))
		if limit, ok := heapTargets[name]; ok {
			if r.stored >= memoryTargetRecords {
				row.Target = fmt.Sprintf("<= %.0f MB", limit)
				v := memoryValue(row)
				pass := v > 0 && v <= limit
				row.Pass = &pass
			} else {
				notes = append(notes, fmt.Sprintf("target <= %.0f MB at %d records", limit, memoryTargetRecords))
			}
		}
		row.Note = strings.Join(notes, "; ")
		r.add(row)
	}
}

func mb(b uint64) float64 { return math.Round(float64(b) / (1 << 20)) }
