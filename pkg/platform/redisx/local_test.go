package redisx

import (
	"path/filepath"
	"testing"
)

// make run passes a relative data directory (".predikat"): the server must
// start from it all the same.
func TestStartLocalWithRelativeDir(t *testing.T) {
	t.Chdir(t.TempDir())
	p, err := StartLocal(t.Context(), filepath.Join(".predikat", "redis"), 0)
	if err != nil {
		t.Fatal(err)
	}
	p.Stop()
}
