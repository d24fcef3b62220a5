// Package server holds the RankingService gRPC handlers. They are thin:
// protovalidate has checked each request's shape (interceptor), the store
// reads Redis in one consistent step per query, the board package does the
// arithmetic, and names come from the registry. Faults carry their own gRPC
// codes.
package server

import (
	"cmp"
	"context"
	"slices"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/predikat-id/predikat/pkg/decimal"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/pagetoken"
	"github.com/predikat-id/predikat/pkg/platform/registryclient"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
	"github.com/predikat-id/predikat/services/ranking/internal/rebuild"
	"github.com/predikat-id/predikat/services/ranking/internal/store"
)

// DefaultPageSize is used when page_size is 0.
const DefaultPageSize = 50

// Rebuilder runs (or joins) a rebuild.
type Rebuilder interface {
	Rebuild(ctx context.Context, f rebuild.Filter) (rebuild.Result, error)
}

// Server implements predikat.ranking.v1.RankingService.
type Server struct {
	rankingv1.UnimplementedRankingServiceServer
	st    *store.Store
	names *registryclient.Client
	rb    Rebuilder
}

// New returns the handlers.
func New(st *store.Store, n *registryclient.Client, rb Rebuilder) *Server {
	return &Server{st: st, names: n, rb: rb}
}

func state(r store.Round) rankingv1.BoardState {
	if r.Final {
		return rankingv1.BoardState_BOARD_STATE_FINAL
	}
	return rankingv1.BoardState_BOARD_STATE_PROVISIONAL
}

// scopeName is "Nasional" or the province's name from the registry.
func (s *Server) scopeName(ctx context.Context, scope string) (string, error) {
	if scope == board.National {
		return "Nasional", nil
	}
	n, err := s.names.RegionName(ctx, scope)
	if err != nil {
		return "", err
	}
	if n == "" {
		return scope, nil
	}
	return n, nil
}

func (s *Server) boardProto(ctx context.Context, r store.Round, id string, g board.Group, count, updateMs int64) (*rankingv1.Board, error) {
	group, scope := board.SplitID(id)
	sn, err := s.scopeName(ctx, scope)
	if err != nil {
		return nil, err
	}
	b := &rankingv1.Board{
		Key:           &rankingv1.BoardKey{SchemeId: r.Scheme, Year: r.Year, PeerGroup: group, Scope: scope},
		PeerGroupName: g.Name, ScopeName: sn, RoundId: r.ID, SchemeVersion: r.Version, State: state(r),
		EntryCount: int32(count),
	}
	if updateMs > 0 {
		b.UpdateTime = timestamppb.New(time.UnixMilli(updateMs))
	}
	return b, nil
}

// checkBoard turns an unknown peer group or a scope the group has no boards
// for into NotFound / InvalidArgument.
func checkBoard(k *rankingv1.BoardKey, r store.Round, g *board.Group) error {
	if g == nil {
		return fault.NotFoundf("peer group %q has no boards in round %s", k.GetPeerGroup(), r.ID)
	}
	if !board.ScopeAllowed(g.Scopes, k.GetScope()) {
		if k.GetScope() == board.National {
			return fault.Invalidf("peer group %q is ranked per province only: use a province code as scope, not \"00\"", k.GetPeerGroup())
		}
		return fault.Invalidf("peer group %q is ranked nationally only: use scope \"00\"", k.GetPeerGroup())
	}
	return nil
}

// GetLeaderboard implements RankingService.
func (s *Server) GetLeaderboard(ctx context.Context, req *rankingv1.GetLeaderboardRequest) (*rankingv1.GetLeaderboardResponse, error) {
	k := req.GetBoard()
	fp := pagetoken.Fingerprint(&rankingv1.GetLeaderboardRequest{Board: k})
	after, err := pagetoken.Decode(req.GetPageToken(), fp)
	if err != nil {
		return nil, err
	}
	var cur *board.Cursor
	if after != "" {
		c, err := board.ParseCursor(after)
		if err != nil {
			return nil, fault.Invalidf("page_token is malformed: pass next_page_token from the previous response unchanged")
		}
		cur = &c
	}
	size := int(req.GetPageSize())
	if size == 0 {
		size = DefaultPageSize
	}
	id := board.ID(k.GetPeerGroup(), k.GetScope())
	p, err := s.st.Page(ctx, k.GetSchemeId(), k.GetYear(), id, size, cur)
	if err != nil {
		return nil, err
	}
	if err := checkBoard(k, p.Round, p.Group); err != nil {
		return nil, err
	}
	var ids []string
	for _, t := range p.Ties {
		ids = append(ids, t.Members...)
	}
	insts, err := s.names.Institutions(ctx, ids)
	if err != nil {
		return nil, err
	}
	entries := map[string]board.Entry{}
	var cands []board.Candidate
	for _, t := range p.Ties {
		for i, m := range t.Members {
			e := t.Entries[i]
			entries[m] = e
			name := e.Name
			if in := insts[m]; in != nil {
				name = in.GetName()
			}
			cands = append(cands, board.Candidate{ID: m, Score: t.Score, Rank: t.Rank, Name: name})
		}
	}
	page, more := board.Page(cands, cur, size)
	if !more && p.Below > 0 {
		more = true
	}
	b, err := s.boardProto(ctx, p.Round, id, *p.Group, p.Count, p.UpdateMs)
	if err != nil {
		return nil, err
	}
	resp := &rankingv1.GetLeaderboardResponse{Board: b, TotalEntries: int32(p.Count)}
	for _, c := range page {
		e := entries[c.ID]
		le := &rankingv1.LeaderboardEntry{
			Rank: int32(c.Rank), InstitutionId: c.ID, Name: c.Name, Score: board.FormatScore(c.Score, p.Round.Precision),
			BandCode: e.Band, Basis: e.Basis, Revision: e.Revision,
			Kind: e.Kind, RegionCode: e.RegionCode, RegionName: e.RegionName,
		}
		if bi, ok := p.Bands[e.Band]; ok {
			le.BandLabel, le.BandZone = bi.Label, bi.Zone
		}
		if in := insts[c.ID]; in != nil {
			le.Kind, le.RegionCode = in.GetKind(), in.GetRegionCode()
			if le.RegionName, err = s.regionName(ctx, in); err != nil {
				return nil, err
			}
		}
		resp.Entries = append(resp.Entries, le)
	}
	if more && len(page) > 0 {
		resp.NextPageToken = pagetoken.Encode(fp, board.CursorOf(page[len(page)-1]).String())
	}
	return resp, nil
}

func (s *Server) regionName(ctx context.Context, in *registryv1.Institution) (string, error) {
	if in.GetRegionCode() == "" || in.GetRegionCode() == board.National {
		return "", nil
	}
	return s.names.RegionName(ctx, in.GetRegionCode())
}

// standingOf builds the standings of one round's record.
func (s *Server) standingsOf(ctx context.Context, st *store.Standing) ([]*rankingv1.Standing, error) {
	var out []*rankingv1.Standing
	for _, b := range st.Boards {
		if !st.Entry.Scored {
			break
		}
		bp, err := s.boardProto(ctx, st.Round, b.ID, b.Group, b.Count, b.UpdateMs)
		if err != nil {
			return nil, err
		}
		rank := int32(b.Higher + 1)
		sp := &rankingv1.Standing{
			Board: bp, Rank: rank, OutOf: int32(b.Count), Percentile: board.Percentile(b.Lower, b.Count),
			PreviousYear: st.PrevYear, PreviousRank: int32(b.PrevRank), PreviousOutOf: int32(b.PrevCount),
		}
		if st.PrevEntry != nil && st.PrevEntry.Scored && b.PrevRank > 0 {
			sp.PreviousScore = board.FormatScore(st.PrevEntry.Score, st.PrevRound.Precision)
		}
		sp.Movement, sp.RankChange = board.Move(rank, sp.PreviousRank)
		out = append(out, sp)
	}
	return out, nil
}

// GetStanding implements RankingService.
func (s *Server) GetStanding(ctx context.Context, req *rankingv1.GetStandingRequest) (*rankingv1.GetStandingResponse, error) {
	st, err := s.st.Standing(ctx, req.GetSchemeId(), req.GetYear(), req.GetInstitutionId())
	if err != nil {
		return nil, err
	}
	if !st.Found {
		return nil, fault.NotFoundf("%s has no record in round %s", req.GetInstitutionId(), st.Round.ID)
	}
	in, err := s.names.Institution(ctx, req.GetInstitutionId())
	if err != nil {
		return nil, err
	}
	resp := &rankingv1.GetStandingResponse{
		InstitutionId: req.GetInstitutionId(), Name: st.Entry.Name, RoundId: st.Round.ID, State: state(st.Round),
		BandCode: st.Entry.Band, BandLabel: st.Band.Label, BandZone: st.Band.Zone, Basis: st.Entry.Basis,
	}
	if in != nil {
		resp.Name = in.GetName()
	}
	if st.Entry.Scored {
		resp.Score = board.FormatScore(st.Entry.Score, st.Round.Precision)
	}
	if resp.Standings, err = s.standingsOf(ctx, st); err != nil {
		return nil, err
	}
	return resp, nil
}

// GetStatistics implements RankingService.
func (s *Server) GetStatistics(ctx context.Context, req *rankingv1.GetStatisticsRequest) (*rankingv1.GetStatisticsResponse, error) {
	k := req.GetBoard()
	id := board.ID(k.GetPeerGroup(), k.GetScope())
	st, err := s.st.Statistics(ctx, k.GetSchemeId(), k.GetYear(), id)
	if err != nil {
		return nil, err
	}
	if err := checkBoard(k, st.Round, st.Group); err != nil {
		return nil, err
	}
	b, err := s.boardProto(ctx, st.Round, id, *st.Group, st.Count, st.UpdateMs)
	if err != nil {
		return nil, err
	}
	prec := st.Round.Precision
	resp := &rankingv1.GetStatisticsResponse{Board: b, Count: int32(st.Count), ReportedBandCount: int32(st.ReportedTotal)}
	if st.Count > 0 {
		resp.Mean = st.Stats.Mean(prec)
		resp.Stddev = st.Stats.Stddev(prec)
		resp.Median = board.Median(st.LowMid, st.HighMd, prec)
		resp.Min = board.FormatScore(st.Min, prec)
		resp.Max = board.FormatScore(st.Max, prec)
	}
	zones := map[assessmentv1.BandZone]int32{}
	hasZones := false
	for _, code := range bandOrder(st) {
		bi := st.Bands[code]
		n := int32(st.BandCounts[code])
		resp.BandCounts = append(resp.BandCounts, &rankingv1.BandCount{
			BandCode: code, BandLabel: bi.Label, BandZone: bi.Zone, Count: n, ReportedBandCount: int32(st.ReportedCounts[code]),
		})
		if bi.Zone != assessmentv1.BandZone_BAND_ZONE_UNSPECIFIED {
			hasZones = true
			zones[bi.Zone] += n
		}
	}
	if hasZones {
		for _, z := range []assessmentv1.BandZone{assessmentv1.BandZone_BAND_ZONE_GREEN, assessmentv1.BandZone_BAND_ZONE_YELLOW, assessmentv1.BandZone_BAND_ZONE_RED} {
			resp.ZoneCounts = append(resp.ZoneCounts, &rankingv1.ZoneCount{Zone: z, Count: zones[z]})
		}
	}
	return resp, nil
}

// bandOrder lists the round's bands best first. The events name each
// record's band but not the scheme's whole band table, so the order is
// inferred: by the best score seen in each band, bands seen only on
// band-only records last (by code).
func bandOrder(st *store.Statistics) []string {
	codes := make([]string, 0, len(st.Bands))
	for code := range st.Bands {
		codes = append(codes, code)
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

// GetInstitutionTrend implements RankingService.
func (s *Server) GetInstitutionTrend(ctx context.Context, req *rankingv1.GetInstitutionTrendRequest) (*rankingv1.GetInstitutionTrendResponse, error) {
	years, err := s.st.Years(ctx, req.GetSchemeId(), 0, 0)
	if err != nil {
		return nil, err
	}
	if len(years) == 0 {
		return nil, fault.NotFoundf("scheme %q has no rounds", req.GetSchemeId())
	}
	resp := &rankingv1.GetInstitutionTrendResponse{InstitutionId: req.GetInstitutionId(), SchemeId: req.GetSchemeId()}
	var prev *store.Standing
	for _, y := range years {
		if (req.GetYearFrom() != 0 && y < req.GetYearFrom()) || (req.GetYearTo() != 0 && y > req.GetYearTo()) {
			continue
		}
		st, err := s.st.Standing(ctx, req.GetSchemeId(), y, req.GetInstitutionId())
		if err != nil {
			return nil, err
		}
		if !st.Found {
			continue
		}
		pt := &rankingv1.TrendPoint{
			Year: y, RoundId: st.Round.ID, SchemeVersion: st.Round.Version, State: state(st.Round),
			BandCode: st.Entry.Band, BandLabel: st.Band.Label, BandZone: st.Band.Zone, Basis: st.Entry.Basis,
		}
		if st.Entry.Scored {
			pt.Score = board.FormatScore(st.Entry.Score, st.Round.Precision)
			if prev != nil && prev.Entry.Scored {
				pt.ScoreChange = change(st, prev)
			}
		}
		if pt.Standings, err = s.standingsOf(ctx, st); err != nil {
			return nil, err
		}
		resp.Points = append(resp.Points, pt)
		resp.Name = st.Entry.Name
		prev = st
	}
	in, err := s.names.Institution(ctx, req.GetInstitutionId())
	if err != nil {
		return nil, err
	}
	switch {
	case in != nil:
		resp.Name = in.GetName()
	case len(resp.Points) == 0:
		return nil, fault.NotFoundf("institution %q is not in the registry and has no record in scheme %q", req.GetInstitutionId(), req.GetSchemeId())
	}
	return resp, nil
}

// change is the signed difference of two rounds' totals, exact.
func change(cur, prev *store.Standing) string {
	d, err := decimal.New(cur.Entry.Score, cur.Round.Precision).Sub(decimal.New(prev.Entry.Score, prev.Round.Precision))
	if err != nil {
		return ""
	}
	if d.Sign() > 0 {
		return "+" + d.String()
	}
	return d.String()
}

// ListBoards implements RankingService.
func (s *Server) ListBoards(ctx context.Context, req *rankingv1.ListBoardsRequest) (*rankingv1.ListBoardsResponse, error) {
	r, boards, err := s.st.Boards(ctx, req.GetSchemeId(), req.GetYear())
	if err != nil {
		return nil, err
	}
	slices.SortFunc(boards, func(a, b store.BoardInfo) int {
		ga, sa := board.SplitID(a.ID)
		gb, sb := board.SplitID(b.ID)
		if c := cmp.Compare(ga, gb); c != 0 {
			return c
		}
		return cmp.Compare(sa, sb) // "00" sorts before every province
	})
	resp := &rankingv1.ListBoardsResponse{}
	for _, b := range boards {
		g, sc := board.SplitID(b.ID)
		if b.Count == 0 || (req.GetPeerGroup() != "" && g != req.GetPeerGroup()) || (req.GetScope() != "" && sc != req.GetScope()) {
			continue
		}
		bp, err := s.boardProto(ctx, r, b.ID, b.Group, b.Count, b.UpdateMs)
		if err != nil {
			return nil, err
		}
		resp.Boards = append(resp.Boards, bp)
	}
	return resp, nil
}

// RebuildBoards implements RankingService.
func (s *Server) RebuildBoards(ctx context.Context, req *rankingv1.RebuildBoardsRequest) (*rankingv1.RebuildBoardsResponse, error) {
	res, err := s.rb.Rebuild(ctx, rebuild.Filter{Scheme: req.GetSchemeId(), Year: req.GetYear()})
	if err != nil {
		if ctx.Err() != nil {
			return nil, fault.Unavailablef("the rebuild continues in the background; the call ended first: %v", ctx.Err())
		}
		return nil, fault.Unavailablef("rebuild failed, try again: %v", err)
	}
	return &rankingv1.RebuildBoardsResponse{
		AssessmentsRead: res.AssessmentsRead, BoardsWritten: int32(res.BoardsWritten), EntriesWritten: res.EntriesWritten,
		ReportedBandRecords: res.ReportedBand, StreamSequence: res.StreamSequence, LayoutVersion: int32(res.LayoutVersion),
		Elapsed: durationpb.New(res.Elapsed),
	}, nil
}
