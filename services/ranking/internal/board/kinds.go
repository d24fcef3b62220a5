package board

// The ranking's own enumerations. Their values are those of the contract's
// enums (a test in the server package checks every one), so the stored
// form of an entry, group or band keeps the numbers it always had and the
// handlers convert with a plain cast.

// Zone is a band's traffic-light zone.
type Zone int32

// Zones.
const (
	ZoneUnspecified Zone = 0
	ZoneGreen       Zone = 1
	ZoneYellow      Zone = 2
	ZoneRed         Zone = 3
)

// Zones lists the zones a board's statistics count, best first.
var Zones = []Zone{ZoneGreen, ZoneYellow, ZoneRed}

// Scope is where a peer group is ranked: nationally, per province or both.
type Scope int32

// Scopes.
const (
	ScopeUnspecified Scope = 0
	ScopeNational    Scope = 1
	ScopeProvince    Scope = 2
)

// Basis is how an assessment's result was obtained.
type Basis int32

// Bases.
const (
	BasisUnspecified   Basis = 0
	BasisComputed      Basis = 1
	BasisReportedTotal Basis = 2
	// BasisReportedBand is a band without a score: counted on the boards'
	// band statistics, never ranked.
	BasisReportedBand Basis = 3
	// BasisDerived is a roll-up: a parent's figure computed from its units'
	// results, ranked like a computed total.
	BasisDerived Basis = 4
	// BasisSurvey is a service unit's SKM result computed from its survey
	// responses, ranked like a computed total.
	BasisSurvey Basis = 5
)

// Kind is the registry's institution kind, carried through unchanged.
type Kind int32

// Movement is how a rank changed against the previous round.
type Movement int32

// Movements.
const (
	MovementUnspecified Movement = 0
	MovementUp          Movement = 1
	MovementDown        Movement = 2
	MovementSame        Movement = 3
	MovementNew         Movement = 4
)
