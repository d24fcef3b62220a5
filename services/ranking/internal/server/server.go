// Package server holds the RankingService gRPC handlers. They only
// translate: protovalidate has checked each request's shape (interceptor),
// each handler turns the request into a query of the application layer,
// calls its one use case and turns the result into the response. Faults
// carry their own gRPC codes.
package server

import (
	"context"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/auth"
	"github.com/predikat-id/predikat/pkg/platform/pagetoken"
	"github.com/predikat-id/predikat/services/ranking/internal/app"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
	"github.com/predikat-id/predikat/services/ranking/internal/cache"
)

// Server implements predikat.ranking.v1.RankingService.
type Server struct {
	rankingv1.UnimplementedRankingServiceServer
	leaderboard app.GetLeaderboardHandler
	standing    app.GetStandingHandler
	statistics  app.GetStatisticsHandler
	trend       app.GetInstitutionTrendHandler
	list        app.ListBoardsHandler
	rebuild     app.RebuildBoardsHandler
	answers     *answers // nil: no cache
}

// Option configures a Server.
type Option func(*Server)

// WithCache keeps GetLeaderboard and GetStanding answers in memory, up to
// maxBytes, served again while f vouches for them (see package cache).
func WithCache(f *cache.Freshness, maxBytes int64) Option {
	return func(s *Server) { s.answers = newAnswers(f, maxBytes) }
}

// New returns the handlers over the application layer's ports.
func New(b app.Boards, n app.Names, rb app.Rebuilder, opts ...Option) *Server {
	s := &Server{
		leaderboard: app.NewGetLeaderboardHandler(b, n),
		standing:    app.NewGetStandingHandler(b, n),
		statistics:  app.NewGetStatisticsHandler(b, n),
		trend:       app.NewGetInstitutionTrendHandler(b, n),
		list:        app.NewListBoardsHandler(b, n),
		rebuild:     app.NewRebuildBoardsHandler(rb),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// GetLeaderboard implements RankingService.
func (s *Server) GetLeaderboard(ctx context.Context, req *rankingv1.GetLeaderboardRequest) (*rankingv1.GetLeaderboardResponse, error) {
	if s.answers == nil {
		resp, _, err := s.getLeaderboard(ctx, req, audience(ctx))
		return resp, err
	}
	return s.answers.leaderboardGet(ctx, req, audience(ctx), s.getLeaderboard)
}

// getLeaderboard reads a page; the round it belongs to is what a cached
// copy is admitted by.
func (s *Server) getLeaderboard(ctx context.Context, req *rankingv1.GetLeaderboardRequest, a app.Audience) (*rankingv1.GetLeaderboardResponse, board.Round, error) {
	// A page token belongs to its board: the fingerprint is the request
	// without its paging fields.
	fp := pagetoken.Fingerprint(&rankingv1.GetLeaderboardRequest{Board: req.GetBoard()})
	after, err := pagetoken.Decode(req.GetPageToken(), fp)
	if err != nil {
		return nil, board.Round{}, err
	}
	lb, err := s.leaderboard.Handle(ctx, app.GetLeaderboard{Board: boardKey(req.GetBoard()), PageSize: int(req.GetPageSize()), After: after, Audience: a})
	if err != nil {
		return nil, board.Round{}, err
	}
	resp := &rankingv1.GetLeaderboardResponse{Board: boardProto(lb.Board), TotalEntries: int32(lb.TotalEntries)}
	for _, e := range lb.Entries {
		resp.Entries = append(resp.Entries, &rankingv1.LeaderboardEntry{
			Rank: int32(e.Rank), InstitutionId: e.InstitutionID, Name: e.Name, Score: e.Score,
			BandCode: e.BandCode, BandLabel: e.BandLabel, BandZone: zone(e.BandZone), Basis: basis(e.Basis), Revision: e.Revision,
			Kind: registryv1.InstitutionKind(e.Kind), RegionCode: e.RegionCode, RegionName: e.RegionName, Synthetic: e.Synthetic,
		})
	}
	if lb.Next != "" {
		resp.NextPageToken = pagetoken.Encode(fp, lb.Next)
	}
	return resp, board.Round{Scheme: lb.Board.Key.Scheme, Year: lb.Board.Key.Year, Final: lb.Board.Final}, nil
}

// GetStanding implements RankingService.
func (s *Server) GetStanding(ctx context.Context, req *rankingv1.GetStandingRequest) (*rankingv1.GetStandingResponse, error) {
	if s.answers == nil {
		resp, _, err := s.getStanding(ctx, req, audience(ctx))
		return resp, err
	}
	return s.answers.standingGet(ctx, req, audience(ctx), s.getStanding)
}

func (s *Server) getStanding(ctx context.Context, req *rankingv1.GetStandingRequest, a app.Audience) (*rankingv1.GetStandingResponse, board.Round, error) {
	st, err := s.standing.Handle(ctx, app.GetStanding{Scheme: req.GetSchemeId(), Year: req.GetYear(), InstitutionID: req.GetInstitutionId(), Audience: a})
	if err != nil {
		return nil, board.Round{}, err
	}
	r := board.Round{Scheme: req.GetSchemeId(), Year: req.GetYear(), Final: st.Final}
	return &rankingv1.GetStandingResponse{
		InstitutionId: st.InstitutionID, Name: st.Name, RoundId: st.RoundID, State: state(st.Final),
		BandCode: st.BandCode, BandLabel: st.BandLabel, BandZone: zone(st.BandZone), Basis: basis(st.Basis), Score: st.Score,
		Standings: standings(st.Standings), Synthetic: st.Synthetic,
	}, r, nil
}

// GetStatistics implements RankingService.
func (s *Server) GetStatistics(ctx context.Context, req *rankingv1.GetStatisticsRequest) (*rankingv1.GetStatisticsResponse, error) {
	st, err := s.statistics.Handle(ctx, app.GetStatistics{Board: boardKey(req.GetBoard()), Audience: audience(ctx)})
	if err != nil {
		return nil, err
	}
	resp := &rankingv1.GetStatisticsResponse{
		Board: boardProto(st.Board), Count: int32(st.Count), ReportedBandCount: int32(st.ReportedBandCount), SyntheticCount: int32(st.SyntheticCount),
		Mean: st.Mean, Stddev: st.Stddev, Median: st.Median, Min: st.Min, Max: st.Max,
	}
	for _, b := range st.BandCounts {
		resp.BandCounts = append(resp.BandCounts, &rankingv1.BandCount{
			BandCode: b.Code, BandLabel: b.Label, BandZone: zone(b.Zone), Count: int32(b.Count), ReportedBandCount: int32(b.ReportedBandCount),
		})
	}
	for _, z := range st.ZoneCounts {
		resp.ZoneCounts = append(resp.ZoneCounts, &rankingv1.ZoneCount{Zone: zone(z.Zone), Count: int32(z.Count)})
	}
	return resp, nil
}

// GetInstitutionTrend implements RankingService.
func (s *Server) GetInstitutionTrend(ctx context.Context, req *rankingv1.GetInstitutionTrendRequest) (*rankingv1.GetInstitutionTrendResponse, error) {
	tr, err := s.trend.Handle(ctx, app.GetInstitutionTrend{
		Scheme: req.GetSchemeId(), InstitutionID: req.GetInstitutionId(), YearFrom: req.GetYearFrom(), YearTo: req.GetYearTo(),
		Audience: audience(ctx),
	})
	if err != nil {
		return nil, err
	}
	resp := &rankingv1.GetInstitutionTrendResponse{InstitutionId: tr.InstitutionID, SchemeId: tr.Scheme, Name: tr.Name}
	for _, p := range tr.Points {
		resp.Points = append(resp.Points, &rankingv1.TrendPoint{
			Year: p.Year, RoundId: p.RoundID, SchemeVersion: p.SchemeVersion, State: state(p.Final),
			BandCode: p.BandCode, BandLabel: p.BandLabel, BandZone: zone(p.BandZone), Basis: basis(p.Basis),
			Score: p.Score, ScoreChange: p.ScoreChange, Standings: standings(p.Standings),
		})
	}
	return resp, nil
}

// ListBoards implements RankingService.
func (s *Server) ListBoards(ctx context.Context, req *rankingv1.ListBoardsRequest) (*rankingv1.ListBoardsResponse, error) {
	boards, err := s.list.Handle(ctx, app.ListBoards{Scheme: req.GetSchemeId(), Year: req.GetYear(), PeerGroup: req.GetPeerGroup(), Scope: req.GetScope(), Audience: audience(ctx)})
	if err != nil {
		return nil, err
	}
	resp := &rankingv1.ListBoardsResponse{}
	for _, b := range boards {
		resp.Boards = append(resp.Boards, boardProto(b))
	}
	return resp, nil
}

// RebuildBoards implements RankingService.
func (s *Server) RebuildBoards(ctx context.Context, req *rankingv1.RebuildBoardsRequest) (*rankingv1.RebuildBoardsResponse, error) {
	res, err := s.rebuild.Handle(ctx, app.RebuildBoards{Scheme: req.GetSchemeId(), Year: req.GetYear()})
	if err != nil {
		return nil, err
	}
	return &rankingv1.RebuildBoardsResponse{
		AssessmentsRead: res.AssessmentsRead, BoardsWritten: int32(res.BoardsWritten), EntriesWritten: res.EntriesWritten,
		ReportedBandRecords: res.ReportedBand, StreamSequence: res.StreamSequence, LayoutVersion: int32(res.LayoutVersion),
		Elapsed: durationpb.New(res.Elapsed),
	}, nil
}

// audience is who the call is for, as authorization left it: a caller
// admitted by the method's published-only permission alone sees FINAL
// rounds only (the application layer applies the rule).
func audience(ctx context.Context) app.Audience {
	lacking, only := auth.PublishedOnly(ctx)
	return app.Audience{PublishedOnly: only, Lacking: lacking}
}

func boardKey(k *rankingv1.BoardKey) app.BoardKey {
	return app.BoardKey{Scheme: k.GetSchemeId(), Year: k.GetYear(), PeerGroup: k.GetPeerGroup(), Scope: k.GetScope()}
}

func boardProto(b app.Board) *rankingv1.Board {
	p := &rankingv1.Board{
		Key:           &rankingv1.BoardKey{SchemeId: b.Key.Scheme, Year: b.Key.Year, PeerGroup: b.Key.PeerGroup, Scope: b.Key.Scope},
		PeerGroupName: b.PeerGroupName, ScopeName: b.ScopeName, RoundId: b.RoundID, SchemeVersion: b.SchemeVersion,
		State: state(b.Final), EntryCount: int32(b.EntryCount),
	}
	if !b.UpdateTime.IsZero() {
		p.UpdateTime = timestamppb.New(b.UpdateTime)
	}
	return p
}

func standings(in []app.BoardStanding) []*rankingv1.Standing {
	var out []*rankingv1.Standing
	for _, s := range in {
		out = append(out, &rankingv1.Standing{
			Board: boardProto(s.Board), Rank: int32(s.Rank), OutOf: int32(s.OutOf), Percentile: s.Percentile,
			PreviousYear: s.PreviousYear, PreviousRank: int32(s.PreviousRank), PreviousOutOf: int32(s.PreviousOutOf),
			PreviousScore: s.PreviousScore, Movement: rankingv1.Movement(s.Movement), RankChange: s.RankChange,
		})
	}
	return out
}

func state(final bool) rankingv1.BoardState {
	if final {
		return rankingv1.BoardState_BOARD_STATE_FINAL
	}
	return rankingv1.BoardState_BOARD_STATE_PROVISIONAL
}

// The board package's enums carry the contract's numbers (enums_test.go
// checks every one), so these are casts.
func zone(z board.Zone) assessmentv1.BandZone          { return assessmentv1.BandZone(z) }
func basis(b board.Basis) assessmentv1.AssessmentBasis { return assessmentv1.AssessmentBasis(b) }
