package app

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the application layer free of wire and storage: its
// commands and results are plain Go values, so it must not import generated
// protobuf code, the store, NATS, Redis, gRPC or protobuf.
func TestImports(t *testing.T) {
	forbidden := []string{
		"github.com/predikat-id/predikat/pkg/gen/",
		"github.com/predikat-id/predikat/services/assessment/internal/store",
		"github.com/nats-io/",
		"github.com/redis/",
		"google.golang.org/grpc",
		"google.golang.org/protobuf",
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbidden {
				if path == strings.TrimSuffix(bad, "/") || strings.HasPrefix(path, bad) {
					t.Errorf("%s imports %s: the application layer speaks plain Go types", name, path)
				}
			}
		}
	}
}
