package institution

import (
	"crypto/rand"
	"encoding/base32"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Kind is what sort of body an institution is. The values are those of the
// API's InstitutionKind enum, so translating at the edges is a conversion.
type Kind int32

// The kinds, in API enum order.
const (
	KindUnspecified Kind = iota
	KindProvincialGovernment
	KindRegencyGovernment
	KindCityGovernment
	KindMinistry
	KindAgency
	KindPoliceResort
	KindLandOffice
	KindPublicServiceMall
	KindServiceUnit
)

// kindNames are the API enum names. They are part of every stored identity
// key (IdentityKey hashes them), so they must never change spelling.
var kindNames = map[Kind]string{
	KindUnspecified:          "INSTITUTION_KIND_UNSPECIFIED",
	KindProvincialGovernment: "INSTITUTION_KIND_PROVINCIAL_GOVERNMENT",
	KindRegencyGovernment:    "INSTITUTION_KIND_REGENCY_GOVERNMENT",
	KindCityGovernment:       "INSTITUTION_KIND_CITY_GOVERNMENT",
	KindMinistry:             "INSTITUTION_KIND_MINISTRY",
	KindAgency:               "INSTITUTION_KIND_AGENCY",
	KindPoliceResort:         "INSTITUTION_KIND_POLICE_RESORT",
	KindLandOffice:           "INSTITUTION_KIND_LAND_OFFICE",
	KindPublicServiceMall:    "INSTITUTION_KIND_PUBLIC_SERVICE_MALL",
	KindServiceUnit:          "INSTITUTION_KIND_SERVICE_UNIT",
}

// String is the API enum name (a number for a kind this build does not know,
// as the generated enum does).
func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return strconv.Itoa(int(k))
}

// Status is where an institution is in its life.
type Status int32

// The statuses, in API enum order.
const (
	StatusUnspecified Status = iota
	StatusActive
	StatusRetired
)

// ChangeType says what a committed change did to an institution.
type ChangeType int32

// The change types, in API enum order.
const (
	ChangeUnspecified ChangeType = iota
	ChangeSnapshot
	ChangeCreated
	ChangeUpdated
	ChangeRetired
)

// Change is one committed change of an institution, as watchers see it.
type Change struct {
	Type        ChangeType
	Institution *Institution
}

// Head is the person leading an institution for a term. Dates are
// YYYY-MM-DD, empty when unknown or open.
type Head struct {
	Name      string
	Title     string
	TermStart string
	TermEnd   string
}

// Institution is one registered institution. Records are never modified
// after commit: a change builds a new one (Clone), so readers may share them.
type Institution struct {
	ID           string
	Name         string
	Kind         Kind
	RegionCode   string
	ParentID     string
	Head         *Head
	PastHeads    []*Head
	Status       Status
	Aliases      []string
	ExternalIDs  map[string]string
	RetireReason string
	// YearlyServiceUsers is a service unit's number of service users a
	// year, the population of its survey's sample-size check; 0 when
	// unknown, and always 0 on other kinds.
	YearlyServiceUsers int64
	// Revision is the storage revision the record was read at; 0 before it
	// is stored.
	Revision   uint64
	CreateTime time.Time
	UpdateTime time.Time
	// CreatedBy and UpdatedBy are the authenticated principals who
	// registered it and who made its latest change; empty on records
	// stored before they were kept.
	CreatedBy string
	UpdatedBy string
}

// Clone returns a deep copy of in.
func (in *Institution) Clone() *Institution {
	if in == nil {
		return nil
	}
	out := *in
	out.Head = cloneHead(in.Head)
	if in.PastHeads != nil {
		out.PastHeads = make([]*Head, len(in.PastHeads))
		for i, h := range in.PastHeads {
			out.PastHeads[i] = cloneHead(h)
		}
	}
	out.Aliases = slices.Clone(in.Aliases)
	out.ExternalIDs = maps.Clone(in.ExternalIDs)
	return &out
}

func cloneHead(h *Head) *Head {
	if h == nil {
		return nil
	}
	c := *h
	return &c
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a random id that fits the API's id pattern (lowercase
// base32 behind a letter).
func NewID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return "i" + idEncoding.EncodeToString(b[:])
}
