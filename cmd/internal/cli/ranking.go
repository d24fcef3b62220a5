package cli

import (
	"context"
	"flag"

	"github.com/predikat-id/predikat/pkg/events"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
)

func cmdBoard(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	key := boardFlags(fs)
	limit := fs.Int("limit", 0, "print at most N entries (default all)")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		bk, err := key.build()
		if err != nil {
			return err
		}
		if *limit < 0 {
			return usagef("--limit must not be negative")
		}
		resp, err := s.leaderboard(ctx, bk, *limit)
		if err != nil {
			return err
		}
		if s.json {
			return s.emit(resp)
		}
		return renderBoard(s.out, resp)
	}
}

func cmdStanding(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	inst := fs.String("institution", "", "institution id (required)")
	scheme := fs.String("scheme", "", "scheme id (required)")
	year := fs.Int("year", 0, "assessment year (required)")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		if err := required("institution", *inst, "scheme", *scheme, "year", nonZero(*year)); err != nil {
			return err
		}
		resp, err := s.rank.GetStanding(ctx, &rankingv1.GetStandingRequest{InstitutionId: *inst, SchemeId: *scheme, Year: int32(*year)})
		if err != nil {
			return err
		}
		if s.json {
			return s.emit(resp)
		}
		return renderStanding(s.out, resp)
	}
}

func cmdStats(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	key := boardFlags(fs)
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		bk, err := key.build()
		if err != nil {
			return err
		}
		resp, err := s.rank.GetStatistics(ctx, &rankingv1.GetStatisticsRequest{Board: bk})
		if err != nil {
			return err
		}
		if s.json {
			return s.emit(resp)
		}
		return renderStats(s.out, resp)
	}
}

func cmdHistory(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	inst := fs.String("institution", "", "institution id (required)")
	scheme := fs.String("scheme", "", "only this scheme, as a year-over-year trend")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		if err := required("institution", *inst); err != nil {
			return err
		}
		if *scheme != "" {
			resp, err := s.rank.GetInstitutionTrend(ctx, &rankingv1.GetInstitutionTrendRequest{InstitutionId: *inst, SchemeId: *scheme})
			if err != nil {
				return err
			}
			if s.json {
				return s.emit(resp)
			}
			if len(resp.GetPoints()) == 0 {
				return s.none(*scheme + " records for " + *inst)
			}
			return renderTrend(s.out, resp)
		}
		req := &assessmentv1.ListInstitutionHistoryRequest{InstitutionId: *inst, PageSize: 1000}
		all, err := allPages(ctx, req, func(r *assessmentv1.ListInstitutionHistoryRequest, t string) { r.PageToken = t },
			s.asm.ListInstitutionHistory, (*assessmentv1.ListInstitutionHistoryResponse).GetAssessments)
		if err != nil {
			return err
		}
		if len(all) == 0 {
			return s.none("records for " + *inst)
		}
		if s.json {
			for _, a := range all {
				if err := s.emit(a); err != nil {
					return err
				}
			}
			return nil
		}
		return renderHistory(s.out, all)
	}
}

type boardKeyFlags struct {
	scheme, group, province, scope *string
	year                           *int
}

func boardFlags(fs *flag.FlagSet) *boardKeyFlags {
	return &boardKeyFlags{
		scheme:   fs.String("scheme", "", "scheme id, e.g. ombudsman (required)"),
		year:     fs.Int("year", 0, "assessment year (required)"),
		group:    fs.String("group", "", "peer group, e.g. pemda, pemkab, polres, kantah (required)"),
		province: fs.String("province", "", "the board of this province, e.g. 63 (default: the national board)"),
		scope:    fs.String("scope", "", "board scope: 00 national or a province code (same as --province)"),
	}
}

func (b *boardKeyFlags) build() (*rankingv1.BoardKey, error) {
	if err := required("scheme", *b.scheme, "year", nonZero(*b.year), "group", *b.group); err != nil {
		return nil, err
	}
	scope := *b.province
	switch {
	case *b.province != "" && *b.scope != "" && *b.province != *b.scope:
		return nil, usagef("give --province or --scope, not both")
	case scope == "":
		scope = *b.scope
	}
	if scope == "" {
		scope = events.National
	}
	if !provincePattern.MatchString(scope) {
		return nil, usagef("%q is not a scope: 00 (national) or a two-digit province code such as 63", scope)
	}
	return &rankingv1.BoardKey{SchemeId: *b.scheme, Year: int32(*b.year), PeerGroup: *b.group, Scope: scope}, nil
}

// leaderboard reads a board page by page, up to limit entries (0 = all),
// and returns it as one response.
func (s *session) leaderboard(ctx context.Context, key *rankingv1.BoardKey, limit int) (*rankingv1.GetLeaderboardResponse, error) {
	req := &rankingv1.GetLeaderboardRequest{Board: key, PageSize: 1000}
	var out *rankingv1.GetLeaderboardResponse
	for {
		if limit > 0 {
			req.PageSize = int32(min(1000, limit-len(out.GetEntries())))
		}
		resp, err := s.rank.GetLeaderboard(ctx, req)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = resp
		} else {
			out.Entries = append(out.Entries, resp.GetEntries()...)
			out.Board, out.TotalEntries = resp.GetBoard(), resp.GetTotalEntries()
		}
		req.PageToken = resp.GetNextPageToken()
		if req.PageToken == "" || (limit > 0 && len(out.GetEntries()) >= limit) || len(resp.GetEntries()) == 0 {
			break
		}
	}
	if limit > 0 && len(out.Entries) > limit {
		out.Entries = out.Entries[:limit]
	}
	out.NextPageToken = ""
	return out, nil
}
