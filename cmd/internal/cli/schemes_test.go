package cli

import (
	"strings"
	"testing"
)

// Adding a built-in scheme version unchanged registers nothing: the CLI
// says it is built in and nothing changed, not "registered".
func TestSchemesAddOfABuiltInVersion(t *testing.T) {
	e := startStack(t)
	file := e.write("pekppp.json", e.ok("\"pekppp\"", "schemes", "show", "pekppp", "--version", "2023"))
	out := e.ok("pekppp 2023", "schemes", "add", file)
	if !strings.HasPrefix(out, "already built in: pekppp 2023 (2023-2025); nothing registered, nothing changed") {
		t.Errorf("schemes add of the built-in file:\n%s", out)
	}
	e.ok("built in", "schemes", "list")
}
