// Package layertest keeps an application layer plain: its tests call
// AppImportsNothingBelow, which fails when a non-test file of the package
// imports the wire contract, a store, or an infrastructure client.
package layertest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Below is what no application layer imports: the generated contract, the
// transport, and the NATS and Redis clients. Commands and results are plain
// Go types; the handlers and the stores translate.
var Below = []string{
	"github.com/predikat-id/predikat/pkg/gen/",
	"github.com/nats-io/",
	"github.com/redis/",
	"google.golang.org/grpc",
	"google.golang.org/protobuf",
}

// AppImportsNothingBelow fails t for every import of the package in the
// current directory (its non-test files) that starts with one of Below or
// one of also (the service's own store and adapter packages).
func AppImportsNothingBelow(t *testing.T, also ...string) {
	t.Helper()
	forbidden := append(append([]string(nil), Below...), also...)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		checked++
		for _, path := range imports(t, fset, name) {
			for _, bad := range forbidden {
				if strings.HasPrefix(path, bad) {
					t.Errorf("%s imports %s: the application layer takes and returns plain Go types", name, path)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no Go file in the package: the check ran on nothing")
	}
}

func imports(t *testing.T, fset *token.FileSet, name string) []string {
	t.Helper()
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(f.Imports))
	for _, imp := range f.Imports {
		path, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			t.Fatalf("%s: import %s: %v", name, imp.Path.Value, err)
		}
		out = append(out, path)
	}
	return out
}
