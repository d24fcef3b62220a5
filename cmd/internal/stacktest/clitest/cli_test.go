// Package clitest runs the predikat CLI against a running stack: the
// commands that read and edit institutions, regions and records, as an
// operator types them.
package clitest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/predikat-id/predikat/cmd/internal/cli"
	"github.com/predikat-id/predikat/cmd/internal/stack"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
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

// institutionsTable is every regency and city government of Indonesia, as
// an Indonesian-locale spreadsheet saves it (semicolons).
func institutionsTable(t *testing.T, e env) (string, []*registryv1.Region) {
	t.Helper()
	cc, err := e.st.Dial(e.st.Registry, "admin")
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	resp, err := registryv1.NewRegistryServiceClient(cc).ListRegions(t.Context(), &registryv1.ListRegionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("id;name;kind;region_code\n")
	var regions []*registryv1.Region
	for _, r := range resp.GetRegions() {
		switch r.GetLevel() {
		case registryv1.RegionLevel_REGION_LEVEL_REGENCY:
			fmt.Fprintf(&b, "pemkab-%s;Pemerintah Kabupaten %s;pemkab;%s\n", strings.ReplaceAll(r.GetCode(), ".", "-"), r.GetName(), r.GetCode())
		case registryv1.RegionLevel_REGION_LEVEL_CITY:
			fmt.Fprintf(&b, "pemkot-%s;Pemerintah %s;pemkot;%s\n", strings.ReplaceAll(r.GetCode(), ".", "-"), r.GetName(), r.GetCode())
		default:
			continue
		}
		regions = append(regions, r)
	}
	return b.String(), regions
}

// resultsTable is a results table of every regency and city government by
// name, not id, with its province, semicolons and decimal commas. The
// figures are synthetic (test data): never published, never awarded.
func resultsTable(regions []*registryv1.Region, edit func(i int, line string) string) string {
	var b strings.Builder
	b.WriteString("institution;kind;region_code;total;source_note\n")
	for i, r := range regions {
		name, kind := "Pemkab "+r.GetName(), "pemkab"
		if r.GetLevel() == registryv1.RegionLevel_REGION_LEVEL_CITY {
			name, kind = "Pemkot "+strings.TrimPrefix(r.GetName(), "Kota "), "pemkot"
		}
		u := 6000 + (i*373)%4000
		line := fmt.Sprintf("%s;%s;%s;%d,%02d;synthetic test data", name, kind, r.GetProvinceCode(), u/100, u%100)
		if edit != nil {
			line = edit(i, line)
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

func (e env) count(round string) (n int, revisions map[uint64]int) {
	e.t.Helper()
	cc, err := e.st.Dial(e.st.Assessment, "admin")
	if err != nil {
		e.t.Fatal(err)
	}
	defer cc.Close()
	c := assessmentv1.NewAssessmentServiceClient(cc)
	revisions = map[uint64]int{}
	req := &assessmentv1.ListAssessmentsRequest{RoundId: round, PageSize: 1000}
	for {
		resp, err := c.ListAssessments(e.t.Context(), req)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, a := range resp.GetAssessments() {
			n++
			revisions[a.GetRevision()]++
		}
		if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
			return n, revisions
		}
	}
}

// A published table of every regency and city (514 lines, names instead of
// ids, semicolons, decimal commas) imports in one command; the same table
// with bad lines writes nothing and lists them; an import killed part-way
// (kill -9 of the CLI) is finished by running it again, every line once.
func TestImportPublishedTable(t *testing.T) {
	dir := t.TempDir()
	st, err := stack.Start(t.Context(), stack.Options{Mode: stack.InProcess, DataDir: dir, NATSSync: true, Logger: natstest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := env{t: t, st: st}
	insts, regions := institutionsTable(t, e)
	if len(regions) != 514 {
		t.Fatalf("%d regencies and cities", len(regions))
	}
	e.ok("514 to register, 0 already registered", "institutions", "import", write(t, dir, "pemda.csv", insts), "--dry-run")
	e.ok("514 created", "institutions", "import", write(t, dir, "pemda.csv", insts))
	// A file with faults registers nothing, not even its good lines, and
	// lists every fault.
	code, out := e.run("institutions", "import", write(t, dir, "faulty.csv", "id;name;kind;region_code;parent_id\n"+
		"pemkab-99-01;Pemerintah Kabupaten Nowhere;pemkab;99.01;\n"+
		"pemkab-11-01-b;Pemkab Aceh Selatan;pemkab;11.01;\n"+
		"polres-x;Polres X;polres;11.01;nobody\n"+
		"pemkot-baru;Pemerintah Kota Baru;pemkot;11.71;\n"))
	for _, want := range []string{"3 problems, nothing written", `faulty.csv:2: region_code: "99.01" is not a region`,
		`faulty.csv:3: pemkab "Pemkab Aceh Selatan" in region 11.01 is already registered as "pemkab-11-01"`,
		`faulty.csv:4: parent_id: "nobody" is neither in the file nor registered`} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("institutions import of a faulty file: exit %d, want %q:\n%s", code, want, out)
		}
	}
	if code, _ := e.run("institutions", "get", "pemkot-baru"); code != 1 {
		t.Error("a good line of a faulty file was registered")
	}
	e.ok("ombudsman-2024", "rounds", "create", "--scheme", "ombudsman", "--year", "2024")
	e.ok("ombudsman-2023", "rounds", "create", "--scheme", "ombudsman", "--year", "2023")

	// Bad lines: every one listed, nothing written.
	bad := write(t, dir, "bad.csv", resultsTable(regions, func(i int, line string) string {
		switch i {
		case 100:
			return strings.Replace(line, ";synthetic", "1;synthetic", 1) // 3 decimals
		case 300:
			return "Pemkab Tidak Ada;pemkab;63;80,00;x"
		}
		return line
	}))
	code, out = e.run("assessments", "import", bad, "--round", "ombudsman-2023")
	if code != 1 || !strings.Contains(out, "2 problems, nothing written") || !strings.Contains(out, "bad.csv:102:") || !strings.Contains(out, "bad.csv:302: institution: no registered institution is named \"Pemkab Tidak Ada\"") {
		t.Errorf("a table with two bad lines: exit %d\n%s", code, out)
	}
	if n, _ := e.count("ombudsman-2023"); n != 0 {
		t.Errorf("%d records written from a table with bad lines", n)
	}

	good := write(t, dir, "ombudsman-2024.csv", resultsTable(regions, nil))
	e.ok("514 to record, 0 already recorded (nothing written)", "assessments", "import", good, "--round", "ombudsman-2024", "--dry-run")

	// The CLI killed part-way, as a process.
	bin := filepath.Join(dir, "predikat")
	if b, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/predikat-id/predikat/cmd/predikat").CombinedOutput(); err != nil {
		t.Fatalf("build predikat: %v\n%s", err, b)
	}
	// Small batches, so there is a moment between two to stop it in.
	cmd := exec.CommandContext(t.Context(), bin, "assessments", "import", good, "--round", "ombudsman-2024", "--batch", "10")
	cmd.Env = append(os.Environ(), "PREDIKAT_PKI="+st.PKI().Dir, "PREDIKAT_REGISTRY_ADDR="+st.Registry, "PREDIKAT_ASSESSMENT_ADDR="+st.Assessment)
	var cliOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &cliOut, &cliOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killedAt := 0
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if n, _ := e.count("ombudsman-2024"); n >= 20 {
			_ = cmd.Process.Kill() // SIGKILL: no clean-up of any kind
			killedAt = n
			break
		}
	}
	_ = cmd.Wait()
	n, _ := e.count("ombudsman-2024")
	if killedAt == 0 || n >= 514 || n%10 != 0 {
		t.Fatalf("the import was not stopped part-way (killed at %d, %d stored):\n%s", killedAt, n, cliOut.String())
	}
	out = e.ok("all 514 lines stored", "assessments", "import", good, "--round", "ombudsman-2024")
	n, revs := e.count("ombudsman-2024")
	if n != 514 || revs[1] != 514 {
		t.Errorf("after the second run: %d records, revisions %v; want 514 at revision 1", n, revs)
	}
	t.Logf("killed with %d of 514 stored; the second run: %s", killedAt, strings.TrimSpace(out))
	e.ok("0 recorded, 514 already recorded", "assessments", "import", good, "--round", "ombudsman-2024")
}

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
