// Package clitest runs the predikat CLI against a running stack: the
// commands that read and edit institutions, regions and records, as an
// operator types them.
package clitest

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/predikat-id/predikat/cmd/internal/cli"
	"github.com/predikat-id/predikat/cmd/internal/stack"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
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

// A scheme version for 2026 added through the CLI takes a round and a
// record at once, and is still there, round and record with it, after a
// restart of the whole stack.
func TestSchemeVersionAddedAtRunTime(t *testing.T) {
	dir := t.TempDir()
	st, err := stack.Start(t.Context(), stack.Options{Mode: stack.InProcess, DataDir: dir, Logger: natstest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	e := env{t: t, st: st}
	e.ok("", "demo", "load")
	if code, out := e.run("rounds", "create", "--scheme", "pekppp", "--year", "2026"); code != 1 || !strings.Contains(out, "no version of scheme pekppp is in force in 2026") {
		t.Fatalf("a 2026 round before the version exists: exit %d\n%s", code, out)
	}
	// The 2023 rules as the start of a 2026 version, as an operator would.
	var s assessmentv1.Scheme
	if err := protojson.Unmarshal([]byte(e.ok("", "schemes", "show", "pekppp", "--version", "2023")), &s); err != nil {
		t.Fatal(err)
	}
	s.Version, s.FirstYear, s.LastYear = "2026", 2026, 2026
	s.SourceNote = "PEKPPP 2026: the 2023 rules carried over until the 2026 guidance is published (test)."
	file := writeJSON(t, dir, "pekppp-2026.json", &s)
	e.ok("registered pekppp 2026 (2026)", "schemes", "add", file)
	e.ok("already registered (no change)", "schemes", "add", file)

	// A version never changes; a broken one names the field and the rule.
	changed := proto.Clone(&s).(*assessmentv1.Scheme)
	changed.Caveat = "edited"
	if code, out := e.run("schemes", "add", writeJSON(t, dir, "changed.json", changed)); code != 1 || !strings.Contains(out, "AlreadyExists") {
		t.Errorf("a registered version changed: exit %d\n%s", code, out)
	}
	broken := proto.Clone(&s).(*assessmentv1.Scheme)
	broken.Version, broken.FirstYear, broken.LastYear = "2027", 2027, 2027
	broken.Bands[0].Lower.Value = "3.70"
	if code, out := e.run("schemes", "add", writeJSON(t, dir, "broken.json", broken)); code != 1 || !strings.Contains(out, "scheme.bands") || !strings.Contains(out, "InvalidArgument") {
		t.Errorf("a version whose bands leave a gap: exit %d\n%s", code, out)
	}
	overlap := proto.Clone(&s).(*assessmentv1.Scheme)
	overlap.Version, overlap.FirstYear = "2025b", 2025
	if code, out := e.run("schemes", "add", writeJSON(t, dir, "overlap.json", overlap)); code != 1 || !strings.Contains(out, "overlap") || !strings.Contains(out, "FailedPrecondition") {
		t.Errorf("a version overlapping 2023's years: exit %d\n%s", code, out)
	}

	// At once, without a restart: a round and a record.
	e.ok("pekppp-2026", "rounds", "create", "--scheme", "pekppp", "--year", "2026")
	csv := dir + "/pekppp-2026.csv"
	if err := os.WriteFile(csv, []byte("institution_id,total\npemkab-hss,\"4,52\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.ok("", "assessments", "import", csv, "--round", "pekppp-2026")
	e.ok("4.52", "assessments", "list", "--round", "pekppp-2026")

	// After a restart of everything: the version, the round and the record.
	st.Close()
	st, err = stack.Start(t.Context(), stack.Options{Mode: stack.InProcess, DataDir: dir, Logger: natstest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e = env{t: t, st: st}
	e.ok("registered by spiffe://predikat/user/admin", "schemes", "list", "--scheme", "pekppp", "--year", "2026")
	e.ok("4.52", "assessments", "list", "--round", "pekppp-2026")
	e.ok("pekppp-2026", "rounds", "list", "--scheme", "pekppp")
}

func writeJSON(t *testing.T, dir, name string, m proto.Message) string {
	t.Helper()
	b, err := protojson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	path := dir + "/" + name
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
