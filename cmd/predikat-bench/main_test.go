package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/predikat-id/predikat/cmd/internal/bench"
)

func TestCompareMode(t *testing.T) {
	dir := t.TempDir()
	ok := true
	for name, ratio := range map[string]float64{"a.json": 0.31, "b.json": 0.55} {
		b, err := json.Marshal(bench.Report{Rows: []bench.Row{{Operation: "GetStanding", Size: 1000, Callers: 1, Baseline: "gRPC echo",
			Ratio: ratio, RatioKind: "throughput", Target: ">= 50%", Pass: &ok}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out, errs bytes.Buffer
	code := run(context.Background(), []string{"--compare", filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")}, &out, &errs)
	if code != 0 || !strings.Contains(out.String(), "+24 pts") {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, out.String(), errs.String())
	}
	if code := run(context.Background(), []string{"--compare", filepath.Join(dir, "a.json")}, &out, &errs); code != 2 {
		t.Errorf("one report: exit %d, want 2", code)
	}
	if code := run(context.Background(), []string{"--compare", filepath.Join(dir, "a.json"), filepath.Join(dir, "none.json")}, &out, &errs); code != 1 {
		t.Errorf("a missing report: exit %d, want 1", code)
	}
	if code := run(context.Background(), []string{"--processes", "--in-process"}, &out, &errs); code != 2 {
		t.Errorf("both modes: exit %d, want 2", code)
	}
}
