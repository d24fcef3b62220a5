package app

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
	"github.com/predikat-id/predikat/services/assessment/internal/scoring"
)

// Queries answers the read side: schemes, rounds, records and awards.
type Queries struct {
	catalog *scheme.Catalog
	store   Store
}

// Page is where a list starts (after the key After) and how long it is.
type Page struct {
	After string
	Size  int
}

// SchemeQuery names a scheme version: by label, else the one in force in
// Year.
type SchemeQuery struct {
	SchemeID, Version string
	Year              int32
}

// Schemes lists the scheme versions (any filter left zero matches all).
func (q Queries) Schemes(schemeID string, year int32, eligible model.Kind) []*scheme.Version {
	return q.catalog.ListFor(schemeID, year, eligible)
}

// Scheme returns one scheme version.
func (q Queries) Scheme(sq SchemeQuery) (*scheme.Version, error) {
	if sq.Version != "" {
		return q.catalog.Get(sq.SchemeID, sq.Version)
	}
	return q.catalog.ForYear(sq.SchemeID, sq.Year)
}

// Computed is a result computed without recording it.
type Computed struct {
	SchemeVersion string
	Result        model.Result
}

// Compute scores an input under a scheme version, recording nothing.
func (q Queries) Compute(sq SchemeQuery, in model.Input) (Computed, error) {
	v, err := q.Scheme(sq)
	if err != nil {
		return Computed{}, err
	}
	res, err := scoring.Assess(v, in)
	if err != nil {
		return Computed{}, err
	}
	return Computed{SchemeVersion: v.Label(), Result: res}, nil
}

// Round returns a round with its counts.
func (q Queries) Round(ctx context.Context, id string) (model.Round, error) {
	return q.store.RoundWithCounts(ctx, id)
}

// RoundFilter selects rounds; zero fields match all.
type RoundFilter struct {
	SchemeID string
	Year     int32
	States   []model.RoundState
}

// Rounds lists rounds, newest year first, then scheme id; the page key is
// roundKey.
func (q Queries) Rounds(ctx context.Context, f RoundFilter, p Page) ([]model.Round, bool, error) {
	all, err := q.store.ListRounds(ctx, func(r model.Round) bool {
		return (f.SchemeID == "" || r.SchemeID == f.SchemeID) && (f.Year == 0 || r.Year == f.Year) &&
			(len(f.States) == 0 || slices.Contains(f.States, r.State))
	})
	if err != nil {
		return nil, false, err
	}
	page, more := pageOf(all, RoundKey, p)
	return page, more, nil
}

// RoundKey is the page key of a round in Rounds.
func RoundKey(r model.Round) string { return yearSchemeKey(r.Year, r.SchemeID) }

func yearSchemeKey(year int32, schemeID string) string {
	return fmt.Sprintf("%04d|%s", 9999-year, schemeID)
}

// Audience is who a query answers: everyone allowed to see provisional
// results, or a caller admitted for published results only (the public),
// who is shown published rounds alone. Lacking names the permission such a
// caller would need for the rest.
type Audience struct {
	PublishedOnly bool
	Lacking       string
}

// admits refuses a published-only audience a round that is not published.
func (au Audience) admits(r model.Round) error {
	if au.PublishedOnly && r.State != model.RoundPublished {
		return fault.Deniedf("round %s is not published: its results are provisional and need permission %q", r.ID, au.Lacking)
	}
	return nil
}

// round reads a round the audience may see.
func (q Queries) round(ctx context.Context, au Audience, roundID string) (model.Round, error) {
	r, err := q.store.Round(ctx, roundID)
	if err != nil {
		return r, err
	}
	return r, au.admits(r)
}

// Assessment returns the latest revision (0) or a given one of a record.
func (q Queries) Assessment(ctx context.Context, au Audience, roundID, institutionID string, revision uint64) (*model.Assessment, error) {
	r, err := q.round(ctx, au, roundID)
	if err != nil {
		return nil, err
	}
	return q.store.Assessment(ctx, RecordKey{SchemeID: r.SchemeID, Year: r.Year, InstitutionID: institutionID}, r.ID, revision)
}

// AssessmentFilter selects the records of a round; zero fields match all.
type AssessmentFilter struct {
	Audience     Audience
	RoundID      string
	Kinds        []model.Kind
	ProvinceCode string
	BandCodes    []string
	Bases        []model.Basis
}

// Assessments lists the latest records of a round by institution id (the
// page key).
func (q Queries) Assessments(ctx context.Context, f AssessmentFilter, p Page) ([]*model.Assessment, bool, error) {
	if _, err := q.round(ctx, f.Audience, f.RoundID); err != nil {
		return nil, false, err
	}
	bands := make([]string, len(f.BandCodes))
	for i, b := range f.BandCodes {
		bands[i] = strings.ToUpper(b)
	}
	return q.store.Records(ctx, f.RoundID, p.After, p.Size, RecordFilter{Kinds: f.Kinds, ProvinceCode: f.ProvinceCode, BandCodes: bands, Bases: f.Bases})
}

// HistoryFilter selects an institution's records; zero fields match all.
type HistoryFilter struct {
	Audience         Audience
	InstitutionID    string
	SchemeID         string
	YearFrom, YearTo int32
}

// History lists an institution's latest record in every round, newest year
// first; the page key is HistoryKey. A published-only audience sees the
// published rounds alone.
func (q Queries) History(ctx context.Context, f HistoryFilter, p Page) ([]*model.Assessment, bool, error) {
	latest, err := q.store.History(ctx, f.InstitutionID)
	if err != nil {
		return nil, false, err
	}
	var all []*model.Assessment
	for _, a := range latest {
		if (f.SchemeID == "" || a.SchemeID == f.SchemeID) &&
			(f.YearFrom == 0 || a.Year >= f.YearFrom) && (f.YearTo == 0 || a.Year <= f.YearTo) {
			all = append(all, a)
		}
	}
	if f.Audience.PublishedOnly {
		var shown []*model.Assessment
		for _, a := range all {
			r, err := q.store.Round(ctx, a.RoundID)
			if err != nil {
				return nil, false, err
			}
			if f.Audience.admits(r) == nil {
				shown = append(shown, a)
			}
		}
		all = shown
	}
	sort.Slice(all, func(i, j int) bool { return HistoryKey(all[i]) < HistoryKey(all[j]) })
	page, more := pageOf(all, HistoryKey, p)
	return page, more, nil
}

// HistoryKey is the page key of a record in History.
func HistoryKey(a *model.Assessment) string { return yearSchemeKey(a.Year, a.SchemeID) }

// Revisions lists a record's revisions after revision after, oldest first.
func (q Queries) Revisions(ctx context.Context, au Audience, roundID, institutionID string, after uint64, size int) ([]*model.Assessment, bool, error) {
	r, err := q.round(ctx, au, roundID)
	if err != nil {
		return nil, false, err
	}
	key := RecordKey{SchemeID: r.SchemeID, Year: r.Year, InstitutionID: institutionID}
	page, more, err := q.store.Revisions(ctx, key, after, size)
	if err != nil {
		return nil, false, err
	}
	if len(page) == 0 && after == 0 {
		// No revisions at all: say so as GetAssessment would.
		if _, err := q.store.Assessment(ctx, key, r.ID, 0); err != nil {
			return nil, false, err
		}
	}
	return page, more, nil
}

// Award returns one award.
func (q Queries) Award(id string) (*model.Award, error) { return q.store.Award(id) }

// AwardFilter selects awards; zero fields match all.
type AwardFilter struct {
	InstitutionID, SchemeID, RoundID string
	Year                             int32
	ProvinceCode                     string
	CeremonyName, CeremonyDate       string
	BasisKinds                       []model.AwardBasisKind
	State                            model.AwardState
}

// Awards lists awards newest ceremony first (AwardKey, the page key): the
// order of an institution's award history and of a ceremony's programme.
func (q Queries) Awards(f AwardFilter, p Page) ([]*model.Award, bool) {
	all, _ := q.store.Awards("", math.MaxInt, f.keep)
	sort.Slice(all, func(i, j int) bool { return AwardKey(all[i]) < AwardKey(all[j]) })
	return pageOf(all, AwardKey, p)
}

// AwardKey orders awards newest first: by the ceremony's date (the grant's
// own date for an award without a ceremony), then the latest granted,
// then by id. The key sorts ascending in that order, so it is the page key.
func AwardKey(a *model.Award) string {
	date := a.GrantTime.UTC().Format(time.DateOnly)
	if a.Ceremony != nil && a.Ceremony.Date != "" {
		date = a.Ceremony.Date
	}
	day, err := time.Parse(time.DateOnly, date)
	if err != nil {
		day = a.GrantTime.UTC()
	}
	const far = 1 << 40 // beyond any date's day number, so the difference stays positive
	return fmt.Sprintf("%013d|%020d|%s", far-day.Unix()/86400, math.MaxInt64-a.GrantTime.UnixNano(), a.ID)
}

func (f AwardFilter) keep(a *model.Award) bool {
	return f.keepSubject(a) && f.keepCeremony(a) &&
		(len(f.BasisKinds) == 0 || slices.Contains(f.BasisKinds, a.Basis.Kind)) &&
		(f.State == 0 || a.State == f.State)
}

// keepSubject matches who the award went to and in which round.
func (f AwardFilter) keepSubject(a *model.Award) bool {
	return (f.InstitutionID == "" || a.Institution.ID == f.InstitutionID) &&
		(f.Year == 0 || a.Year == f.Year) && (f.SchemeID == "" || a.SchemeID == f.SchemeID) &&
		(f.RoundID == "" || a.RoundID == f.RoundID) &&
		(f.ProvinceCode == "" || a.Institution.ProvinceCode == f.ProvinceCode)
}

// keepCeremony matches the ceremony; an award without one has an empty name
// and date, so it only passes when neither is asked for.
func (f AwardFilter) keepCeremony(a *model.Award) bool {
	var c model.Ceremony
	if a.Ceremony != nil {
		c = *a.Ceremony
	}
	return (f.CeremonyName == "" || strings.Contains(strings.ToLower(c.Name), strings.ToLower(f.CeremonyName))) &&
		(f.CeremonyDate == "" || c.Date == f.CeremonyDate)
}

// pageOf pages an already sorted slice by key.
func pageOf[T any](all []T, key func(T) string, p Page) ([]T, bool) {
	var out []T
	for _, x := range all {
		if p.After != "" && key(x) <= p.After {
			continue
		}
		if len(out) == p.Size {
			return out, true
		}
		out = append(out, x)
	}
	return out, false
}
