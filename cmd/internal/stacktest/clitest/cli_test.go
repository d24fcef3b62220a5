// Package clitest runs the predikat CLI against a running stack: the
// commands that read and edit institutions, regions and records, as an
// operator types them.
package clitest

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/predikat-id/predikat/cmd/internal/cli"
	"github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/pkg/platform/grpcserver"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
)

type env struct {
	t  *testing.T
	st *stack.Stack
}

// run runs one command line and returns its exit code and output.
func (e env) run(args ...string) (int, string) {
	e.t.Helper()
	var out bytes.Buffer
	app := &cli.App{Stdout: &out, Stderr: &out, Dial: grpcserver.Dial, Getenv: func(k string) string {
		switch k {
		case "PREDIKAT_PKI":
			return e.st.PKI().Dir
		case "PREDIKAT_REGISTRY_ADDR":
			return e.st.Registry
		case "PREDIKAT_ASSESSMENT_ADDR":
			return e.st.Assessment
		case "PREDIKAT_RANKING_ADDR":
			return e.st.Ranking
		}
		return ""
	}}
	ctx, cancel := context.WithTimeout(e.t.Context(), 30*time.Second)
	defer cancel()
	code := app.Run(ctx, args)
	return code, out.String()
}

func (e env) ok(want string, args ...string) string {
	e.t.Helper()
	code, out := e.run(args...)
	if code != 0 || !strings.Contains(out, want) {
		e.t.Fatalf("predikat %s: exit %d, want output with %q:\n%s", strings.Join(args, " "), code, want, out)
	}
	return out
}

func TestOperatorCommands(t *testing.T) {
	st, err := stack.Start(t.Context(), stack.Options{Mode: stack.InProcess, DataDir: t.TempDir(), Logger: natstest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := env{t: t, st: st}

	// Regions: every one built in, one added.
	out := e.ok("Kota Banjarbaru", "regions", "list", "--province", "63")
	if n := strings.Count(out, "\n"); n != 15 { // header and 14 regions
		t.Errorf("regions of 63: %d lines:\n%s", n, out)
	}
	e.ok("Bandung", "regions", "list", "--level", "regency")
	e.ok("added 64.04 Contoh Baru (regency of 64)", "regions", "add", "64.04", "Contoh Baru")
	if code, out := e.run("regions", "add", "64.04", "Contoh Baru"); code != 1 || !strings.Contains(out, "already exists") {
		t.Errorf("a region added twice: exit %d\n%s", code, out)
	}

	// Institutions: import, get, update, retire.
	e.ok("", "demo", "load")
	e.ok("Pemerintah Kabupaten Hulu Sungai Selatan", "institutions", "get", "pemkab-hss")
	e.ok("updated pemkab-hss (head)", "institutions", "update", "pemkab-hss", "--head-name", "Syafrudin Noor", "--head-title", "Bupati", "--head-term-start", "2025-02-20")
	e.ok("Bupati Syafrudin Noor (from 2025-02-20)", "institutions", "get", "pemkab-hss")
	if code, out := e.run("institutions", "update", "pemkab-hss"); code != 2 || !strings.Contains(out, "nothing to change") {
		t.Errorf("an update without a change: exit %d\n%s", code, out)
	}
	if code, out := e.run("institutions", "retire", "pemkab-hss"); code != 2 || !strings.Contains(out, "missing --reason") {
		t.Errorf("a retirement without a reason: exit %d\n%s", code, out)
	}

	// A correction of a published record, sent twice: one revision.
	e.ok("corrected polres-hss in ombudsman-2024: revision 2, 96.70 A", "assessments", "correct", "--round", "ombudsman-2024",
		"--institution", "polres-hss", "--total", "96,70", "--reason", "typo in the published table")
	e.ok("already corrected", "assessments", "correct", "--round", "ombudsman-2024",
		"--institution", "polres-hss", "--total", "96,70", "--reason", "typo in the published table", "--revision", "1")
	if code, out := e.run("assessments", "correct", "--round", "ombudsman-2024", "--institution", "polres-hss", "--total", "96,70", "--band", "A", "--reason", "x"); code != 2 {
		t.Errorf("a total and a band: exit %d\n%s", code, out)
	}
	if code, out := e.run("board", "--bogus"); code != 2 {
		t.Errorf("an unknown flag: exit %d\n%s", code, out)
	}
}
