package events

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// subjectLiteral finds a string literal that starts a Predikat NATS subject.
// Protobuf package names (predikat.registry.v1, predikat.events.v1) are not
// subjects and do not match.
var subjectLiteral = regexp.MustCompile(`["` + "`" + `]predikat\.(assessment|round|award|ceremony|registry|institution|audit)\.([a-z*>][^"` + "`" + `]*)`)

// TestNoSubjectLiteralsElsewhere keeps this package the one place that
// spells a subject: any other non-test Go file of the repository that does
// fails here, with the file and line.
func TestNoSubjectLiteralsElsewhere(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.work")); err != nil {
		t.Fatalf("repository root not found at %s: %v", root, err)
	}
	self, _ := filepath.Abs(".")
	scanned := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "gen" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || filepath.Dir(path) == self {
			return nil
		}
		scanned++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range subjectLiteral.FindAllStringSubmatch(line, -1) {
				if strings.HasPrefix(m[2], "v1") {
					continue
				}
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s:%d: NATS subject literal %s: use the templates and filters of pkg/events", rel, i+1, m[0])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 50 {
		t.Fatalf("scanned only %d Go files under %s: the walk is broken", scanned, root)
	}
}
