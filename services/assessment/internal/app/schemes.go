package app

import (
	"context"
	"fmt"

	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
)

// RegisterScheme adds a scheme version at run time: validated by the rules
// of the built-in files (the caller parsed it with scheme.NewVersion),
// checked against the versions that exist (one version per scheme and
// year; an existing label with other content is refused, for a version
// never changes), stored durably, then usable at once for rounds. Other
// replicas learn it from the store.
type RegisterScheme struct {
	Version *scheme.Version
}

// RegisteredScheme is the outcome: Created is false when the same version
// was registered before (a retry).
type RegisteredScheme struct {
	Version *scheme.Version
	Created bool
}

// RegisterSchemeHandler registers scheme versions.
type RegisterSchemeHandler struct {
	catalog *scheme.Catalog
	store   SchemeStore
}

// Handle registers cmd.Version.
func (h RegisterSchemeHandler) Handle(ctx context.Context, cmd RegisterScheme) (RegisteredScheme, error) {
	// Refused before anything is stored: a version the catalog cannot take
	// must not reach the log, where every replica would meet it at start.
	if err := h.catalog.CheckAdd(cmd.Version); err != nil {
		return RegisteredScheme{}, err
	}
	// A built-in version sent unchanged is already there: nothing to
	// register, nothing for the log.
	if have, err := h.catalog.Get(cmd.Version.ID(), cmd.Version.Label()); err == nil && have.Builtin() {
		return RegisteredScheme{Version: have, Created: false}, nil
	}
	created, err := h.store.RegisterScheme(ctx, cmd.Version)
	if err != nil {
		return RegisteredScheme{}, fmt.Errorf("register scheme %s: %w", cmd.Version, err)
	}
	if _, err := h.catalog.Add(cmd.Version); err != nil {
		return RegisteredScheme{}, fmt.Errorf("register scheme %s: %w", cmd.Version, err)
	}
	// A retry answers with the version as first registered (by whom, when).
	v, err := h.catalog.Get(cmd.Version.ID(), cmd.Version.Label())
	if err != nil {
		return RegisteredScheme{}, err
	}
	return RegisteredScheme{Version: v, Created: created}, nil
}
