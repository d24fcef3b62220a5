package clitest

import (
	"regexp"
	"strings"
	"testing"

	"github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
)

// An objection as its users type it: the institution files it after the
// close, publication waits for it, the admin who recorded the result may
// not decide it, a reviewer accepts it and the record is corrected.
func TestObjectionCommands(t *testing.T) {
	dir := t.TempDir()
	st, err := stack.Start(t.Context(), stack.Options{Mode: stack.InProcess, DataDir: dir, Logger: natstest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := env{t: t, st: st}
	e.ok("", "demo", "load")
	e.ok("ombudsman-2025", "rounds", "create", "--scheme", "ombudsman", "--year", "2025")
	e.ok("all 2 lines stored", "assessments", "import", write(t, dir, "2025.csv", "institution_id,total\npemkab-hss,\"90,25\"\npemkab-tapin,\"88,00\"\n"),
		"--round", "ombudsman-2025")
	if code, out := e.run("objections", "file", "--round", "ombudsman-2025", "--institution", "pemkab-hss", "--reasons", "x"); code != 1 || !strings.Contains(out, "OPEN") {
		t.Fatalf("an objection to an open round: exit %d\n%s", code, out)
	}
	e.ok("is closed (2 records)", "rounds", "close", "ombudsman-2025")

	file := []string{"objections", "file", "--round", "ombudsman-2025", "--institution", "pemkab-hss",
		"--reasons", "the complaint register was not counted", "--evidence", "SK Bupati 12/2025", "--evidence", "Laporan 2025"}
	out := e.ok("objects to revision 1 of round ombudsman-2025 (90.25", file...)
	id := regexp.MustCompile(`obj-[a-z2-7]{16}`).FindString(out)
	if id == "" || !strings.Contains(out, "WITA") {
		t.Fatalf("no objection id or window in:\n%s", out)
	}
	e.ok("already filed", file...)
	e.ok(id, "objections", "list", "--round", "ombudsman-2025", "--state", "open")

	if code, out := e.run("rounds", "publish", "ombudsman-2025"); code != 1 || !strings.Contains(out, "1 open objection(s): "+id) {
		t.Fatalf("publish with an open objection: exit %d\n%s", code, out)
	}
	decide := []string{"objections", "decide", id, "--round", "ombudsman-2025", "--institution", "pemkab-hss", "--accept", "--total", "92,75", "--reasons", "register verified"}
	if code, out := e.run(decide...); code != 1 || !strings.Contains(out, "recorded revision 1") {
		t.Fatalf("decided by the admin who recorded it: exit %d\n%s", code, out)
	}
	tok := strings.TrimSpace(e.ok("", "token", "--role", "reviewer", "--subject", "siti"))
	out = e.ok("objection "+id+" is accepted", append(decide, "--token", tok)...)
	if !strings.Contains(out, "pemkab-hss in ombudsman-2025 corrected: revision 2, 92.75") {
		t.Fatalf("the acceptance's correction:\n%s", out)
	}
	e.ok("accepted", "objections", "list", "--round", "ombudsman-2025")
	// Decided, but the window of ten working days still runs.
	if code, out := e.run("rounds", "publish", "ombudsman-2025"); code != 1 || !strings.Contains(out, "runs until") {
		t.Fatalf("publish inside the window: exit %d\n%s", code, out)
	}
	e.ok("is published", "rounds", "publish", "ombudsman-2025", "--force-reason", "ministerial deadline")
}
