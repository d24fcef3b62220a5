package app

import (
	"testing"

	"github.com/predikat-id/predikat/pkg/platform/testenv/layertest"
)

// The application layer speaks plain Go: no generated contract, no store,
// no transport or infrastructure client, no adapter of its own service. Nor
// the call's authorization: the server hands who the call is for in as an
// Audience.
func TestImportsNothingBelow(t *testing.T) {
	layertest.AppImportsNothingBelow(t, "github.com/predikat-id/predikat/services/ranking/internal/store", "github.com/predikat-id/predikat/services/ranking/internal/server", "github.com/predikat-id/predikat/services/ranking/internal/names",
		"github.com/predikat-id/predikat/pkg/platform/auth")
}
