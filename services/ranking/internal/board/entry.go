package board

import (
	"errors"
	"fmt"
	"strings"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
)

// Entry is one institution's latest record in a round, as stored in the
// round's entries hash (the store's codec owns the stored form; the Lua
// scripts read the revision, score, band, basis, boards and time). Names and
// regions here are the snapshot of the event and only a fallback: current
// names come from the registry.
type Entry struct {
	Revision uint64
	Scored   bool  // false for a REPORTED_BAND record
	Score    int64 // unscaled at the round's precision, when Scored
	Band     string
	Basis    Basis
	Boards   []string // board ids, national first, in the scheme's group order
	Seq      uint64   // stream sequence of the event
	TimeMs   int64    // event time, Unix milliseconds
	// Synthetic marks made-up data (a demo fill, a test): it ranks, and
	// every reader is told.
	Synthetic bool

	Name         string
	Kind         Kind
	RegionCode   string
	RegionName   string
	ProvinceCode string
}

// Record is an AssessmentRecorded event reduced to what the boards need.
type Record struct {
	Scheme        string
	Year          int32
	RoundID       string
	SchemeVersion string
	Precision     int
	Institution   string
	// RoundRevision is the OPEN revision of the round the record was
	// decided on (0: a correction after publication, or an older event); a
	// fence of the close that replaced it may leave the record out.
	RoundRevision uint64
	Entry         Entry
	BandInfo      Band
	Groups        []Group // the scheme's peer groups the institution is in
	// Bands is the scheme version's band table, best first (empty for an
	// event written before events carried it).
	Bands []Band
}

// ErrPoison marks an event that can never be applied (malformed, or a
// figure a board cannot hold exactly). The consumer logs and skips it.
var ErrPoison = errors.New("event cannot be placed on a board")

// FromEvent reduces an AssessmentRecorded event stored at stream sequence
// seq. A record whose revision is missing uses the sequence (both grow with
// every correction).
func FromEvent(ev *eventsv1.AssessmentRecorded, seq uint64) (Record, error) {
	a := ev.GetAssessment()
	if a.GetSchemeId() == "" || a.GetYear() == 0 || a.GetInstitutionId() == "" {
		return Record{}, fmt.Errorf("%w: assessment without scheme, year or institution (event %q)", ErrPoison, ev.GetEventId())
	}
	r := Record{
		Scheme: a.GetSchemeId(), Year: a.GetYear(), RoundID: a.GetRoundId(), SchemeVersion: a.GetSchemeVersion(),
		Institution: a.GetInstitutionId(), RoundRevision: ev.GetRoundRevision(),
		BandInfo: Band{Code: a.GetBandCode(), Label: a.GetBandLabel(), Zone: Zone(a.GetBandZone())},
	}
	if r.RoundID == "" {
		r.RoundID = RoundID(r.Scheme, r.Year)
	}
	e := entryOf(ev, seq)
	precision, err := score(&e, a, ev.GetScale())
	if err != nil {
		return Record{}, fmt.Errorf("%w: %s in %s: %w", ErrPoison, r.Institution, r.RoundID, err)
	}
	if e.Band == "" {
		return Record{}, fmt.Errorf("%w: %s in %s has no band", ErrPoison, r.Institution, r.RoundID)
	}
	r.Precision = max(precision, 0)
	for i, b := range ev.GetBands() {
		r.Bands = append(r.Bands, Band{Code: b.GetCode(), Label: b.GetLabel(), Zone: Zone(b.GetZone()), Order: i + 1})
		if b.GetCode() == r.BandInfo.Code {
			r.BandInfo.Order = i + 1
		}
	}
	r.Groups, e.Boards = groupsOf(ev.GetPeerGroups(), e.ProvinceCode)
	r.Entry = e
	return r, nil
}

// entryOf is the entry of an event before its score is known.
func entryOf(ev *eventsv1.AssessmentRecorded, seq uint64) Entry {
	a := ev.GetAssessment()
	inst := a.GetInstitution()
	e := Entry{
		Revision: a.GetRevision(), Band: a.GetBandCode(), Basis: Basis(a.GetBasis()), Seq: seq,
		Name: inst.GetName(), Kind: Kind(inst.GetKind()), RegionCode: inst.GetRegionCode(), RegionName: inst.GetRegionName(),
		ProvinceCode: provinceOf(inst), Synthetic: a.GetSynthetic(),
	}
	if e.Revision == 0 {
		e.Revision = seq
	}
	if t := ev.GetEventTime(); t != nil {
		e.TimeMs = t.AsTime().UnixMilli()
	} else if t := a.GetRecordTime(); t != nil {
		e.TimeMs = t.AsTime().UnixMilli()
	}
	return e
}

// score sets the entry's score (unless it is band-only) and returns the
// precision: the scale's, else the total's own digits, -1 when neither says.
func score(e *Entry, a *assessmentv1.Assessment, sc *assessmentv1.Scale) (int, error) {
	precision := -1
	if sc != nil {
		precision = int(sc.GetPrecision())
	}
	if e.Basis == BasisReportedBand {
		return precision, nil
	}
	total := a.GetTotal()
	if total == "" {
		return 0, fmt.Errorf("basis %s but no total", a.GetBasis())
	}
	if precision < 0 { // no scale in the event: the total's own digits
		precision = 0
		if i := strings.IndexAny(total, ".,"); i >= 0 {
			precision = len(total) - i - 1
		}
	}
	u, err := EncodeScore(total, precision)
	if err != nil {
		return 0, err
	}
	e.Scored, e.Score = true, u
	return precision, nil
}

// groupsOf returns the peer groups and the boards of an institution in
// province (national boards first, in the scheme's group order).
func groupsOf(pgs []*assessmentv1.PeerGroup, province string) ([]Group, []string) {
	var groups []Group
	var national, provincial []string
	for _, g := range pgs {
		grp := Group{Code: g.GetCode(), Name: g.GetName()}
		for _, s := range g.GetScopes() {
			sc := Scope(s)
			grp.Scopes = append(grp.Scopes, sc)
			switch {
			case sc == ScopeNational:
				national = append(national, ID(g.GetCode(), National))
			case sc == ScopeProvince && province != "":
				provincial = append(provincial, ID(g.GetCode(), province))
			}
		}
		groups = append(groups, grp)
	}
	return groups, append(national, provincial...)
}

// provinceOf is the institution's province code, "" for national bodies.
func provinceOf(s *assessmentv1.InstitutionSnapshot) string {
	if p := s.GetProvinceCode(); p != "" && p != National {
		return p
	}
	rc := s.GetRegionCode()
	if len(rc) >= 2 && rc[:2] != National {
		return rc[:2]
	}
	return ""
}
