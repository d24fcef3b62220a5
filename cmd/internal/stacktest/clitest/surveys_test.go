package clitest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
)

const skmHeader = "unit,response_id,collection_date,persyaratan,prosedur,waktu,biaya,produk,kompetensi,perilaku,sarana,pengaduan"

// A citizen satisfaction survey as an operator imports it: the committed
// sample file gives the index the README computes by hand, a JSON-lines
// file with a broken line and an answer outside 1-4 is refused line by
// line while the rest counts, every file sent again counts nothing twice,
// a file of two units interleaved goes in several messages and its
// refusals still name their lines, and a unit's own survey (exact
// fractions, one element more) takes its own columns.
func TestSurveyCommands(t *testing.T) {
	dir := t.TempDir()
	st, err := stack.Start(t.Context(), stack.Options{Mode: stack.InProcess, DataDir: dir, Logger: natstest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := env{t: t, st: st}
	e.ok("1 created", "institutions", "import", write(t, dir, "pemda.csv", "id,name,kind,region_code\npemkab-hss,Pemerintah Kabupaten Hulu Sungai Selatan,pemkab,63.06\n"))
	e.ok("2 created", "institutions", "import", "../../../../docs/examples/skm-puskesmas-units.csv")
	e.ok("2 created", "institutions", "import", write(t, dir, "more.csv", "id,name,kind,region_code,parent_id\n"+
		"pkm-contoh-tiga,Puskesmas Contoh Tiga (fiktif),serviceunit,63.06,pemkab-hss\npkm-contoh-empat,Puskesmas Contoh Empat (fiktif),serviceunit,63.06,pemkab-hss\n"))
	e.ok("created round skm-2026", "rounds", "create", "--scheme", "skm", "--year", "2026")

	// The sample of the README: 84.06 and 77.01, both B; the first unit's
	// 24 respondents are below the 291 its 1200 service users call for.
	sample := "../../../../docs/examples/skm-puskesmas-sample.csv"
	e.ok("accepted 40, duplicates 0 (counted once), refused 0", "surveys", "import", sample, "--round", "skm-2026", "--synthetic")
	out := e.ok("index        84.06", "surveys", "show", "--round", "skm-2026", "--unit", "pkm-contoh-satu")
	for _, want := range []string{"pkm-contoh-satu [SINTETIS] in skm-2026", "persyaratan  0.111   0  0   9  15  3.63", "respondents  24", "band         B (Baik)", "below guidance: 24 respondents, 291 required for 1200"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	e.ok("index        77.01", "surveys", "show", "--round", "skm-2026", "--unit", "pkm-contoh-dua")
	e.ok("accepted 0, duplicates 40 (counted once), refused 0", "surveys", "import", sample, "--round", "skm-2026", "--synthetic")

	// JSON lines: a line that is not JSON is the CLI's to refuse, an answer
	// of 5 the service's; both name their line, the third line counts.
	answers := `"persyaratan":4,"prosedur":%d,"waktu":3,"biaya":4,"produk":3,"kompetensi":4,"perilaku":4,"sarana":3,"pengaduan":3`
	jsonl := write(t, dir, "kiosk.jsonl",
		`{"unit":"pkm-contoh-dua","response_id":"K-1","collection_date":"2026-11-02","answers":{`+fmt.Sprintf(answers, 5)+`}}`+"\n"+
			`{"unit":"pkm-contoh-dua","response_id":"K-2",`+"\n"+
			`{"unit":"pkm-contoh-dua","response_id":"K-3","collection_date":"2026-11-02","answers":{`+fmt.Sprintf(answers, 4)+`},"profile":{"sex":"female","age_band":"30-39"}}`+"\n")
	code, out := e.run("surveys", "import", jsonl, "--round", "skm-2026")
	for _, want := range []string{"accepted 1, duplicates 0 (counted once), refused 2\n",
		"line 1 (pkm-contoh-dua, K-1): answers[1] (prosedur): must be greater than or equal to 1 and less than or equal to 4\n",
		"line 2 (-, -): not a JSON object of a response: unexpected EOF\n", "kiosk.jsonl: 2 of 3 responses refused"} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("kiosk.jsonl: exit %d, want %q:\n%s", code, want, out)
		}
	}
	if i, j := strings.Index(out, "line 1 "), strings.Index(out, "line 2 "); i > j {
		t.Errorf("refusals not in line order:\n%s", out)
	}
	code, out = e.run("surveys", "import", jsonl, "--round", "skm-2026")
	if code != 1 || !strings.Contains(out, "accepted 0, duplicates 1 (counted once), refused 2") {
		t.Errorf("kiosk.jsonl again: exit %d\n%s", code, out)
	}
	e.ok("respondents  17", "surveys", "show", "--round", "skm-2026", "--unit", "pkm-contoh-dua")

	// Two units interleaved, 2200 responses each: more than one message a
	// unit. The service's refusals, from the first message and the last,
	// come back to their lines; the CLI's own (an unknown element, a
	// missing unit) too.
	var b strings.Builder
	b.WriteString(skmHeader + ",kebersihan\n")
	for i := range 4400 {
		unit, answer := []string{"pkm-contoh-satu", "pkm-contoh-dua"}[i%2], 4
		if i == 10 || i == 4391 {
			answer = 0
		}
		fmt.Fprintf(&b, "%s,B-%d,2026-11-0%d,4,4,%d,4,4,3,3,3,3,\n", unit, i, 1+i%9, answer)
	}
	b.WriteString("pkm-contoh-satu,B-x,2026-11-03,4,4,4,4,4,3,3,3,3,4\n,B-y,2026-11-03,4,4,4,4,4,3,3,3,3,\n")
	code, out = e.run("surveys", "import", write(t, dir, "bulk.csv", b.String()), "--round", "skm-2026")
	for _, want := range []string{"accepted 4398, duplicates 0 (counted once), refused 4\n",
		"line 12 (pkm-contoh-satu, B-10): answers[2] (waktu): must be greater than or equal to 1",
		"line 4393 (pkm-contoh-dua, B-4391): answers[2] (waktu)",
		`line 4402 (pkm-contoh-satu, B-x): unknown element code "kebersihan"`,
		"line 4403 (-, B-y): no unit"} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("bulk.csv: exit %d, want %q:\n%s", code, want, out)
		}
	}
	out = e.ok("pkm-contoh-satu", "surveys", "list", "--round", "skm-2026", "--province", "63")
	if !strings.Contains(out, "2223") || !strings.Contains(out, "ok (2223 of 291)") || strings.Count(out, "\n") != 3 {
		t.Errorf("list:\n%s", out)
	}

	// The README's own survey: the nine at exactly 1/9, the kiosk's JSON
	// lines without a unit column. 116 over 4 respondents: 80.56 (80.48
	// under 0.111).
	e.ok("defined: the survey of pkm-contoh-tiga in skm-2026, 9 elements: persyaratan 1/9", "surveys", "define", "--round", "skm-2026",
		"--unit", "pkm-contoh-tiga", "--file", "../../../../docs/examples/skm-survey-ninths.json")
	kiosk := "../../../../docs/examples/skm-kiosk-sample.jsonl"
	e.ok("accepted 4, duplicates 0 (counted once), refused 0", "surveys", "import", kiosk, "--round", "skm-2026", "--unit", "pkm-contoh-tiga", "--synthetic")
	e.ok("accepted 0, duplicates 4 (counted once), refused 0", "surveys", "import", kiosk, "--round", "skm-2026", "--unit", "pkm-contoh-tiga", "--synthetic")
	out = e.ok("index        80.56", "surveys", "show", "--round", "skm-2026", "--unit", "pkm-contoh-tiga")
	if !strings.Contains(out, "the unit's own survey") || !strings.Contains(out, "waktu        1/9     1  0  1  2  3.00") {
		t.Errorf("own survey:\n%s", out)
	}

	// A unit's own survey with one element more, at 1/10: 9 × 3.5 + 2.5 =
	// 34 over ten elements, 85.00. Semicolons, and --unit for a file
	// without a unit column.
	define := []string{"surveys", "define", "--round", "skm-2026", "--unit", "pkm-contoh-empat"}
	for _, c := range []string{"persyaratan", "prosedur", "waktu", "biaya", "produk", "kompetensi", "perilaku", "sarana", "pengaduan"} {
		define = append(define, "--element", c+"=1/10")
	}
	define = append(define, "--element", "kebersihan=1/10:Kebersihan ruang tunggu")
	e.ok("defined: the survey of pkm-contoh-empat in skm-2026, 10 elements", define...)
	e.ok("already defined", define...)
	e.ok("accepted 2, duplicates 0 (counted once), refused 0", "surveys", "import", write(t, dir, "empat.csv",
		"kebersihan;response_id;collection_date;persyaratan;prosedur;waktu;biaya;produk;kompetensi;perilaku;sarana;pengaduan\n"+
			"4;T-1;2026-11-03;4;4;4;4;4;4;4;4;4\n1;T-2;2026-11-03;3;3;3;3;3;3;3;3;3\n"), "--round", "skm-2026", "--unit", "pkm-contoh-empat")
	out = e.ok("index        85.00", "surveys", "show", "--round", "skm-2026", "--unit", "pkm-contoh-empat")
	if !strings.Contains(out, "kebersihan   1/10") {
		t.Errorf("own survey with one more element:\n%s", out)
	}
	if code, out := e.run("surveys", "define", "--round", "skm-2026", "--unit", "pkm-contoh-satu", "--element", "waktu=1"); code != 1 {
		t.Errorf("a survey defined after responses: exit %d\n%s", code, out)
	}
	if code, out := e.run("surveys", "import", sample, "--round", "skm-2026", "--unit", "pkm-contoh-satu"); code != 1 || !strings.Contains(out, `unit "pkm-contoh-dua" is not the --unit "pkm-contoh-satu"`) {
		t.Errorf("--unit against a file of two units: exit %d\n%s", code, out)
	}
	if code, out := e.run("surveys", "import", sample, "--round", "skm-2027"); code != 1 || !strings.Contains(out, "nothing sent") {
		t.Errorf("a round that does not exist: exit %d\n%s", code, out)
	}

	e.ok("is closed (4 records)", "rounds", "close", "skm-2026")
	e.ok("revision 1 carries this result (80.56 B)", "surveys", "show", "--round", "skm-2026", "--unit", "pkm-contoh-tiga")
	code, out = e.run("surveys", "import", kiosk, "--round", "skm-2026", "--unit", "pkm-contoh-tiga", "--synthetic")
	if code != 1 || !strings.Contains(out, "is CLOSED") || strings.Contains(out, "run the same command again") {
		t.Errorf("an import into a closed round: exit %d\n%s", code, out)
	}
}
