package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
)

func board(state rankingv1.BoardState, entries ...*rankingv1.LeaderboardEntry) *rankingv1.GetLeaderboardResponse {
	return &rankingv1.GetLeaderboardResponse{
		Board: &rankingv1.Board{
			Key:           &rankingv1.BoardKey{SchemeId: "ombudsman", Year: 2024, PeerGroup: "pemda", Scope: "63"},
			PeerGroupName: "Pemerintah Daerah", ScopeName: "Kalimantan Selatan", RoundId: "ombudsman-2024", State: state, EntryCount: int32(len(entries)),
		},
		Entries: entries, TotalEntries: int32(len(entries)),
	}
}

func entry(rank int32, id, name, score, band, label string) *rankingv1.LeaderboardEntry {
	return &rankingv1.LeaderboardEntry{Rank: rank, InstitutionId: id, Name: name, Score: score, BandCode: band, BandLabel: label}
}

func TestRenderBoard(t *testing.T) {
	var b bytes.Buffer
	resp := board(rankingv1.BoardState_BOARD_STATE_FINAL,
		entry(1, "pemkab-hss", "Pemerintah Kabupaten Hulu Sungai Selatan", "96.52", "A", "Kualitas Tertinggi"),
		entry(2, "pemprov-kalsel", "Pemerintah Provinsi Kalimantan Selatan", "94.58", "A", "Kualitas Tertinggi"),
		entry(10, "x", "Sepuluh", "100.00", "", ""),
	)
	if err := renderBoard(&b, resp); err != nil {
		t.Fatal(err)
	}
	want := `ombudsman 2024 · Pemerintah Daerah · Kalimantan Selatan · final · 3 ranked
RANK  INSTITUTION                                SCORE  BAND                    ID
   1  Pemerintah Kabupaten Hulu Sungai Selatan   96.52  A (Kualitas Tertinggi)  pemkab-hss
   2  Pemerintah Provinsi Kalimantan Selatan     94.58  A (Kualitas Tertinggi)  pemprov-kalsel
  10  Sepuluh                                   100.00  -                       x
`
	if b.String() != want {
		t.Errorf("board:\n%s\nwant:\n%s", b.String(), want)
	}

	b.Reset()
	resp = board(rankingv1.BoardState_BOARD_STATE_PROVISIONAL, entry(1, "a", "A", "90.00", "A", "Kualitas Tertinggi"))
	resp.TotalEntries = 5
	if err := renderBoard(&b, resp); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "· provisional · top 1 of 5\n"+provisionalNote+"\n") {
		t.Errorf("a provisional board must say so:\n%s", out)
	}

	// Synthetic entries say so on their line, and the board counts them.
	b.Reset()
	fill := entry(3, "pemprov-aceh", "Pemerintah Provinsi Aceh", "95.00", "A", "Kualitas Tertinggi")
	fill.Synthetic = true
	if err := renderBoard(&b, board(rankingv1.BoardState_BOARD_STATE_FINAL, fill)); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "Pemerintah Provinsi Aceh [SINTETIS]") || !strings.Contains(out, "[SINTETIS] 1 synthetic") {
		t.Errorf("a synthetic entry must be marked:\n%s", out)
	}
}

func TestTableTrimsAndAligns(t *testing.T) {
	var b bytes.Buffer
	tb := newTable("N", "NAME", "NOTE").alignRight(0)
	tb.add("7", "tab\there", "")
	tb.add("123", "ü", "x")
	if err := tb.write(&b); err != nil {
		t.Fatal(err)
	}
	want := "  N  NAME      NOTE\n  7  tab here\n123  ü         x\n"
	if b.String() != want {
		t.Errorf("table:\n%q\nwant\n%q", b.String(), want)
	}
}

func TestAwardBasisText(t *testing.T) {
	cases := []struct {
		b    *assessmentv1.AwardBasis
		want string
	}{
		{&assessmentv1.AwardBasis{Kind: assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_BAND, BandCode: "A", Score: "96.52"}, "band A 96.52"},
		{&assessmentv1.AwardBasis{Kind: assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_RANK, BandCode: "A", Score: "99.57", Rank: 1, OutOf: 4,
			PeerGroupName: "Kantor Pertanahan", ScopeName: "Kalimantan Selatan"}, "rank 1/4 Kantor Pertanahan · Kalimantan Selatan, 99.57"},
		{&assessmentv1.AwardBasis{Kind: assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_CATEGORY, BandCode: "prima"}, "category prima"},
		{&assessmentv1.AwardBasis{Kind: assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_MANUAL, BandCode: "A", Score: "84.07"}, "manual: A, 84.07"},
		{&assessmentv1.AwardBasis{Kind: assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_MANUAL, BandCode: "sehat", Rank: 3}, "manual: sehat, rank 3"},
		{&assessmentv1.AwardBasis{Kind: assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_MANUAL}, "manual"},
	}
	for _, c := range cases {
		if got := awardBasisText(c.b); got != c.want {
			t.Errorf("awardBasisText(%v) = %q, want %q", c.b, got, c.want)
		}
	}
}

func TestRenderAwards(t *testing.T) {
	hss := &assessmentv1.InstitutionSnapshot{Id: "pemkab-hss", Name: "Pemerintah Kabupaten Hulu Sungai Selatan"}
	rakor := &assessmentv1.Ceremony{Name: "Rapat Koordinasi Pelayanan Publik se-Kalimantan Selatan", Date: "2025-04-17"}
	list := []*assessmentv1.Award{
		{Id: "aw-b", Institution: hss, Title: "Predikat Kepatuhan: Kualitas Tertinggi", SchemeId: "ombudsman", Year: 2024,
			Ceremony: &assessmentv1.Ceremony{Name: "Penganugerahan", Date: "2024-12-11"}, State: assessmentv1.AwardState_AWARD_STATE_GRANTED,
			Basis: &assessmentv1.AwardBasis{Kind: assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_BAND, BandCode: "A", Score: "96.52"}},
		{Id: "aw-a", Institution: hss, Title: "Penghargaan Indeks Reformasi Birokrasi Tahun 2024, Predikat AA", SchemeId: "rb", Year: 2024, Ceremony: rakor,
			State: assessmentv1.AwardState_AWARD_STATE_GRANTED, Basis: &assessmentv1.AwardBasis{Kind: assessmentv1.AwardBasisKind_AWARD_BASIS_KIND_MANUAL, BandCode: "AA", Score: "91.25"}},
	}
	sortAwards(list)
	var b bytes.Buffer
	if err := renderAwards(&b, list); err != nil {
		t.Fatal(err)
	}
	want := `Pemerintah Kabupaten Hulu Sungai Selatan (pemkab-hss) · 2 awards
DATE        AWARD                                                           SCHEME          BASIS              ID
2025-04-17  Penghargaan Indeks Reformasi Birokrasi Tahun 2024, Predikat AA  rb 2024         manual: AA, 91.25  aw-a
2024-12-11  Predikat Kepatuhan: Kualitas Tertinggi                          ombudsman 2024  band A 96.52       aw-b
`
	if b.String() != want {
		t.Errorf("awards:\n%s\nwant:\n%s", b.String(), want)
	}

	// Several institutions and a revoked award: institution and state columns.
	list[0].Institution = &assessmentv1.InstitutionSnapshot{Id: "pemko-banjarmasin", Name: "Pemerintah Kota Banjarmasin"}
	list[1].State = assessmentv1.AwardState_AWARD_STATE_REVOKED
	b.Reset()
	if err := renderAwards(&b, list); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if !strings.HasPrefix(lines[0], "DATE        INSTITUTION") || !strings.HasSuffix(lines[0], "STATE") || !strings.HasSuffix(lines[2], "revoked") {
		t.Errorf("awards of several institutions:\n%s", b.String())
	}
}

func TestRenderInstitutionsAndStanding(t *testing.T) {
	var b bytes.Buffer
	err := renderInstitutions(&b, []*registryv1.Institution{
		{Id: "pemkab-hss", Name: "Pemerintah Kabupaten Hulu Sungai Selatan", Kind: registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT, RegionCode: "63.06", Head: &registryv1.Head{Name: "Syafrudin Noor"}},
		{Id: "polres-old", Name: "Polres Lama", Kind: registryv1.InstitutionKind_INSTITUTION_KIND_POLICE_RESORT, RegionCode: "63.06", Status: registryv1.InstitutionStatus_INSTITUTION_STATUS_RETIRED},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `ID          NAME                                      KIND    REGION  HEAD
pemkab-hss  Pemerintah Kabupaten Hulu Sungai Selatan  pemkab  63.06   Syafrudin Noor
polres-old  Polres Lama (retired)                     polres  63.06   -
`
	if b.String() != want {
		t.Errorf("institutions:\n%s\nwant:\n%s", b.String(), want)
	}

	b.Reset()
	err = renderStanding(&b, &rankingv1.GetStandingResponse{InstitutionId: "pemkab-hss", Name: "Pemerintah Kabupaten Hulu Sungai Selatan", RoundId: "ombudsman-2024",
		State: rankingv1.BoardState_BOARD_STATE_FINAL, Score: "96.52", BandCode: "A", BandLabel: "Kualitas Tertinggi", Basis: assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_TOTAL,
		Standings: []*rankingv1.Standing{{Board: &rankingv1.Board{PeerGroupName: "Pemerintah Daerah", ScopeName: "Kalimantan Selatan"}, Rank: 1, OutOf: 14,
			Percentile: "100.00", PreviousYear: 2023, PreviousRank: 1, PreviousOutOf: 14, PreviousScore: "95.10", Movement: rankingv1.Movement_MOVEMENT_SAME}}})
	if err != nil {
		t.Fatal(err)
	}
	want = `Pemerintah Kabupaten Hulu Sungai Selatan (pemkab-hss) · ombudsman-2024 · final
score 96.52 · band A (Kualitas Tertinggi) · reported total
BOARD                                   RANK  PERCENTILE  PREVIOUS            MOVE
Pemerintah Daerah · Kalimantan Selatan  1/14      100.00  2023: 1/14 (95.10)  same
`
	if b.String() != want {
		t.Errorf("standing:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestProgressLine(t *testing.T) {
	if got := rateLine(120, 480, 2*time.Second); got != "  60/s  0:06 left" {
		t.Errorf("rate = %q", got)
	}
	if got := progressLine("ombudsman-2024", 120, 480, 20); got != "ombudsman-2024 [#####...............] 120/480  25%" {
		t.Errorf("progress = %q", got)
	}
	var b bytes.Buffer
	p := newProgress(&b, true, "x", progressThreshold) // not long enough
	p.step()
	p.finish()
	if b.Len() != 0 {
		t.Errorf("a short import drew a bar: %q", b.String())
	}
	p = newProgress(&b, true, "x", progressThreshold+1)
	for range progressThreshold + 1 {
		p.step()
	}
	p.finish()
	if out := b.String(); !strings.HasPrefix(out, "\rx [") || !strings.Contains(out, "51/51 100%  ") || !strings.HasSuffix(out, " left\n") {
		t.Errorf("bar = %q", out)
	}
}

// Text stored before the services refused control and bidirectional
// characters reaches the terminal escaped, never obeyed.
func TestTextOutputEscapesHiddenCharacters(t *testing.T) {
	var b bytes.Buffer
	resp := board(rankingv1.BoardState_BOARD_STATE_FINAL,
		entry(1, "a", "Ta\u200bnah Laut", "96.52", "A", ""),
		entry(2, "b", "\u202eabc\x1b[2J", "90.00", "A", ""),
	)
	resp.Board.ScopeName = "Kalimantan\u2066 Selatan"
	if err := renderBoard(&b, resp); err != nil {
		t.Fatal(err)
	}
	want := `ombudsman 2024 · Pemerintah Daerah · Kalimantan\u{2066} Selatan · final · 2 ranked
RANK  INSTITUTION             SCORE  BAND  ID
   1  Ta\u{200B}nah Laut      96.52  A     a
   2  \u{202E}abc\u{001B}[2J  90.00  A     b
`
	if b.String() != want {
		t.Errorf("board:\n%s\nwant:\n%s", b.String(), want)
	}
	aw := &assessmentv1.Award{Id: "aw-1", Title: "Predikat\u202e A", Institution: &assessmentv1.InstitutionSnapshot{Id: "x", Name: "Désa Sumbér"},
		Ceremony: &assessmentv1.Ceremony{Name: "Rakor\r", Date: "2025-04-17"}, RevokeReason: "oops\n"}
	got := awardLine("revoked", aw)
	if strings.ContainsAny(got, "\u202e\r\n") || !strings.Contains(got, `Predikat\u{202E} A`) || !strings.Contains(got, "Désa Sumbér") {
		t.Errorf("award line %q", got)
	}
	b.Reset()
	if err := renderAwards(&b, []*assessmentv1.Award{aw}); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); strings.Contains(out, "\u202e") || !strings.Contains(out, `Predikat\u{202E} A`) {
		t.Errorf("awards:\n%q", out)
	}
}
