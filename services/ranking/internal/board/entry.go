package board

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
)

// Entry is one institution's latest record in a round, as stored in the
// round's entries hash. The first six fields are read by the Lua scripts
// (revision compare, removal of the old contribution); the rest is for
// display. Names and regions here are the snapshot of the event and only a
// fallback: current names come from the registry.
type Entry struct {
	Revision uint64
	Scored   bool  // false for a REPORTED_BAND record
	Score    int64 // unscaled at the round's precision, when Scored
	Band     string
	Basis    assessmentv1.AssessmentBasis
	Boards   []string // board ids, national first, in the scheme's group order
	Seq      uint64   // stream sequence of the event
	TimeMs   int64    // event time, Unix milliseconds

	Name         string
	Kind         registryv1.InstitutionKind
	RegionCode   string
	RegionName   string
	ProvinceCode string
}

const entryFields = 13

// Encode returns the stored form: tab-separated fields.
func (e Entry) Encode() string {
	score, sq := "", ""
	if e.Scored {
		score, sq = strconv.FormatInt(e.Score, 10), square(e.Score)
	}
	f := [entryFields]string{
		strconv.FormatUint(e.Revision, 10), score, sq, clean(e.Band), strconv.Itoa(int(e.Basis)),
		strings.Join(e.Boards, ","), strconv.FormatUint(e.Seq, 10), strconv.FormatInt(e.TimeMs, 10),
		clean(e.Name), strconv.Itoa(int(e.Kind)), clean(e.RegionCode), clean(e.RegionName), clean(e.ProvinceCode),
	}
	return strings.Join(f[:], "\t")
}

// SumSq is the square of the score as a decimal string ("" when unscored),
// the entry's contribution to a board's sum of squares.
func (e Entry) SumSq() string {
	if !e.Scored {
		return ""
	}
	return square(e.Score)
}

// DecodeEntry is the inverse of Encode.
func DecodeEntry(s string) (Entry, error) {
	f := strings.Split(s, "\t")
	if len(f) < entryFields {
		return Entry{}, fmt.Errorf("stored entry has %d fields, want %d", len(f), entryFields)
	}
	var e Entry
	var err error
	num := func(s string) int64 {
		n, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil && err == nil {
			err = fmt.Errorf("stored entry field %q: %w", s, perr)
		}
		return n
	}
	e.Revision = uint64(num(f[0]))
	if f[1] != "" {
		e.Scored, e.Score = true, num(f[1])
	}
	e.Band = f[3]
	e.Basis = assessmentv1.AssessmentBasis(num(f[4]))
	if f[5] != "" {
		e.Boards = strings.Split(f[5], ",")
	}
	e.Seq = uint64(num(f[6]))
	e.TimeMs = num(f[7])
	e.Name = f[8]
	e.Kind = registryv1.InstitutionKind(num(f[9]))
	e.RegionCode, e.RegionName, e.ProvinceCode = f[10], f[11], f[12]
	return e, err
}

// Record is an AssessmentRecorded event reduced to what the boards need.
type Record struct {
	Scheme        string
	Year          int32
	RoundID       string
	SchemeVersion string
	Precision     int
	Institution   string
	Entry         Entry
	BandInfo      Band
	Groups        []Group // the scheme's peer groups the institution is in
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
	inst := a.GetInstitution()
	r := Record{
		Scheme: a.GetSchemeId(), Year: a.GetYear(), RoundID: a.GetRoundId(), SchemeVersion: a.GetSchemeVersion(),
		Institution: a.GetInstitutionId(),
		BandInfo:    Band{Code: a.GetBandCode(), Label: a.GetBandLabel(), Zone: a.GetBandZone()},
	}
	if r.RoundID == "" {
		r.RoundID = RoundID(r.Scheme, r.Year)
	}
	precision := -1
	if sc := ev.GetScale(); sc != nil {
		precision = int(sc.GetPrecision())
	}
	e := Entry{
		Revision: a.GetRevision(), Band: a.GetBandCode(), Basis: a.GetBasis(), Seq: seq,
		Name: inst.GetName(), Kind: inst.GetKind(), RegionCode: inst.GetRegionCode(), RegionName: inst.GetRegionName(),
		ProvinceCode: provinceOf(inst),
	}
	if e.Revision == 0 {
		e.Revision = seq
	}
	if t := ev.GetEventTime(); t != nil {
		e.TimeMs = t.AsTime().UnixMilli()
	} else if t := a.GetRecordTime(); t != nil {
		e.TimeMs = t.AsTime().UnixMilli()
	}
	if e.Basis != assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_BAND {
		if a.GetTotal() == "" {
			return Record{}, fmt.Errorf("%w: %s in %s has basis %s but no total", ErrPoison, r.Institution, r.RoundID, e.Basis)
		}
		if precision < 0 { // no scale in the event: the total's own digits
			i := strings.IndexAny(a.GetTotal(), ".,")
			precision = 0
			if i >= 0 {
				precision = len(a.GetTotal()) - i - 1
			}
		}
		u, err := EncodeScore(a.GetTotal(), precision)
		if err != nil {
			return Record{}, fmt.Errorf("%w: %s in %s: %v", ErrPoison, r.Institution, r.RoundID, err)
		}
		e.Scored, e.Score = true, u
	}
	if e.Band == "" {
		return Record{}, fmt.Errorf("%w: %s in %s has no band", ErrPoison, r.Institution, r.RoundID)
	}
	r.Precision = max(precision, 0)
	var national, province []string
	for _, g := range ev.GetPeerGroups() {
		r.Groups = append(r.Groups, Group{Code: g.GetCode(), Name: g.GetName(), Scopes: g.GetScopes()})
		for _, s := range g.GetScopes() {
			switch {
			case s == assessmentv1.ScopeKind_SCOPE_KIND_NATIONAL:
				national = append(national, ID(g.GetCode(), National))
			case s == assessmentv1.ScopeKind_SCOPE_KIND_PROVINCE && e.ProvinceCode != "":
				province = append(province, ID(g.GetCode(), e.ProvinceCode))
			}
		}
	}
	e.Boards = append(national, province...)
	r.Entry = e
	return r, nil
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
