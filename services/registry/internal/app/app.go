// Package app is the registry's application layer: one handler type per use
// case, each over the small ports below. Commands, queries and results are
// plain Go types (the domain packages institution and region); translating
// them to and from the API, and to and from storage, is the job of the
// adapters around this package, which therefore never sees protobuf, gRPC or
// NATS.
package app

import (
	"context"
	"time"

	"github.com/predikat-id/predikat/services/registry/internal/institution"
	"github.com/predikat-id/predikat/services/registry/internal/region"
)

// RegionStore keeps regions.
type RegionStore interface {
	// Region returns the region with code; a fault.NotFound when there is none.
	Region(ctx context.Context, code string) (*region.Region, error)
	// CreateRegion stores a new region; a fault.Exists when the code is taken.
	CreateRegion(ctx context.Context, r *region.Region) error
}

// InstitutionStore keeps institutions. Writes are compare-and-set on the
// record's revision and keep (kind, region, name) unique.
type InstitutionStore interface {
	// Institution returns the latest institution this replica knows, which
	// may be a moment old; a fault.NotFound when there is none.
	Institution(ctx context.Context, id string) (*institution.Institution, error)
	// Load reads the committed record and its revision, for a write.
	Load(ctx context.Context, id string) (*institution.Institution, error)
	// CreateInstitution stores a new record (its ID set) and returns it with
	// its revision; a fault.Exists when the id or the identity is taken.
	CreateInstitution(ctx context.Context, in *institution.Institution) (*institution.Institution, error)
	// CommitInstitution replaces cur (at cur.Revision) by next, moving the
	// identity claim when next has a new identity or is retired.
	CommitInstitution(ctx context.Context, cur, next *institution.Institution) (*institution.Institution, error)
}

// RequestStore remembers the create requests that carried a request id.
type RequestStore interface {
	// ReserveCreate records want unless its request id is recorded already,
	// and returns the record that holds: want, or the earlier one.
	ReserveCreate(ctx context.Context, want institution.CreateRequest) (institution.CreateRequest, error)
}

// Index is the replica's in-memory view, for reads that scan.
type Index interface {
	// Regions returns every region passing keep, ordered by code.
	Regions(keep func(*region.Region) bool) []*region.Region
	// Page returns up to limit institutions after the order key after that
	// pass keep, in order-key order, and whether more follow.
	Page(after string, limit int, keep func(*institution.Institution) bool) ([]*institution.Institution, bool)
}

// Subscription is one live feed of committed changes.
type Subscription interface {
	// Changes is closed when the subscription ends; Err then says why.
	Changes() <-chan institution.Change
	Err() error
	Close()
}

// ChangeFeed hands out subscriptions to committed institution changes.
type ChangeFeed interface {
	// Subscribe starts a subscription; with snapshot it also returns every
	// current institution, with no change falling between the two.
	Subscribe(snapshot bool) (Subscription, []*institution.Institution)
}

// Clock tells the time records are stamped with.
type Clock interface {
	Now() time.Time
}

// ClockFunc adapts a function (time.Now) to Clock.
type ClockFunc func() time.Time

// Now implements Clock.
func (f ClockFunc) Now() time.Time { return f() }

// Ports are the adapters the application runs over.
type Ports struct {
	Regions      RegionStore
	Institutions InstitutionStore
	Requests     RequestStore
	Index        Index
	Feed         ChangeFeed
	Clock        Clock
	// Stopping closes when the service shuts down: watches end then, instead
	// of holding the graceful stop open until its deadline.
	Stopping <-chan struct{}
}

// Application is every use case of the registry.
type Application struct {
	CreateRegion         CreateRegionHandler
	GetRegion            GetRegionHandler
	ListRegions          ListRegionsHandler
	CreateInstitution    CreateInstitutionHandler
	GetInstitution       GetInstitutionHandler
	BatchGetInstitutions BatchGetInstitutionsHandler
	ListInstitutions     ListInstitutionsHandler
	UpdateInstitution    UpdateInstitutionHandler
	RetireInstitution    RetireInstitutionHandler
	WatchInstitutions    WatchInstitutionsHandler
}

// New builds the use cases over p.
func New(p Ports) *Application {
	refs := references{regions: p.Regions, institutions: p.Institutions}
	return &Application{
		CreateRegion:         CreateRegionHandler{regions: p.Regions},
		GetRegion:            GetRegionHandler{regions: p.Regions},
		ListRegions:          ListRegionsHandler{index: p.Index},
		CreateInstitution:    CreateInstitutionHandler{institutions: p.Institutions, requests: p.Requests, refs: refs, clock: p.Clock, newID: institution.NewID},
		GetInstitution:       GetInstitutionHandler{institutions: p.Institutions},
		BatchGetInstitutions: BatchGetInstitutionsHandler{institutions: p.Institutions},
		ListInstitutions:     ListInstitutionsHandler{index: p.Index, regions: p.Regions},
		UpdateInstitution:    UpdateInstitutionHandler{institutions: p.Institutions, refs: refs, clock: p.Clock},
		RetireInstitution:    RetireInstitutionHandler{institutions: p.Institutions, clock: p.Clock},
		WatchInstitutions:    WatchInstitutionsHandler{feed: p.Feed, stopping: p.Stopping},
	}
}
