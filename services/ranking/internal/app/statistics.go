package app

import (
	"cmp"
	"context"
	"slices"

	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// GetStatistics asks for a board's statistics.
type GetStatistics struct {
	Board    BoardKey
	Audience Audience
}

// Statistics of one board; the figures are "" on an empty board.
type Statistics struct {
	Board             Board
	Count             int64
	ReportedBandCount int64
	// SyntheticCount is how many counted records are synthetic data.
	SyntheticCount int64
	Mean           string
	Stddev         string
	Median         string
	Min            string
	Max            string
	BandCounts     []BandCount // best band first
	ZoneCounts     []ZoneCount // green, yellow, red; none when no band has a zone
}

// BandCount is how many records of a board fall in a band.
type BandCount struct {
	Code              string
	Label             string
	Zone              board.Zone
	Count             int64
	ReportedBandCount int64
}

// ZoneCount is how many records of a board fall in a zone.
type ZoneCount struct {
	Zone  board.Zone
	Count int64
}

// GetStatisticsHandler reads a board's statistics.
type GetStatisticsHandler struct {
	boards Boards
	names  Names
}

// NewGetStatisticsHandler returns the handler.
func NewGetStatisticsHandler(b Boards, n Names) GetStatisticsHandler {
	return GetStatisticsHandler{boards: b, names: n}
}

// Handle reads the statistics; PermissionDenied when the audience may not
// see the round.
func (h GetStatisticsHandler) Handle(ctx context.Context, q GetStatistics) (Statistics, error) {
	k := q.Board
	id := board.ID(k.PeerGroup, k.Scope)
	st, err := h.boards.Statistics(ctx, k.Scheme, k.Year, id)
	if err != nil {
		return Statistics{}, err
	}
	if err := q.Audience.admit(st.Round); err != nil {
		return Statistics{}, err
	}
	if err := checkBoard(k, st.Round, st.Group); err != nil {
		return Statistics{}, err
	}
	b, err := describer{h.names}.board(ctx, st.Round, id, *st.Group, st.Count, st.UpdateMs)
	if err != nil {
		return Statistics{}, err
	}
	prec := st.Round.Precision
	out := Statistics{Board: b, Count: st.Count, ReportedBandCount: st.ReportedTotal, SyntheticCount: st.Synthetic}
	if st.Count > 0 {
		out.Mean = st.Stats.Mean(prec)
		out.Stddev = st.Stats.Stddev(prec)
		out.Median = board.Median(st.LowMid, st.HighMd, prec)
		out.Min = board.FormatScore(st.Min, prec)
		out.Max = board.FormatScore(st.Max, prec)
	}
	out.BandCounts, out.ZoneCounts = bandCounts(st)
	return out, nil
}

// bandCounts counts the board's records per band, best band first, and per
// zone when any band has one.
func bandCounts(st *board.BoardStats) ([]BandCount, []ZoneCount) {
	var bands []BandCount
	zones := map[board.Zone]int64{}
	hasZones := false
	for _, code := range bandOrder(st) {
		bi := st.Bands[code]
		n := st.BandCounts[code]
		bands = append(bands, BandCount{Code: code, Label: bi.Label, Zone: bi.Zone, Count: n, ReportedBandCount: st.ReportedCounts[code]})
		if bi.Zone != board.ZoneUnspecified {
			hasZones = true
			zones[bi.Zone] += n
		}
	}
	if !hasZones {
		return bands, nil
	}
	var zc []ZoneCount
	for _, z := range board.Zones {
		zc = append(zc, ZoneCount{Zone: z, Count: zones[z]})
	}
	return bands, zc
}

// bandOrder lists the round's bands best first: in the scheme's order
// when the events carried its band table (every band of the scheme is then
// known, counted or not). Rounds recorded before events carried it know
// only the bands seen, in an order inferred from the best score seen in
// each, bands seen only on band-only records last (by code).
func bandOrder(st *board.BoardStats) []string {
	codes := make([]string, 0, len(st.Bands))
	ordered := true
	for code, b := range st.Bands {
		codes = append(codes, code)
		ordered = ordered && b.Order > 0
	}
	if ordered {
		slices.SortFunc(codes, func(a, b string) int { return cmp.Compare(st.Bands[a].Order, st.Bands[b].Order) })
		return codes
	}
	slices.SortFunc(codes, func(a, b string) int {
		ma, oka := st.BandMax[a]
		mb, okb := st.BandMax[b]
		switch {
		case oka && okb && ma != mb:
			return cmp.Compare(mb, ma)
		case oka != okb:
			if oka {
				return -1
			}
			return 1
		}
		return cmp.Compare(a, b)
	})
	return codes
}
