package app

import (
	"context"

	"github.com/predikat-id/predikat/services/registry/internal/institution"
)

// ListInstitutions asks for one page of the institutions passing a filter,
// in listing order (institution.OrderKey).
type ListInstitutions struct {
	Kinds      []institution.Kind
	RegionCode string // a province also selects its regencies and cities
	Status     institution.Status
	// Query's words must all appear in the name or an alias.
	Query string
	// After is the order key of the last institution of the previous page;
	// empty for the first page.
	After string
	// Limit is the page size; it must be positive.
	Limit int
}

// InstitutionPage is one page of a listing.
type InstitutionPage struct {
	Institutions []*institution.Institution
	// NextAfter is the After of the next page; empty on the last page.
	NextAfter string
}

// ListInstitutionsHandler runs ListInstitutions.
type ListInstitutionsHandler struct {
	index   Index
	regions RegionStore
}

// Handle returns the page. A region the registry does not know is
// NotFound, not an empty page: a mistyped code must not read as "nothing
// registered there".
func (h ListInstitutionsHandler) Handle(ctx context.Context, q ListInstitutions) (InstitutionPage, error) {
	if q.RegionCode != "" {
		if _, err := h.regions.Region(ctx, q.RegionCode); err != nil {
			return InstitutionPage{}, err
		}
	}
	f := institution.Filter{Kinds: q.Kinds, RegionCode: q.RegionCode, Status: q.Status, Words: institution.QueryWords(q.Query)}
	page, more := h.index.Page(q.After, q.Limit, f.Keep)
	out := InstitutionPage{Institutions: page}
	if more {
		out.NextAfter = institution.OrderKey(page[len(page)-1])
	}
	return out, nil
}
