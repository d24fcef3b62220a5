package ranking_test

import (
	"fmt"
	"github.com/predikat-id/predikat/cmd/internal/stack"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	rt "github.com/predikat-id/predikat/pkg/platform/testenv/eventtest"
)

// Kalimantan Selatan. Pemprov, HSS, Polres HSS and Kantah Tanah Laut carry
// the 2024 Ombudsman figures of the seeds; the other local governments and
// offices are invented for the tests (chosen so that the pemda average in
// province 63 comes out at the seeds' 93.64).
var (
	pemprovKalsel = rt.Inst{ID: "pemprov-kalsel", Name: "Pemerintah Provinsi Kalimantan Selatan", Kind: rt.Pemprov, Region: "63"}
	pemkabHSS     = rt.Inst{ID: "pemkab-hss", Name: "Pemerintah Kabupaten Hulu Sungai Selatan", Kind: rt.Pemkab, Region: "63.06"}
	polresHSS     = rt.Inst{ID: "polres-hss", Name: "Polres Hulu Sungai Selatan", Kind: rt.Polres, Region: "63.06"}
	kantahTala    = rt.Inst{ID: "kantah-tanah-laut", Name: "Kantor Pertanahan Kabupaten Tanah Laut", Kind: rt.Kantah, Region: "63.01"}

	pemkoBanjarbaru  = rt.Inst{ID: "pemko-banjarbaru", Name: "Pemerintah Kota Banjarbaru", Kind: rt.Pemkot, Region: "63.72"}
	pemkabTala       = rt.Inst{ID: "pemkab-tanah-laut", Name: "Pemerintah Kabupaten Tanah Laut", Kind: rt.Pemkab, Region: "63.01"}
	pemkabTapin      = rt.Inst{ID: "pemkab-tapin", Name: "Pemerintah Kabupaten Tapin", Kind: rt.Pemkab, Region: "63.05"}
	pemkoBanjarmasin = rt.Inst{ID: "pemko-banjarmasin", Name: "Pemerintah Kota Banjarmasin", Kind: rt.Pemkot, Region: "63.71"}
	pemkabBalangan   = rt.Inst{ID: "pemkab-balangan", Name: "Pemerintah Kabupaten Balangan", Kind: rt.Pemkab, Region: "63.11"}
	polresTapin      = rt.Inst{ID: "polres-tapin", Name: "Polres Tapin", Kind: rt.Polres, Region: "63.05"}
	kantahBanjar     = rt.Inst{ID: "kantah-banjar", Name: "Kantor Pertanahan Kabupaten Banjar", Kind: rt.Kantah, Region: "63.03"}
	pemprovKaltim    = rt.Inst{ID: "pemprov-kaltim", Name: "Pemerintah Provinsi Kalimantan Timur", Kind: rt.Pemprov, Region: "64"}

	kalsel = []rt.Inst{pemprovKalsel, pemkabHSS, polresHSS, kantahTala, pemkoBanjarbaru, pemkabTala, pemkabTapin, pemkoBanjarmasin,
		pemkabBalangan, polresTapin, kantahBanjar, pemprovKaltim}
)

func kalsel2024() []rt.Rec {
	return []rt.Rec{
		{Year: 2024, Inst: pemprovKalsel, Total: "94.58"},
		{Year: 2024, Inst: pemkabHSS, Total: "96.52"},
		{Year: 2024, Inst: polresHSS, Total: "96.64"},
		{Year: 2024, Inst: kantahTala, Total: "99.57"},
		{Year: 2024, Inst: pemkoBanjarbaru, Total: "95.20"},
		{Year: 2024, Inst: pemkabTala, Total: "93.10"},
		{Year: 2024, Inst: pemkabTapin, Total: "92.04"},
		{Year: 2024, Inst: pemkoBanjarmasin, Total: "90.40"},
		{Year: 2024, Inst: pemkabBalangan, Band: "B"}, // only the band is known ("predikat B")
		{Year: 2024, Inst: polresTapin, Total: "91.14"},
		{Year: 2024, Inst: kantahBanjar, Total: "87.05"},
		{Year: 2024, Inst: pemprovKaltim, Total: "95.00"},
	}
}

func TestKalselOmbudsman2024(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.reg.Create(t, kalsel...)
	e.start(nil)
	e.pub.Record(t, kalsel2024()...)
	e.waitCount(key(2024, "pemda", "00"), 7)
	e.waitCount(key(2024, "kantah", "63"), 2)

	// HSS is rank 1 among the local governments of province 63 (Pemprov
	// Kalsel's 94.58 is below HSS's 96.52); the band-only Balangan is not
	// on the board.
	entries, first, err := e.board(key(2024, "pemda", "63"), 50)
	if err != nil {
		t.Fatal(err)
	}
	want := "1 pemkab-hss 96.52\n2 pemko-banjarbaru 95.20\n3 pemprov-kalsel 94.58\n4 pemkab-tanah-laut 93.10\n5 pemkab-tapin 92.04\n6 pemko-banjarmasin 90.40\n"
	if got := ranks(entries); got != want {
		t.Fatalf("pemda 63:\n%s\nwant:\n%s", got, want)
	}
	hss := entries[0]
	if hss.GetName() != "Pemerintah Kabupaten Hulu Sungai Selatan" || hss.GetRegionName() != "Hulu Sungai Selatan" || hss.GetRegionCode() != "63.06" ||
		hss.GetBandCode() != "A" || hss.GetBandLabel() != "Kualitas Tertinggi" || hss.GetBandZone() != assessmentv1.BandZone_BAND_ZONE_GREEN ||
		hss.GetKind() != registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT || hss.GetRevision() != 1 ||
		hss.GetBasis() != assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_TOTAL {
		t.Fatalf("HSS entry = %v", hss)
	}
	b := first.GetBoard()
	if b.GetPeerGroupName() != "Pemerintah Daerah" || b.GetScopeName() != "Kalimantan Selatan" || b.GetRoundId() != "ombudsman-2024" ||
		b.GetSchemeVersion() != "2022" || b.GetState() != rankingv1.BoardState_BOARD_STATE_PROVISIONAL || b.GetEntryCount() != 6 || b.GetUpdateTime() == nil {
		t.Fatalf("board = %v", b)
	}

	// "Polres HSS best police resort with 96.64", "Tanah Laut land office
	// highest among land offices in Kalsel with 99.57".
	for _, c := range []struct {
		group, top, score string
	}{{"polres", "polres-hss", "96.64"}, {"kantah", "kantah-tanah-laut", "99.57"}} {
		es, _, err := e.board(key(2024, c.group, "63"), 10)
		if err != nil || es[0].GetInstitutionId() != c.top || es[0].GetScore() != c.score || es[0].GetRank() != 1 {
			t.Fatalf("%s 63 = %v, %v", c.group, es, err)
		}
	}

	// Statistics of pemda in 63, by hand: 96.52 95.20 94.58 93.10 92.04
	// 90.40; sum 561.84, mean 93.64; median (93.10+94.58)/2 = 93.84;
	// deviations 2.88 1.56 0.94 -0.54 -1.60 -3.24, squares summing to
	// 24.9608, /6 = 4.16013..., sqrt = 2.0396... -> 2.04. Balangan's
	// reported band B counts in the band figures, not in the numeric ones.
	st, err := e.client.GetStatistics(ctxT(t), &rankingv1.GetStatisticsRequest{Board: key(2024, "pemda", "63")})
	if err != nil {
		t.Fatal(err)
	}
	if st.GetCount() != 6 || st.GetReportedBandCount() != 1 || st.GetMean() != "93.64" || st.GetMedian() != "93.84" ||
		st.GetMin() != "90.40" || st.GetMax() != "96.52" || st.GetStddev() != "2.04" {
		t.Fatalf("statistics = %v", st)
	}
	var bands []string
	for _, bc := range st.GetBandCounts() {
		bands = append(bands, fmt.Sprintf("%s %s %d/%d", bc.GetBandCode(), bc.GetBandLabel(), bc.GetCount(), bc.GetReportedBandCount()))
	}
	// Every band of the scheme, in its order, zeros included.
	if got := strings.Join(bands, ", "); got != "A Kualitas Tertinggi 6/0, B Kualitas Tinggi 1/1, C Kualitas Sedang 0/0, D Kualitas Rendah 0/0, E Kualitas Terendah 0/0" {
		t.Fatalf("band counts = %s", got)
	}
	if zc := st.GetZoneCounts(); len(zc) != 3 || zc[0].GetZone() != assessmentv1.BandZone_BAND_ZONE_GREEN || zc[0].GetCount() != 7 || zc[1].GetCount() != 0 {
		t.Fatalf("zone counts = %v", zc)
	}

	// Nationally HSS leads pemda too; Kalsel is second of the provinces.
	es, _, _ := e.board(key(2024, "provinsi", "00"), 10)
	if ranks(es) != "1 pemprov-kaltim 95.00\n2 pemprov-kalsel 94.58\n" {
		t.Fatalf("provinsi 00:\n%s", ranks(es))
	}

	// GetStanding: every board HSS is on, national first.
	sd, err := e.client.GetStanding(ctxT(t), &rankingv1.GetStandingRequest{InstitutionId: "pemkab-hss", SchemeId: "ombudsman", Year: 2024})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range sd.GetStandings() {
		k := s.GetBoard().GetKey()
		got = append(got, fmt.Sprintf("%s:%s %d/%d %s %v", k.GetPeerGroup(), k.GetScope(), s.GetRank(), s.GetOutOf(), s.GetPercentile(), s.GetMovement()))
	}
	wantS := "pemda:00 1/7 100.00 MOVEMENT_NEW, kabupaten:00 1/3 100.00 MOVEMENT_NEW, pemda:63 1/6 100.00 MOVEMENT_NEW, kabupaten:63 1/3 100.00 MOVEMENT_NEW"
	if strings.Join(got, ", ") != wantS || sd.GetScore() != "96.52" || sd.GetBandCode() != "A" || sd.GetName() != pemkabHSS.Name || sd.GetRoundId() != "ombudsman-2024" {
		t.Fatalf("standing = %s\n%v", strings.Join(got, ", "), sd)
	}
	// Pemprov Kalsel: 3rd of 6 in 63, three of the five others below it:
	// 60.00; it is on the national provinsi board too.
	sd, _ = e.client.GetStanding(ctxT(t), &rankingv1.GetStandingRequest{InstitutionId: "pemprov-kalsel", SchemeId: "ombudsman", Year: 2024})
	if s := sd.GetStandings(); len(s) != 3 || s[2].GetRank() != 3 || s[2].GetOutOf() != 6 || s[2].GetPercentile() != "60.00" || s[1].GetBoard().GetKey().GetPeerGroup() != "provinsi" {
		t.Fatalf("pemprov standing = %v", s)
	}
	// The band-only record has a standing without boards.
	sd, err = e.client.GetStanding(ctxT(t), &rankingv1.GetStandingRequest{InstitutionId: "pemkab-balangan", SchemeId: "ombudsman", Year: 2024})
	if err != nil || sd.GetScore() != "" || sd.GetBandCode() != "B" || len(sd.GetStandings()) != 0 ||
		sd.GetBasis() != assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_BAND {
		t.Fatalf("band-only standing = %v, %v", sd, err)
	}

	// ListBoards: boards with entries, by peer group then scope.
	lb, err := e.client.ListBoards(ctxT(t), &rankingv1.ListBoardsRequest{SchemeId: "ombudsman", Year: 2024})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, b := range lb.GetBoards() {
		ids = append(ids, fmt.Sprintf("%s:%s=%d", b.GetKey().GetPeerGroup(), b.GetKey().GetScope(), b.GetEntryCount()))
	}
	if got := strings.Join(ids, " "); got != "kabupaten:00=3 kabupaten:63=3 kantah:00=2 kantah:63=2 kota:00=2 kota:63=2 pemda:00=7 pemda:63=6 pemda:64=1 polres:00=2 polres:63=2 provinsi:00=2" {
		t.Fatalf("boards = %s", got)
	}
	lb, _ = e.client.ListBoards(ctxT(t), &rankingv1.ListBoardsRequest{SchemeId: "ombudsman", Year: 2024, Scope: "63", PeerGroup: "pemda"})
	if len(lb.GetBoards()) != 1 {
		t.Fatalf("filtered boards = %v", lb.GetBoards())
	}

	// Published: the round's boards become FINAL.
	e.pub.PublishRound(t, "ombudsman", 2024)
	eventually(t, "board final", func() error {
		_, first, err := e.board(key(2024, "pemda", "63"), 1)
		if err != nil {
			return err
		}
		if first.GetBoard().GetState() != rankingv1.BoardState_BOARD_STATE_FINAL {
			return fmt.Errorf("state %v", first.GetBoard().GetState())
		}
		return nil
	})
}

// Competition ranking: equal scores share a rank and the next rank skips
// (1, 2, 2, 4); the tie is listed by name, then id, on every page.
func TestCompetitionRanksAndPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	insts := []rt.Inst{
		{ID: "pemkab-banjar", Name: "Pemerintah Kabupaten Banjar", Kind: rt.Pemkab, Region: "63.03"},
		{ID: "pemkab-batola", Name: "Pemerintah Kabupaten Barito Kuala", Kind: rt.Pemkab, Region: "63.04"},
		{ID: "pemkab-tabalong", Name: "Pemerintah Kabupaten Tabalong", Kind: rt.Pemkab, Region: "63.09"},
		{ID: "pemkab-kotabaru", Name: "Pemerintah Kabupaten Kotabaru", Kind: rt.Pemkab, Region: "63.02"},
	}
	e.reg.Create(t, insts...)
	e.start(nil)
	e.pub.Record(t,
		rt.Rec{Year: 2024, Inst: insts[2], Total: "90.00"}, // Tabalong
		rt.Rec{Year: 2024, Inst: insts[3], Total: "85.00"},
		rt.Rec{Year: 2024, Inst: insts[0], Total: "95.00"},
		rt.Rec{Year: 2024, Inst: insts[1], Total: "90.00"}, // Barito Kuala
	)
	k := key(2024, "kabupaten", "63")
	e.waitCount(k, 4)
	want := "1 pemkab-banjar 95.00\n2 pemkab-batola 90.00\n2 pemkab-tabalong 90.00\n4 pemkab-kotabaru 85.00\n"
	for _, size := range []int32{1, 2, 3, 0} {
		es, _, err := e.board(k, size)
		if err != nil {
			t.Fatal(err)
		}
		if got := ranks(es); got != want {
			t.Fatalf("page size %d:\n%s\nwant:\n%s", size, got, want)
		}
	}
	// Keyset, not offsets: a page token survives an insert above it.
	p1, err := e.client.GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{Board: k, PageSize: 2})
	if err != nil || p1.GetNextPageToken() == "" || p1.GetTotalEntries() != 4 {
		t.Fatalf("page 1 = %v, %v", p1, err)
	}
	hst := rt.Inst{ID: "pemkab-hst", Name: "Pemerintah Kabupaten Hulu Sungai Tengah", Kind: rt.Pemkab, Region: "63.07"}
	e.reg.Create(t, hst)
	e.pub.Record(t, rt.Rec{Year: 2024, Inst: hst, Total: "99.00"})
	e.waitCount(k, 5)
	p2, err := e.client.GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{Board: k, PageSize: 2, PageToken: p1.GetNextPageToken()})
	if err != nil {
		t.Fatal(err)
	}
	if got := ranks(p2.GetEntries()); got != "3 pemkab-tabalong 90.00\n5 pemkab-kotabaru 85.00\n" || p2.GetNextPageToken() != "" {
		t.Fatalf("page 2 after an insert above:\n%s (next %q)", got, p2.GetNextPageToken())
	}
	// A token belongs to its board.
	_, err = e.client.GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{Board: key(2024, "pemda", "63"), PageSize: 2, PageToken: p1.GetNextPageToken()})
	wantCode(t, err, codes.InvalidArgument, "page_token")
	_, err = e.client.GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{Board: k, PageToken: "garbage"})
	wantCode(t, err, codes.InvalidArgument, "page_token")

	// Names come from the registry: a rename shows on the board (the
	// registry's change stream refreshes the cache) and moves the tie order.
	tab, err := e.reg.Client.GetInstitution(ctxT(t), &registryv1.GetInstitutionRequest{Id: "pemkab-tabalong"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.reg.Client.UpdateInstitution(ctxT(t), &registryv1.UpdateInstitutionRequest{
		Institution:      &registryv1.Institution{Id: "pemkab-tabalong", Name: "Kabupaten Tabalong"},
		UpdateMask:       &fieldmaskpb.FieldMask{Paths: []string{"name"}},
		ExpectedRevision: tab.GetInstitution().GetRevision(),
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "renamed institution listed first in its tie", func() error {
		es, _, err := e.board(k, 10)
		if err != nil {
			return err
		}
		if es[2].GetInstitutionId() != "pemkab-tabalong" || es[2].GetName() != "Kabupaten Tabalong" || es[2].GetRank() != 3 {
			return fmt.Errorf("%s", ranks(es))
		}
		return nil
	})
}

// A correction moves the entry; an older revision arriving late and a
// redelivered event change nothing.
func TestCorrectionsLateRevisionsAndRedelivery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.reg.Create(t, pemkabHSS, pemkabTapin, pemkabTala)
	e.start(nil)
	rev1 := e.pub.Event(rt.Rec{Year: 2024, Inst: pemkabHSS, Total: "80.00"})
	e.pub.PublishEvent(t, rev1, "")
	e.pub.Record(t, rt.Rec{Year: 2024, Inst: pemkabTapin, Total: "92.04"}, rt.Rec{Year: 2024, Inst: pemkabTala, Total: "93.10"})
	k := key(2024, "kabupaten", "63")
	e.waitCount(k, 3)
	es, _, _ := e.board(k, 10)
	if ranks(es) != "1 pemkab-tanah-laut 93.10\n2 pemkab-tapin 92.04\n3 pemkab-hss 80.00\n" {
		t.Fatalf("before correction:\n%s", ranks(es))
	}
	rev2 := e.pub.Event(rt.Rec{Year: 2024, Inst: pemkabHSS, Total: "96.52"})
	e.pub.PublishEvent(t, rev2, "")
	want := "1 pemkab-hss 96.52\n2 pemkab-tanah-laut 93.10\n3 pemkab-tapin 92.04\n"
	eventually(t, "correction applied", func() error {
		es, _, err := e.board(k, 10)
		if err != nil {
			return err
		}
		if ranks(es) != want || es[0].GetRevision() != 2 || es[0].GetBandCode() != "A" {
			return fmt.Errorf("%s", ranks(es))
		}
		return nil
	})
	stats := func() string {
		st, err := e.client.GetStatistics(ctxT(t), &rankingv1.GetStatisticsRequest{Board: k})
		if err != nil {
			t.Fatal(err)
		}
		return text(st)
	}
	before := stats()
	// Revision 1 arrives again, after revision 2 (a late, out-of-order
	// delivery), and revision 2 is delivered twice: stored again under
	// new message ids, as a redelivery looks to the consumer. A marker
	// event behind them shows when they have been consumed.
	e.pub.PublishEvent(t, rev1, "late-rev1")
	e.pub.PublishEvent(t, rev2, "redelivered-rev2")
	marker := rt.Inst{ID: "pemkab-hsu", Name: "Pemerintah Kabupaten Hulu Sungai Utara", Kind: rt.Pemkab, Region: "63.08"}
	e.reg.Create(t, marker)
	e.pub.Record(t, rt.Rec{Year: 2024, Inst: marker, Total: "10.00"})
	e.waitCount(k, 4)
	es, _, _ = e.board(k, 10)
	if got := ranks(es); got != want+"4 pemkab-hsu 10.00\n" {
		t.Fatalf("after late and repeated events:\n%s", got)
	}
	// Statistics moved only by the marker: back out its contribution by
	// comparing with a board without it.
	st, _ := e.client.GetStatistics(ctxT(t), &rankingv1.GetStatisticsRequest{Board: k})
	// 96.52 + 93.10 + 92.04 + 10.00 = 291.66 / 4 = 72.915 -> 72.92
	if st.GetCount() != 4 || st.GetMean() != "72.92" || st.GetMax() != "96.52" {
		t.Fatalf("statistics after late events = %v (before the marker: %s)", st, before)
	}
	var a int32
	for _, bc := range st.GetBandCounts() {
		if bc.GetBandCode() == "B" && bc.GetCount() != 0 {
			t.Fatalf("the corrected revision's band B is still counted: %v", st.GetBandCounts())
		}
		if bc.GetBandCode() == "A" {
			a = bc.GetCount()
		}
	}
	if a != 3 {
		t.Fatalf("band A count = %d, want 3: %v", a, st.GetBandCounts())
	}
}

// Movement against the previous year's round, and the year-over-year view.
func TestStandingMovementAndTrend(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.reg.Create(t, kalsel...)
	e.start(nil)
	e.pub.Record(t,
		rt.Rec{Year: 2023, Inst: pemkoBanjarbaru, Total: "96.00"},
		rt.Rec{Year: 2023, Inst: pemkabHSS, Total: "95.10"},
		rt.Rec{Year: 2023, Inst: pemprovKalsel, Total: "93.00"},
		rt.Rec{Year: 2023, Inst: pemkabTapin, Total: "94.00"},
	)
	e.pub.PublishRound(t, "ombudsman", 2023)
	e.pub.Record(t, kalsel2024()...)
	e.waitCount(key(2024, "pemda", "63"), 6)
	e.waitCount(key(2023, "pemda", "63"), 4)

	standing := func(id string, year int32) *rankingv1.Standing {
		var sd *rankingv1.GetStandingResponse
		eventually(t, "2023 final", func() error {
			var err error
			sd, err = e.client.GetStanding(ctxT(t), &rankingv1.GetStandingRequest{InstitutionId: id, SchemeId: "ombudsman", Year: year})
			return err
		})
		for _, s := range sd.GetStandings() {
			if s.GetBoard().GetKey().GetPeerGroup() == "pemda" && s.GetBoard().GetKey().GetScope() == "63" {
				return s
			}
		}
		t.Fatalf("%s has no pemda 63 standing: %v", id, sd)
		return nil
	}
	// 2023 pemda 63: Banjarbaru 1, HSS 2, Tapin 3, Pemprov 4.
	// 2024: HSS 1 (up 1), Banjarbaru 2 (down 1), Pemprov 3 (up 1),
	// Tapin 5 (down 2), Tanah Laut 4 (new).
	for _, c := range []struct {
		id             string
		rank, prev     int32
		move           rankingv1.Movement
		change         int32
		prevScore      string
		prevOutOfWant  int32
		previousYear   int32
		percentileWant string
	}{
		{"pemkab-hss", 1, 2, rankingv1.Movement_MOVEMENT_UP, 1, "95.10", 4, 2023, "100.00"},
		{"pemko-banjarbaru", 2, 1, rankingv1.Movement_MOVEMENT_DOWN, -1, "96.00", 4, 2023, "80.00"},
		{"pemprov-kalsel", 3, 4, rankingv1.Movement_MOVEMENT_UP, 1, "93.00", 4, 2023, "60.00"},
		{"pemkab-tapin", 5, 3, rankingv1.Movement_MOVEMENT_DOWN, -2, "94.00", 4, 2023, "20.00"},
		{"pemkab-tanah-laut", 4, 0, rankingv1.Movement_MOVEMENT_NEW, 0, "", 4, 2023, "40.00"},
	} {
		s := standing(c.id, 2024)
		if s.GetRank() != c.rank || s.GetPreviousRank() != c.prev || s.GetMovement() != c.move || s.GetRankChange() != c.change ||
			s.GetPreviousScore() != c.prevScore || s.GetPreviousOutOf() != c.prevOutOfWant || s.GetPreviousYear() != c.previousYear ||
			s.GetPercentile() != c.percentileWant || s.GetOutOf() != 6 {
			t.Errorf("%s: %v", c.id, s)
		}
	}
	// The first round has no previous one.
	if s := standing("pemkab-hss", 2023); s.GetPreviousYear() != 0 || s.GetMovement() != rankingv1.Movement_MOVEMENT_NEW ||
		s.GetBoard().GetState() != rankingv1.BoardState_BOARD_STATE_FINAL {
		t.Errorf("2023 standing: %v", s)
	}
	// Same position as last year.
	e.pub.Record(t, rt.Rec{Year: 2025, Inst: pemkabHSS, Total: "97.00"}, rt.Rec{Year: 2025, Inst: pemkoBanjarbaru, Total: "90.00"})
	e.waitCount(key(2025, "pemda", "63"), 2)
	if s := standing("pemkab-hss", 2025); s.GetMovement() != rankingv1.Movement_MOVEMENT_SAME || s.GetPreviousYear() != 2024 || s.GetPreviousOutOf() != 6 {
		t.Errorf("2025 standing: %v", s)
	}

	tr, err := e.client.GetInstitutionTrend(ctxT(t), &rankingv1.GetInstitutionTrendRequest{InstitutionId: "pemkab-hss", SchemeId: "ombudsman"})
	if err != nil {
		t.Fatal(err)
	}
	var pts []string
	for _, p := range tr.GetPoints() {
		pts = append(pts, fmt.Sprintf("%d %s %q %v %d", p.GetYear(), p.GetScore(), p.GetScoreChange(), p.GetState(), len(p.GetStandings())))
	}
	want := `2023 95.10 "" BOARD_STATE_FINAL 4, 2024 96.52 "+1.42" BOARD_STATE_PROVISIONAL 4, 2025 97.00 "+0.48" BOARD_STATE_PROVISIONAL 4`
	if got := strings.Join(pts, ", "); got != want || tr.GetName() != pemkabHSS.Name {
		t.Fatalf("trend = %s", got)
	}
	tr, err = e.client.GetInstitutionTrend(ctxT(t), &rankingv1.GetInstitutionTrendRequest{InstitutionId: "pemkab-hss", SchemeId: "ombudsman", YearFrom: 2024, YearTo: 2024})
	if err != nil || len(tr.GetPoints()) != 1 || tr.GetPoints()[0].GetScoreChange() != "" {
		t.Fatalf("trend 2024 only = %v, %v", tr, err)
	}
	e.pub.Record(t, rt.Rec{Year: 2025, Inst: pemkabTapin, Total: "93.70"})
	eventually(t, "Tapin 2025", func() error {
		tr, err := e.client.GetInstitutionTrend(ctxT(t), &rankingv1.GetInstitutionTrendRequest{InstitutionId: "pemkab-tapin", SchemeId: "ombudsman", YearFrom: 2024})
		if err != nil {
			return err
		}
		if len(tr.GetPoints()) != 2 || tr.GetPoints()[1].GetScoreChange() != "+1.66" {
			return fmt.Errorf("%v", tr.GetPoints())
		}
		return nil
	})
}

// Rebuilding from the log gives the same boards: after FLUSHALL, after a
// layout-version change, and on the admin RPC.
func TestRebuildGivesTheSameBoards(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.reg.Create(t, kalsel...)
	e.start(nil)
	e.pub.Record(t, rt.Rec{Year: 2023, Inst: pemkabHSS, Total: "95.10"}, rt.Rec{Year: 2023, Inst: pemkoBanjarbaru, Total: "96.00"})
	e.pub.PublishRound(t, "ombudsman", 2023)
	e.pub.Record(t, kalsel2024()...)
	// A correction: the rebuild must take the latest revision.
	e.pub.Record(t, rt.Rec{Year: 2024, Inst: pemkabTapin, Total: "88.00"})
	e.waitCount(key(2024, "pemda", "00"), 7)
	eventually(t, "correction applied", func() error {
		es, _, err := e.board(key(2024, "pemda", "63"), 10)
		if err != nil {
			return err
		}
		if last := es[len(es)-1]; last.GetInstitutionId() != "pemkab-tapin" || last.GetScore() != "88.00" {
			return fmt.Errorf("%s", ranks(es))
		}
		return nil
	})
	eventually(t, "2023 final", func() error {
		_, f, err := e.board(key(2023, "pemda", "63"), 1)
		if err != nil {
			return err
		}
		if f.GetBoard().GetState() != rankingv1.BoardState_BOARD_STATE_FINAL {
			return fmt.Errorf("2023 state %v", f.GetBoard().GetState())
		}
		return nil
	})
	want23, want24 := e.snapshot(2023), e.snapshot(2024)
	same := func(what string) {
		t.Helper()
		var got string
		eventually(t, what, func() error {
			_, err := e.client.ListBoards(ctxT(t), &rankingv1.ListBoardsRequest{SchemeId: "ombudsman", Year: 2024})
			return err
		})
		if got = e.snapshot(2023); got != want23 {
			t.Fatalf("%s: 2023 differs:\n%s\nwant:\n%s", what, got, want23)
		}
		if got = e.snapshot(2024); got != want24 {
			t.Fatalf("%s: 2024 differs:\n%s\nwant:\n%s", what, got, want24)
		}
	}

	e.redis.Flush(t)
	// Right after the flush queries say Unavailable (never an empty
	// board); the service notices and rebuilds by itself.
	same("after FLUSHALL")

	rdb := e.redis.Client(t)
	if err := rdb.Set(ctxT(t), "rk:layout", "0", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctxT(t), "rk:v0:leftover", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	same("after a layout-version change")
	eventually(t, "old layout keys swept", func() error {
		if n, _ := rdb.Exists(ctxT(t), "rk:v0:leftover").Result(); n != 0 {
			return fmt.Errorf("rk:v0:leftover still there")
		}
		return nil
	})

	// Redis lost writes but kept its layout (say, restored from an older
	// snapshot): its applied sequence is below what the consumer
	// acknowledged, and the service rebuilds.
	if err := rdb.HSet(ctxT(t), stack.RankingRedisBase+"seq", "assessments", 1).Err(); err != nil {
		t.Fatal(err)
	}
	gen, _ := rdb.HGet(ctxT(t), stack.RankingRedisBase+"{ombudsman:2024}:round", "gen").Result()
	if err := rdb.ZRem(ctxT(t), stack.RankingRedisBase+"{ombudsman:2024}:g"+gen+":z:pemda:63", "pemkab-hss").Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "rebuilt after falling behind", func() error {
		if g, _ := rdb.HGet(ctxT(t), stack.RankingRedisBase+"{ombudsman:2024}:round", "gen").Result(); g == gen {
			return fmt.Errorf("still generation %s", g)
		}
		return nil
	})
	same("after Redis fell behind the log")

	res, err := e.client.RebuildBoards(ctxT(t), &rankingv1.RebuildBoardsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	// 2 + 12 latest revisions (Tapin's correction replaces its first);
	// 13 entries per... counted: boards of 2023 (pemda 00/63, kabupaten
	// 00/63, kota 00/63) and 2024 (12 boards, see TestKalsel...).
	if res.GetAssessmentsRead() != 14 || res.GetReportedBandRecords() != 1 || res.GetLayoutVersion() != 3 ||
		res.GetBoardsWritten() != 18 || res.GetStreamSequence() == 0 || res.GetElapsed() == nil {
		t.Fatalf("rebuild = %v", res)
	}
	same("after RebuildBoards")
	res, err = e.client.RebuildBoards(ctxT(t), &rankingv1.RebuildBoardsRequest{SchemeId: "ombudsman", Year: 2023})
	if err != nil || res.GetAssessmentsRead() != 2 {
		t.Fatalf("rebuild 2023 = %v, %v", res, err)
	}
	same("after RebuildBoards of 2023")
	// Only the live generations remain.
	keys, _ := rdb.Keys(ctxT(t), stack.RankingRedisBase+"{ombudsman:2024}:g*:e").Result()
	if len(keys) != 1 {
		t.Fatalf("entry hashes of 2024: %v", keys)
	}
}

// Redis dies while events keep coming: queries fail fast with Unavailable,
// the consumer holds the events, and when Redis returns (empty) the boards
// are rebuilt and nothing is lost.
func TestRedisKilledMidStream(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var insts []rt.Inst
	for i := range 40 {
		insts = append(insts, rt.Inst{ID: fmt.Sprintf("polres-%02d", i), Name: fmt.Sprintf("Polres Nomor %02d", i), Kind: rt.Polres, Region: "63.06"})
	}
	e.reg.Create(t, insts...)
	e.start(nil)
	for _, in := range insts[:20] {
		e.pub.Record(t, rt.Rec{Year: 2024, Inst: in, Total: fmt.Sprintf("%d.50", 50+len(in.ID)%7)})
	}
	k := key(2024, "polres", "63")
	e.waitCount(k, 20)

	e.redis.Stop()
	start := time.Now()
	_, err := e.client.GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{Board: k})
	wantCode(t, err, codes.Unavailable, "")
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("Unavailable took %s", took)
	}
	_, err = e.client.GetStanding(ctxT(t), &rankingv1.GetStandingRequest{InstitutionId: "polres-00", SchemeId: "ombudsman", Year: 2024})
	wantCode(t, err, codes.Unavailable, "")
	eventually(t, "health NOT_SERVING while Redis is down", func() error {
		h, err := e.health.Check(ctxT(t), &healthpb.HealthCheckRequest{})
		if err != nil {
			return err
		}
		if h.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
			return fmt.Errorf("%v", h.GetStatus())
		}
		return nil
	})
	for _, in := range insts[20:] {
		e.pub.Record(t, rt.Rec{Year: 2024, Inst: in, Total: "77.25"})
	}
	// A correction while Redis is down, too.
	e.pub.Record(t, rt.Rec{Year: 2024, Inst: insts[0], Total: "99.99"})
	time.Sleep(300 * time.Millisecond)
	if err := e.redis.Start(); err != nil {
		t.Fatal(err)
	}
	e.waitCount(k, 40)
	es, _, err := e.board(k, 100)
	if err != nil || es[0].GetInstitutionId() != "polres-00" || es[0].GetScore() != "99.99" || es[0].GetRevision() != 2 {
		t.Fatalf("after Redis came back: %v\n%s", err, ranks(es))
	}
	eventually(t, "health SERVING again", func() error {
		h, err := e.health.Check(ctxT(t), &healthpb.HealthCheckRequest{})
		if err != nil {
			return err
		}
		if h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("%v", h.GetStatus())
		}
		return nil
	})
}

// NATS restarts: the consumer resumes by itself.
func TestNATSRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.reg.Create(t, pemkabHSS, pemkabTapin, pemkabTala)
	e.start(nil)
	e.pub.Record(t, rt.Rec{Year: 2024, Inst: pemkabHSS, Total: "96.52"})
	k := key(2024, "kabupaten", "63")
	e.waitCount(k, 1)
	e.nats.Restart(t)
	e.pub.Record(t, rt.Rec{Year: 2024, Inst: pemkabTapin, Total: "92.04"})
	e.waitCount(k, 2)
	e.nats.Restart(t)
	time.Sleep(200 * time.Millisecond)
	e.pub.Record(t, rt.Rec{Year: 2024, Inst: pemkabTala, Total: "93.10"})
	e.waitCount(k, 3)
}

// The service starts NOT_SERVING and says it serves only once the boards
// are complete: a log recorded before it started is rebuilt, not trickled.
func TestServesOnlyWhenBuilt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var insts []rt.Inst
	var recs []rt.Rec
	for i := range 300 {
		in := rt.Inst{ID: fmt.Sprintf("kantah-%03d", i), Name: fmt.Sprintf("Kantor Pertanahan %03d", i), Kind: rt.Kantah, Region: "63.03"}
		insts = append(insts, in)
		recs = append(recs, rt.Rec{Year: 2024, Inst: in, Total: fmt.Sprintf("%d.%02d", 60+i%40, i%100)})
	}
	e.pub.Record(t, recs...)
	// A second service with its own Redis sees the same log and serves at
	// once with every entry.
	var count int64
	e.start(func() {
		n, _ := e.redis.Client(t).ZCard(ctxT(t), stack.RankingRedisBase+"{ombudsman:2024}:g1:z:kantah:63").Result()
		count = n
	})
	h, err := e.health.Check(ctxT(t), &healthpb.HealthCheckRequest{Service: "predikat.ranking.v1.RankingService"})
	if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, %v", h, err)
	}
	if count != 300 {
		t.Fatalf("entries when serving began = %d, want 300", count)
	}
	e.waitCount(key(2024, "kantah", "63"), 300)
	_ = insts
}

// Restarted with its Redis intact but the log moved on while it was down,
// the service serves only once its consumer has caught up.
func TestRestartCatchesUpBeforeServing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start(nil)
	e.pub.Record(t, rt.Rec{Year: 2024, Inst: pemkabHSS, Total: "96.52"})
	k := key(2024, "kabupaten", "63")
	e.waitCount(k, 1)
	e.stop()
	var recs []rt.Rec
	for i := range 200 {
		recs = append(recs, rt.Rec{Year: 2024, Inst: rt.Inst{ID: fmt.Sprintf("pemkab-%03d", i), Name: fmt.Sprintf("Kabupaten %03d", i), Kind: rt.Pemkab, Region: "63.05"}, Total: "80.00"})
	}
	e.pub.Record(t, recs...)
	var count int64
	e.start(func() {
		gen, _ := e.redis.Client(t).HGet(ctxT(t), stack.RankingRedisBase+"{ombudsman:2024}:round", "gen").Result()
		count, _ = e.redis.Client(t).ZCard(ctxT(t), stack.RankingRedisBase+"{ombudsman:2024}:g"+gen+":z:kabupaten:63").Result()
	})
	if count != 201 {
		t.Fatalf("entries when serving began = %d, want 201", count)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.reg.Create(t, pemkabHSS, pemprovKalsel)
	e.start(nil)
	e.pub.Record(t, rt.Rec{Year: 2024, Inst: pemkabHSS, Total: "96.52"}, rt.Rec{Year: 2024, Inst: pemprovKalsel, Total: "94.58"})
	e.waitCount(key(2024, "pemda", "63"), 2)
	ctx := ctxT(t)
	_, err := e.client.GetLeaderboard(ctx, &rankingv1.GetLeaderboardRequest{Board: key(2019, "pemda", "63")})
	wantCode(t, err, codes.NotFound, "ombudsman-2019")
	_, err = e.client.GetLeaderboard(ctx, &rankingv1.GetLeaderboardRequest{Board: key(2024, "mpp", "63")})
	wantCode(t, err, codes.NotFound, "mpp")
	_, err = e.client.GetLeaderboard(ctx, &rankingv1.GetLeaderboardRequest{Board: key(2024, "provinsi", "63")})
	wantCode(t, err, codes.InvalidArgument, "nationally")
	_, err = e.client.GetStatistics(ctx, &rankingv1.GetStatisticsRequest{Board: key(2024, "provinsi", "63")})
	wantCode(t, err, codes.InvalidArgument, "nationally")
	_, err = e.client.GetLeaderboard(ctx, &rankingv1.GetLeaderboardRequest{Board: key(2024, "pemda", "6")})
	wantCode(t, err, codes.InvalidArgument, "scope")
	// A scope that is neither national nor a province: no such board, not
	// an empty one.
	_, err = e.client.GetLeaderboard(ctx, &rankingv1.GetLeaderboardRequest{Board: key(2024, "pemda", "99")})
	wantCode(t, err, codes.NotFound, `scope "99" is neither "00"`)
	_, err = e.client.GetStatistics(ctx, &rankingv1.GetStatisticsRequest{Board: key(2024, "pemda", "99")})
	wantCode(t, err, codes.NotFound, `scope "99"`)
	if _, err := e.client.GetLeaderboard(ctx, &rankingv1.GetLeaderboardRequest{Board: key(2024, "pemda", "32")}); err != nil {
		t.Errorf("an empty board of a real province: %v", err)
	}
	_, err = e.client.GetLeaderboard(ctx, &rankingv1.GetLeaderboardRequest{Board: key(2024, "pemda", "63"), PageSize: 1001})
	wantCode(t, err, codes.InvalidArgument, "page_size")
	_, err = e.client.GetStanding(ctx, &rankingv1.GetStandingRequest{InstitutionId: "polres-hss", SchemeId: "ombudsman", Year: 2024})
	wantCode(t, err, codes.NotFound, "polres-hss")
	_, err = e.client.GetStanding(ctx, &rankingv1.GetStandingRequest{InstitutionId: "pemkab-hss", SchemeId: "sakip", Year: 2024})
	wantCode(t, err, codes.NotFound, "sakip-2024")
	_, err = e.client.GetInstitutionTrend(ctx, &rankingv1.GetInstitutionTrendRequest{InstitutionId: "nobody", SchemeId: "ombudsman"})
	wantCode(t, err, codes.NotFound, "nobody")
	_, err = e.client.GetInstitutionTrend(ctx, &rankingv1.GetInstitutionTrendRequest{InstitutionId: "pemkab-hss", SchemeId: "ombudsman", YearFrom: 2025, YearTo: 2024})
	wantCode(t, err, codes.InvalidArgument, "year_to")
	_, err = e.client.ListBoards(ctx, &rankingv1.ListBoardsRequest{SchemeId: "ombudsman", Year: 2020})
	wantCode(t, err, codes.NotFound, "ombudsman-2020")

	// A round announced but without records: known, empty.
	e.pub.PublishRoundChanged(t, "ombudsman", 2025, 1)
	eventually(t, "2025 round known", func() error {
		lb, err := e.client.ListBoards(ctxT(t), &rankingv1.ListBoardsRequest{SchemeId: "ombudsman", Year: 2025})
		if err != nil {
			return err
		}
		if len(lb.GetBoards()) != 0 {
			return fmt.Errorf("boards %v", lb.GetBoards())
		}
		return nil
	})

	// An event that can never be placed (a total with more digits than the
	// scale) is skipped, and does not block the events behind it.
	bad := e.pub.Event(rt.Rec{Year: 2024, Inst: pemprovKalsel, Total: "94.58"})
	bad.Assessment.Total = "94.581"
	e.pub.PublishEvent(t, bad, "")
	e.pub.Record(t, rt.Rec{Year: 2024, Inst: pemkabHSS, Total: "97.00"})
	eventually(t, "event behind a poison one applied", func() error {
		sd, err := e.client.GetStanding(ctxT(t), &rankingv1.GetStandingRequest{InstitutionId: "pemkab-hss", SchemeId: "ombudsman", Year: 2024})
		if err != nil {
			return err
		}
		if sd.GetScore() != "97.00" {
			return fmt.Errorf("score %s", sd.GetScore())
		}
		return nil
	})
	_ = events.Assessments
}

// Band counts list every band of the scheme in its order, zeros included,
// applied live and rebuilt alike; a round recorded before events carried
// the band table still answers with the bands it saw.
func TestBandCountsFollowTheScheme(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.reg.Create(t, pemkabHSS, pemprovKalsel)
	e.start(nil)
	e.pub.Record(t,
		rt.Rec{Year: 2023, Inst: pemkabHSS, Total: "60.00", WithoutBands: true},
		rt.Rec{Year: 2023, Inst: pemprovKalsel, Total: "90.00", WithoutBands: true},
		rt.Rec{Year: 2024, Inst: pemkabHSS, Total: "60.00"})
	e.waitCount(key(2023, "pemda", "63"), 2)
	e.waitCount(key(2024, "pemda", "63"), 1)
	counts := func(year int32) string {
		st, err := e.client.GetStatistics(ctxT(t), &rankingv1.GetStatisticsRequest{Board: key(year, "pemda", "63")})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, bc := range st.GetBandCounts() {
			out = append(out, fmt.Sprintf("%s %d", bc.GetBandCode(), bc.GetCount()))
		}
		return strings.Join(out, ", ")
	}
	check := func(when string) {
		t.Helper()
		if got := counts(2024); got != "A 0, B 0, C 1, D 0, E 0" {
			t.Errorf("%s: 2024 band counts %s", when, got)
		}
		if got := counts(2023); got != "A 1, C 1" {
			t.Errorf("%s: 2023 (events without the table) band counts %s", when, got)
		}
	}
	check("applied")
	if _, err := e.client.RebuildBoards(ctxT(t), &rankingv1.RebuildBoardsRequest{}); err != nil {
		t.Fatal(err)
	}
	e.waitCount(key(2024, "pemda", "63"), 1)
	check("rebuilt")
}
