package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
)

// skmElements is how many answers a response of the SKM 2017 survey has:
// the regulation's nine elements.
const skmElements = 9

// skmGen is the SKM bench's generator: every response of every unit is a
// function of the seed, the unit and the response's number, so the bench
// knows what it sent without keeping it, and any submission can be built
// again, byte for byte, to be sent again.
type skmGen struct {
	seed    uint64
	year    int32
	round   string
	perUnit int      // responses a unit gets in one wave
	units   []string // unit ids
	ids     []string // response ids by number: "r000000", ...
	dates   []string // collection dates to choose from
}

func newSKMGen(seed uint64, year int32, units, perUnit, waves int, now time.Time) *skmGen {
	g := &skmGen{seed: seed, year: year, round: fmt.Sprintf("skm-%d", year), perUnit: perUnit}
	for i := range units {
		g.units = append(g.units, skmUnitID(i))
	}
	for k := range perUnit * waves {
		g.ids = append(g.ids, fmt.Sprintf("r%06d", k))
	}
	// Days of the round's year up to yesterday (UTC): never after today in
	// any province, whose day starts 7 to 9 hours before UTC's.
	day := time.Date(int(year), time.January, 1, 0, 0, 0, 0, time.UTC)
	last := now.UTC().AddDate(0, 0, -1)
	for ; !day.After(last) && day.Year() == int(year); day = day.AddDate(0, 0, 1) {
		g.dates = append(g.dates, day.Format(time.DateOnly))
	}
	if len(g.dates) == 0 {
		g.dates = []string{fmt.Sprintf("%d-01-01", year)}
	}
	return g
}

func skmUnitID(i int) string { return fmt.Sprintf("ul-bench-%06d", i) }

// mix is splitmix64's finalizer: a well-spread hash of x.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// answers are response k's answers at unit u: 1-4 each, each unit leaning
// its own way (a third lean to 4, a third to 3, a third spread evenly), so
// the units' indices and bands differ.
func (g *skmGen) answers(u, k int) [skmElements]uint32 {
	h := mix(g.seed ^ mix(uint64(u)<<24^uint64(k)))
	lean := u % 3
	var out [skmElements]uint32
	for e := range out {
		a := uint32(h&3) + 1
		h >>= 2
		if lean > 0 && a < 5-uint32(lean) && h&1 == 1 {
			a++
		}
		h >>= 1
		out[e] = a
	}
	return out
}

// date is response k's collection date at unit u.
func (g *skmGen) date(u, k int) string {
	return g.dates[mix(g.seed^uint64(u)*31^uint64(k))%uint64(len(g.dates))]
}

// unitMsg is unit u's responses of wave w, one message.
func (g *skmGen) unitMsg(u, w int) *assessmentv1.SubmitSurveyResponsesRequest {
	req := &assessmentv1.SubmitSurveyResponsesRequest{RoundId: g.round, UnitId: g.units[u], Responses: make([]*assessmentv1.SurveyResponse, g.perUnit)}
	for i := range g.perUnit {
		k := w*g.perUnit + i
		a := g.answers(u, k)
		req.Responses[i] = &assessmentv1.SurveyResponse{ResponseId: g.ids[k], CollectionDate: g.date(u, k), Answers: a[:]}
	}
	return req
}

// skmTally is what a unit's result must say: its respondents and, per
// element, how many answered 1, 2, 3 and 4.
type skmTally struct {
	respondents int64
	counts      [skmElements][4]int64
}

// want is unit u's tally after the waves it was sent.
func (g *skmGen) want(u int, waves []int) skmTally {
	var t skmTally
	for _, w := range waves {
		for i := range g.perUnit {
			a := g.answers(u, w*g.perUnit+i)
			for e, x := range a {
				t.counts[e][x-1]++
			}
			t.respondents++
		}
	}
	return t
}

// check compares a unit's result with its tally; "" when they agree.
func (t skmTally) check(r *assessmentv1.SurveyResult) string {
	if r.GetRespondents() != t.respondents {
		return fmt.Sprintf("%s: %d respondents, sent %d", r.GetUnitId(), r.GetRespondents(), t.respondents)
	}
	if len(r.GetElements()) != skmElements {
		return fmt.Sprintf("%s: %d elements, want %d", r.GetUnitId(), len(r.GetElements()), skmElements)
	}
	for e, el := range r.GetElements() {
		if !slices.Equal(el.GetCounts(), t.counts[e][:]) {
			return fmt.Sprintf("%s: element %s counts %v, sent %v", r.GetUnitId(), el.GetCode(), el.GetCounts(), t.counts[e])
		}
	}
	return ""
}

// registerUnits registers the units as service units, spread over every
// regency and city, each under its province's government (registered
// first: a service unit names an existing parent).
func registerUnits(ctx context.Context, reg registryv1.RegistryServiceClient, ids []string, callers int) error {
	resp, err := reg.ListRegions(ctx, &registryv1.ListRegionsRequest{})
	if err != nil {
		return fmt.Errorf("list regions: %w", err)
	}
	var places, provinces []*registryv1.Region
	for _, r := range resp.GetRegions() {
		switch r.GetLevel() {
		case registryv1.RegionLevel_REGION_LEVEL_REGENCY, registryv1.RegionLevel_REGION_LEVEL_CITY:
			places = append(places, r)
		case registryv1.RegionLevel_REGION_LEVEL_PROVINCE:
			provinces = append(provinces, r)
		}
	}
	if len(places) == 0 || len(provinces) == 0 {
		return errors.New("the registry knows no province, regency or city to register service units in")
	}
	parent := func(province string) string { return "pemprov-bench-" + province }
	err = parallel(ctx, len(provinces), callers, func(ctx context.Context, j int) error {
		p := provinces[j]
		_, err := reg.CreateInstitution(ctx, &registryv1.CreateInstitutionRequest{InstitutionId: parent(p.GetCode()),
			Institution: &registryv1.Institution{Name: "Pemerintah Provinsi " + p.GetName() + " (bench)", Kind: registryv1.InstitutionKind_INSTITUTION_KIND_PROVINCIAL_GOVERNMENT, RegionCode: p.GetCode()}})
		if err != nil {
			return fmt.Errorf("create the government of province %s: %w", p.GetCode(), err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return parallel(ctx, len(ids), callers, func(ctx context.Context, j int) error {
		r := places[j%len(places)]
		_, err := reg.CreateInstitution(ctx, &registryv1.CreateInstitutionRequest{InstitutionId: ids[j],
			Institution: &registryv1.Institution{Name: fmt.Sprintf("Unit Layanan %s %06d", r.GetName(), j), Kind: registryv1.InstitutionKind_INSTITUTION_KIND_SERVICE_UNIT,
				RegionCode: r.GetCode(), ParentId: parent(r.GetProvinceCode())}})
		if err != nil {
			return fmt.Errorf("create %s: %w", ids[j], err)
		}
		return nil
	})
}
