package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/predikat-id/predikat/pkg/platform/devpki"
)

// A collector whose role grants surveys.submit alone (not surveys.read)
// imports the responses of its unit: the CLI cannot read the unit's
// survey first, so it sends the answers in the order of the scheme
// version's survey and lets the submission decide. The lines of a unit it
// may not submit to are refused with the submission's own words, naming
// surveys.submit, never surveys.read.
func TestSurveyImportWithSubmitOnly(t *testing.T) {
	e := startStack(t, func(pki *devpki.Files) {
		b, err := os.ReadFile(pki.Policy())
		if err != nil {
			t.Fatal(err)
		}
		policy := strings.Replace(string(b), "roles:\n", "roles:\n  kiosk: [surveys.submit]\n", 1) +
			"  - principals: [\"user:kiosk-satu\"]\n    roles: [kiosk]\n    institutions: [pkm-contoh-satu]\n"
		if err := os.WriteFile(pki.Policy(), []byte(policy), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	e.ok("1 created", "institutions", "import", e.write("pemda.csv", "id,name,kind,region_code\npemkab-hss,Pemerintah Kabupaten Hulu Sungai Selatan,pemkab,63.06\n"))
	e.ok("2 created", "institutions", "import", "../../../docs/examples/skm-puskesmas-units.csv")
	e.ok("created round skm-2026", "rounds", "create", "--scheme", "skm", "--year", "2026")
	token := strings.TrimSpace(e.ok("", "token", "--role", "public", "--subject", "kiosk-satu"))

	sample := "../../../docs/examples/skm-puskesmas-sample.csv"
	code, out := e.run("surveys", "import", sample, "--round", "skm-2026", "--synthetic", "--token", token)
	for _, want := range []string{"accepted 24, duplicates 0 (counted once), refused 16\n",
		"the survey of 2 unit(s) is not readable with these credentials (surveys.read)",
		"line 29 (pkm-contoh-dua, D2-001): ", `permission "surveys.submit"`} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("exit %d, want %q:\n%s", code, want, out)
		}
	}
	if strings.Contains(out, `"surveys.read" `) {
		t.Errorf("a refusal names surveys.read:\n%s", out)
	}
	// What it sent is the unit's: the README's index of pkm-contoh-satu.
	e.ok("index        84.06", "surveys", "show", "--round", "skm-2026", "--unit", "pkm-contoh-satu")
	if code, out := e.run("surveys", "import", sample, "--round", "skm-2026", "--synthetic", "--token", token); code != 1 ||
		!strings.Contains(out, "accepted 0, duplicates 24 (counted once), refused 16\n") {
		t.Errorf("the same file again: exit %d:\n%s", code, out)
	}
}
