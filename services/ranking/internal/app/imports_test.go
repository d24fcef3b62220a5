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

// The application layer speaks plain Go: no generated contract, no store,
// no transport or infrastructure client.
func TestImportsNoInfrastructure(t *testing.T) {
	forbidden := []string{
		"github.com/predikat-id/predikat/pkg/gen/",
		"github.com/predikat-id/predikat/services/ranking/internal/store",
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
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbidden {
				if strings.HasPrefix(path, bad) {
					t.Errorf("%s imports %s", name, path)
				}
			}
		}
	}
}
