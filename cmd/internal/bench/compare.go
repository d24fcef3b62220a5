package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// LoadReport reads a JSON report written by Run.
func LoadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// rowKey identifies a row across runs: the same operation, size, callers
// and baseline.
func rowKey(x Row) string {
	return x.Operation + "\x00" + strconv.Itoa(x.Size) + "\x00" + strconv.Itoa(x.Callers) + "\x00" + x.Baseline
}

// Compare prints two runs side by side, row by row: each run's ratio (or
// value) and result, and the change from the first to the second. Rows
// of only one run are listed with the other side empty.
func Compare(w io.Writer, a, b *Report, aName, bName string) error {
	var out strings.Builder
	for _, x := range []struct {
		name string
		r    *Report
	}{{"A", a}, {"B", b}} {
		fmt.Fprintf(&out, "%s: %s\n", x.name, describeRun(x.r, map[string]string{"A": aName, "B": bName}[x.name]))
	}
	out.WriteString("\n")
	inB := map[string]Row{}
	for _, x := range b.Rows {
		inB[rowKey(x)] = x
	}
	seen := map[string]bool{}
	rows := [][]string{{"operation", "size", "callers", "baseline", "A ratio", "A result", "B ratio", "B result", "change"}}
	for _, x := range a.Rows {
		k := rowKey(x)
		seen[k] = true
		y, ok := inB[k]
		if !ok {
			rows = append(rows, sideBySide(x, nil))
			continue
		}
		rows = append(rows, sideBySide(x, &y))
	}
	for _, y := range b.Rows {
		if !seen[rowKey(y)] {
			rows = append(rows, sideBySide(Row{Operation: y.Operation, Size: y.Size, Callers: y.Callers, Baseline: y.Baseline}, &y, true))
		}
	}
	writeAligned(&out, rows, []bool{false, true, true, false, true, false, true, false, true})
	_, err := io.WriteString(w, out.String())
	return err
}

func describeRun(r *Report, name string) string {
	rev := r.Revision
	if rev == "" {
		rev = "unknown"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if r.Modified {
		rev += "+modified"
	}
	mode := "full"
	if r.Quick {
		mode = "quick"
	}
	if s := r.Env["services"]; s != "" {
		mode += ", " + s
	}
	if s := r.Env["echo"]; s != "" {
		mode += ", echo " + s
	}
	return fmt.Sprintf("%s (%s, revision %s, %s, %.0fs, other processes %s)", name, r.Start.Format("2006-01-02 15:04"), rev, mode, r.Seconds, percent(r.OtherCPU))
}

// sideBySide is one line of the comparison; onlyB marks a row that the
// first run does not have.
func sideBySide(a Row, b *Row, onlyB ...bool) []string {
	line := []string{a.Operation, sizeString(a.Size), strconv.Itoa(a.Callers), a.Baseline, "", "", "", "", ""}
	if len(onlyB) == 0 || !onlyB[0] {
		line[4], line[5] = valueString(a), resultString(a)
	}
	if b != nil {
		line[6], line[7] = valueString(*b), resultString(*b)
		if len(onlyB) == 0 || !onlyB[0] {
			line[8] = change(a, *b)
		}
	}
	return line
}

// valueString is what a row is judged on: its ratio, its heap, or (with
// neither) its ops/s.
func valueString(x Row) string {
	if x.Error != "" {
		return "-"
	}
	if x.Ratio != 0 || x.RatioKind == ratioMemory {
		return ratioString(x)
	}
	if x.OpsSec > 0 {
		return rate(x.OpsSec) + "/s"
	}
	if x.P50us > 0 {
		return micros(x.P50us)
	}
	return "-"
}

// change is how the second run's row differs from the first's: points of
// a throughput ratio, the difference of a latency ratio or of a heap, or
// the relative change of ops/s or p50 for rows without a ratio.
func change(a, b Row) string {
	if a.Error != "" || b.Error != "" {
		return "-"
	}
	if a.RatioKind == ratioMemory && b.RatioKind == ratioMemory {
		return memoryChange(a, b)
	}
	switch {
	case a.Ratio != 0 && b.Ratio != 0 && a.RatioKind == b.RatioKind:
		if a.RatioKind == ratioThroughput || a.RatioKind == "" {
			return signed(100*(b.Ratio-a.Ratio), 0) + " pts"
		}
		return signed(b.Ratio-a.Ratio, 2) + "x"
	case a.OpsSec > 0 && b.OpsSec > 0:
		return signed(100*(b.OpsSec/a.OpsSec-1), 0) + "% ops/s"
	case a.P50us > 0 && b.P50us > 0:
		return signed(100*(b.P50us/a.P50us-1), 0) + "% p50"
	}
	return "-"
}

func memoryChange(a, b Row) string {
	if va, vb := memoryValue(a), memoryValue(b); va > 0 && vb > 0 {
		return strconv.FormatFloat(vb-va, 'f', 0, 64) + " MB"
	}
	return "-"
}

func signed(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	return s
}

// writeAligned writes rows as columns, the first row a header underlined.
func writeAligned(b *strings.Builder, rows [][]string, right []bool) {
	width := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
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
}
