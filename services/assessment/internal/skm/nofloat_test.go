package skm_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Scores are exact: no binary floating point in this package, tests
// included. The words are assembled so that this file does not match itself.
func TestNoFloatingPoint(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sources found: %v", err)
	}
	banned := []string{"float" + "64", "float" + "32", "Float" + "64", "Float" + "32"}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, w := range banned {
				if strings.Contains(line, w) {
					t.Errorf("%s:%d uses %s: %s", f, i+1, w, strings.TrimSpace(line))
				}
			}
		}
	}
}
