package app

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The application layer speaks plain Go: the API's generated types, the
// transports and the storage technology stay in the adapters around it.
var forbiddenImports = []string{
	"github.com/predikat-id/predikat/pkg/gen/",
	"github.com/predikat-id/predikat/services/registry/internal/store",
	"github.com/predikat-id/predikat/services/registry/internal/server",
	"github.com/predikat-id/predikat/services/registry/internal/pbconv",
	"github.com/nats-io/",
	"github.com/redis/",
	"google.golang.org/grpc",
	"google.golang.org/protobuf",
}

func TestAppImportsNoTransportOrStorage(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range parsed.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbiddenImports {
				if path == strings.TrimSuffix(bad, "/") || strings.HasPrefix(path, bad) ||
					(!strings.HasSuffix(bad, "/") && strings.HasPrefix(path, bad+"/")) {
					t.Errorf("%s imports %s: the application layer must not depend on it", f, path)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no source files checked")
	}
}
