package app

import (
	"context"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
)

// GetInstitution asks for one institution by id.
type GetInstitution struct {
	ID string
}

// GetInstitutionHandler runs GetInstitution.
type GetInstitutionHandler struct {
	institutions InstitutionStore
}

// Handle returns the latest committed institution.
func (h GetInstitutionHandler) Handle(ctx context.Context, q GetInstitution) (*institution.Institution, error) {
	return h.institutions.Institution(ctx, q.ID)
}

// BatchGetInstitutions asks for several institutions at once: all or none.
type BatchGetInstitutions struct {
	IDs []string
}

// BatchGetInstitutionsHandler runs BatchGetInstitutions.
type BatchGetInstitutionsHandler struct {
	institutions InstitutionStore
}

// Handle returns the institutions in the order asked, or one NotFound that
// names every missing id, so a caller fixes its list in one round.
func (h BatchGetInstitutionsHandler) Handle(ctx context.Context, q BatchGetInstitutions) ([]*institution.Institution, error) {
	out := make([]*institution.Institution, len(q.IDs))
	var missing []string
	for i, id := range q.IDs {
		in, err := h.institutions.Institution(ctx, id)
		switch {
		case fault.Is(err, fault.NotFound):
			missing = append(missing, id)
		case err != nil:
			return nil, err
		}
		out[i] = in
	}
	if len(missing) > 0 {
		return nil, fault.NotFoundf("institutions not found: %q", missing)
	}
	return out, nil
}
