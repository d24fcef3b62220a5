package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/predikat-id/predikat/pkg/decimal"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/natsx"
)

// The institutions of the run are land offices (Kantor Pertanahan): the
// kind is ranked on two boards (national and its province) in the
// Ombudsman scheme, so a board of n entries is n records.
const benchKind = registryv1.InstitutionKind_INSTITUTION_KIND_LAND_OFFICE

// scheme is the Ombudsman scheme version the run records against, as the
// assessment service describes it.
const (
	schemeID   = "ombudsman"
	schemeYear = 2024 // RecordAssessment round
	fanoutYear = 2023 // the round published for the fan-out
	boardYear  = 2024 // the synthetic boards' round; the previous round is boardYear-1
)

// institution is a registered institution as a record's snapshot needs it.
type institution struct {
	id, name, region, regionName, province, provinceName string
}

func (in institution) snapshot() *assessmentv1.InstitutionSnapshot {
	return &assessmentv1.InstitutionSnapshot{Id: in.id, Name: in.name, Kind: benchKind, RegionCode: in.region,
		RegionName: in.regionName, ProvinceCode: in.province, ProvinceName: in.provinceName}
}

func instID(i int) string { return fmt.Sprintf("kantah-bench-%06d", i) }

// registerInstitutions registers n land offices spread over every regency
// and city the registry knows, with callers concurrent calls.
func registerInstitutions(ctx context.Context, reg registryv1.RegistryServiceClient, n, callers int) ([]institution, error) {
	resp, err := reg.ListRegions(ctx, &registryv1.ListRegionsRequest{})
	if err != nil {
		return nil, fmt.Errorf("list regions: %w", err)
	}
	names := map[string]string{}
	var places []*registryv1.Region
	for _, r := range resp.GetRegions() {
		names[r.GetCode()] = r.GetName()
		if l := r.GetLevel(); l == registryv1.RegionLevel_REGION_LEVEL_REGENCY || l == registryv1.RegionLevel_REGION_LEVEL_CITY {
			places = append(places, r)
		}
	}
	if len(places) == 0 {
		return nil, errors.New("the registry knows no regency or city to register land offices in")
	}
	out := make([]institution, n)
	for i := range out {
		r := places[i%len(places)]
		out[i] = institution{id: instID(i), name: fmt.Sprintf("Kantor Pertanahan %s %06d", r.GetName(), i),
			region: r.GetCode(), regionName: r.GetName(), province: r.GetProvinceCode(), provinceName: names[r.GetProvinceCode()]}
	}
	err = parallel(ctx, n, callers, func(ctx context.Context, j int) error {
		in := out[j]
		_, err := reg.CreateInstitution(ctx, &registryv1.CreateInstitutionRequest{InstitutionId: in.id,
			Institution: &registryv1.Institution{Name: in.name, Kind: benchKind, RegionCode: in.region}})
		if err != nil {
			return fmt.Errorf("create %s: %w", in.id, err)
		}
		return nil
	})
	return out, err
}

// parallel calls fn for 0 <= j < n with callers concurrent callers; the
// first error stops it.
func parallel(ctx context.Context, n, callers int, fn func(ctx context.Context, j int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(callers, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				j := int(next.Add(1)) - 1
				if j >= n {
					return
				}
				if err := fn(ctx, j); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// schemeInfo is what a producer copies onto every AssessmentRecorded.
type schemeInfo struct {
	version    string
	dimensions []string
	groups     []*assessmentv1.PeerGroup // the groups benchKind is ranked in, scheme order
	scale      *assessmentv1.Scale
	bands      []*assessmentv1.Band
}

func loadScheme(ctx context.Context, asm assessmentv1.AssessmentServiceClient, year int32) (*schemeInfo, error) {
	resp, err := asm.GetScheme(ctx, &assessmentv1.GetSchemeRequest{SchemeId: schemeID, Selector: &assessmentv1.GetSchemeRequest_Year{Year: year}})
	if err != nil {
		return nil, fmt.Errorf("scheme %s %d: %w", schemeID, year, err)
	}
	sc := resp.GetScheme()
	si := &schemeInfo{version: sc.GetVersion(), scale: sc.GetScale(), bands: sc.GetBands()}
	for _, d := range sc.GetDimensions() {
		si.dimensions = append(si.dimensions, d.GetCode())
	}
	for _, g := range sc.GetPeerGroups() {
		if slices.Contains(g.GetKinds(), benchKind) {
			si.groups = append(si.groups, g)
		}
	}
	if len(si.groups) == 0 || si.scale.GetPrecision() != 2 {
		return nil, fmt.Errorf("scheme %s %s: want a 2-decimal scale and a peer group for land offices", schemeID, si.version)
	}
	return si, nil
}

// input is a record's result: dimension scores from lo to lo+39.99 (or,
// in a version that scores no dimensions, a reported total in that
// range), varied by institution and revision.
func (si *schemeInfo) input(j, rev, lo int) *assessmentv1.AssessmentInput {
	score := func(k int) string { return fmt.Sprintf("%d.%02d", lo+(j+rev+k)%(100-lo), (j*7+rev*13+k)%100) }
	if len(si.dimensions) == 0 {
		return &assessmentv1.AssessmentInput{Result: &assessmentv1.AssessmentInput_ReportedTotal{ReportedTotal: score(0)}}
	}
	ds := &assessmentv1.DimensionScores{}
	for k, d := range si.dimensions {
		ds.Scores = append(ds.Scores, &assessmentv1.DimensionScore{Code: d, Score: score(k)})
	}
	return &assessmentv1.AssessmentInput{Result: &assessmentv1.AssessmentInput_DimensionScores{DimensionScores: ds}}
}

// band finds the band of a total in hundredths.
func (si *schemeInfo) band(hundredths int64) *assessmentv1.Band {
	v := decimal.New(hundredths, 2)
	in := func(b *assessmentv1.Bound, lower bool) bool {
		if b == nil || b.GetValue() == "" {
			return true
		}
		d, err := decimal.Parse(b.GetValue())
		if err != nil {
			return false
		}
		c := v.Cmp(d)
		if lower {
			return c > 0 || (c == 0 && b.GetInclusive())
		}
		return c < 0 || (c == 0 && b.GetInclusive())
	}
	for _, b := range si.bands {
		if in(b.GetLower(), true) && in(b.GetUpper(), false) {
			return b
		}
	}
	return si.bands[len(si.bands)-1]
}

// recordedEvent builds the AssessmentRecorded the assessment service would
// store for a first record (COMPUTED, every dimension scored the same, so
// the weighted total is that score).
func (si *schemeInfo) recordedEvent(scheme string, year int32, in institution, hundredths int64, when time.Time) *eventsv1.AssessmentRecorded {
	total := decimal.New(hundredths, 2).String()
	b := si.band(hundredths)
	roundID := fmt.Sprintf("%s-%d", scheme, year)
	req := "bench-" + in.id
	ts := timestamppb.New(when)
	a := &assessmentv1.Assessment{
		RoundId: roundID, SchemeId: scheme, SchemeVersion: si.version, Year: year, InstitutionId: in.id,
		Institution: in.snapshot(), Basis: assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_COMPUTED,
		WeightedTotal: total, Total: total, BandCode: b.GetCode(), BandLabel: b.GetLabel(), BandZone: b.GetZone(),
		Revision: 1, RequestId: req, RecordedBy: "bench", RecordTime: ts,
	}
	for _, d := range si.dimensions {
		a.DimensionScores = append(a.DimensionScores, &assessmentv1.DimensionScore{Code: d, Score: total})
	}
	return &eventsv1.AssessmentRecorded{EventId: fmt.Sprintf("%s/%s/%s", roundID, in.id, req), EventTime: ts,
		Assessment: a, PeerGroups: si.groups, Scale: si.scale}
}

// boardScheme names the synthetic round of a board of n entries: one
// scheme id per size, so each has its own round and previous round.
func boardScheme(n int) string { return "board-" + strings.ToLower(sizeString(n)) }

// boardTarget is the institution GetStanding asks about: registered, with a
// score in the middle of every board.
const boardTarget = 10

// boardScore is entry i's score in hundredths: the first ten are the top
// ten (registered institutions, so the top-10 page names them from the
// registry), the target sits at the median, the rest follow a normal
// distribution (mean 60, sd 8) below the top ten, as real results do:
// sparse at the top, dense ties in the middle.
func boardScore(rng *rand.Rand, i int) int64 {
	switch {
	case i < 10:
		return int64(9999 - i)
	case i == boardTarget:
		return 6000
	}
	v := math.Round((60 + 8*rng.NormFloat64()) * 100)
	return int64(max(0, min(v, 9899)))
}

// publishBoards writes, straight into the ASSESSMENTS stream as the
// assessment service would, the records of a round of n land offices (the
// first of them registered, the rest synthetic, spread over the provinces)
// and a previous round of min(n, prev) of the same institutions.
func publishBoards(ctx context.Context, js jetstream.JetStream, failures func() error, si *schemeInfo, insts []institution, provinces map[string]string, n, prev int) (int, error) {
	if _, err := natsx.EnsureStream(ctx, js, events.StreamConfig(events.Assessments, 1)); err != nil {
		return 0, err
	}
	provCodes := make([]string, 0, len(provinces))
	for c := range provinces {
		provCodes = append(provCodes, c)
	}
	slices.Sort(provCodes)
	inst := func(i int) institution {
		if i < len(insts) {
			return insts[i]
		}
		p := provCodes[i%len(provCodes)]
		return institution{id: fmt.Sprintf("kantah-synth-%07d", i), name: fmt.Sprintf("Kantor Pertanahan Sintetis %07d", i),
			region: p + ".01", regionName: "Wilayah " + p + ".01", province: p, provinceName: provinces[p]}
	}
	scheme := boardScheme(n)
	when := time.Date(boardYear, 11, 1, 0, 0, 0, 0, time.UTC)
	published := 0
	for _, round := range []struct {
		year int32
		n    int
		seed uint64
	}{{boardYear - 1, min(n, prev), 1}, {boardYear, n, 2}} {
		rng := rand.New(rand.NewPCG(uint64(n), round.seed))
		for i := range round.n {
			in := inst(i)
			ev := si.recordedEvent(scheme, round.year, in, boardScore(rng, i), when)
			msg, err := events.NewMsg(events.AssessmentSubject(scheme, round.year, in.id), "/predikat/assessment", in.id, ev)
			if err != nil {
				return published, err
			}
			msg.Header.Set(events.HeaderRequestID, ev.GetAssessment().GetRequestId())
			// A first record expects its subject empty, as Append does.
			for {
				_, err := js.PublishMsgAsync(msg, jetstream.WithExpectLastSequencePerSubject(0))
				if err == nil {
					break
				}
				if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
					return published, fmt.Errorf("publish %s: %w", ev.GetEventId(), err)
				}
				if err := ctx.Err(); err != nil {
					return published, err
				}
			}
			published++
			if published%50_000 == 0 {
				if err := waitAsync(ctx, js); err != nil {
					return published, err
				}
				if err := failures(); err != nil {
					return published, err
				}
			}
		}
	}
	if err := waitAsync(ctx, js); err != nil {
		return published, err
	}
	return published, failures()
}

func waitAsync(ctx context.Context, js jetstream.JetStream) error {
	select {
	case <-js.PublishAsyncComplete():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(2 * time.Minute):
		return errors.New("JetStream did not acknowledge the board records within 2 minutes")
	}
}
