package app

import (
	"context"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/pagetoken"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// GetLeaderboard asks for one page of a board.
type GetLeaderboard struct {
	Board    BoardKey
	PageSize int    // 0: pagetoken.DefaultPageSize
	After    string // the previous page's Next, "" for the first page
	Audience Audience
}

// Leaderboard is one page of a board.
type Leaderboard struct {
	Board        Board
	TotalEntries int64
	Entries      []LeaderboardEntry
	Next         string // position after the last entry, "" on the last page
}

// LeaderboardEntry is one ranked institution.
type LeaderboardEntry struct {
	Rank          int64
	InstitutionID string
	Name          string
	Score         string
	BandCode      string
	BandLabel     string
	BandZone      board.Zone
	Basis         board.Basis
	Revision      uint64
	Kind          board.Kind
	RegionCode    string
	RegionName    string
	Synthetic     bool
}

// GetLeaderboardHandler pages a board: whole tie groups from the store,
// ordered within ties by the registry's current names.
type GetLeaderboardHandler struct {
	boards Boards
	names  Names
}

// NewGetLeaderboardHandler returns the handler.
func NewGetLeaderboardHandler(b Boards, n Names) GetLeaderboardHandler {
	return GetLeaderboardHandler{boards: b, names: n}
}

// Handle reads the page; PermissionDenied when the audience may not see the
// round.
func (h GetLeaderboardHandler) Handle(ctx context.Context, q GetLeaderboard) (Leaderboard, error) {
	var cur *board.Cursor
	if q.After != "" {
		c, err := board.ParseCursor(q.After)
		if err != nil {
			return Leaderboard{}, fault.Invalidf("page_token is malformed: pass next_page_token from the previous response unchanged")
		}
		cur = &c
	}
	size := q.PageSize
	if size == 0 {
		size = pagetoken.DefaultPageSize
	}
	k := q.Board
	id := board.ID(k.PeerGroup, k.Scope)
	p, err := h.boards.Page(ctx, k.Scheme, k.Year, id, size, cur)
	if err != nil {
		return Leaderboard{}, err
	}
	// Before checkBoard: which peer groups a provisional round has is
	// itself provisional.
	if err := q.Audience.admit(p.Round); err != nil {
		return Leaderboard{}, err
	}
	if err := checkBoard(k, p.Round, p.Group); err != nil {
		return Leaderboard{}, err
	}
	insts, err := h.names.Institutions(ctx, members(p.Ties))
	if err != nil {
		return Leaderboard{}, err
	}
	cands, entries := candidates(p.Ties, insts)
	page, more := board.Page(cands, cur, size)
	more = more || p.Below > 0
	d := describer{h.names}
	b, err := d.board(ctx, p.Round, id, *p.Group, p.Count, p.UpdateMs)
	if err != nil {
		return Leaderboard{}, err
	}
	out := Leaderboard{Board: b, TotalEntries: p.Count}
	for _, c := range page {
		le, err := h.entry(ctx, d, c, entries[c.ID], p, insts)
		if err != nil {
			return Leaderboard{}, err
		}
		out.Entries = append(out.Entries, le)
	}
	if more && len(page) > 0 {
		out.Next = board.CursorOf(page[len(page)-1]).String()
	}
	return out, nil
}

func (h GetLeaderboardHandler) entry(ctx context.Context, d describer, c board.Candidate, e board.Entry, p *board.TiePage, insts map[string]Institution) (LeaderboardEntry, error) {
	le := LeaderboardEntry{
		Rank: c.Rank, InstitutionID: c.ID, Name: c.Name, Score: board.FormatScore(c.Score, p.Round.Precision),
		BandCode: e.Band, Basis: e.Basis, Revision: e.Revision,
		Kind: e.Kind, RegionCode: e.RegionCode, RegionName: e.RegionName, Synthetic: e.Synthetic,
	}
	if bi, ok := p.Bands[e.Band]; ok {
		le.BandLabel, le.BandZone = bi.Label, bi.Zone
	}
	if in, ok := insts[c.ID]; ok {
		le.Kind, le.RegionCode = in.Kind, in.RegionCode
		var err error
		if le.RegionName, err = d.regionName(ctx, in.RegionCode); err != nil {
			return LeaderboardEntry{}, err
		}
	}
	return le, nil
}

// members lists every institution of the tie groups.
func members(ties []board.Tie) []string {
	var ids []string
	for _, t := range ties {
		ids = append(ids, t.Members...)
	}
	return ids
}

// candidates are the tie groups' entries under their current names, and
// the stored entries by institution.
func candidates(ties []board.Tie, insts map[string]Institution) ([]board.Candidate, map[string]board.Entry) {
	entries := map[string]board.Entry{}
	var cands []board.Candidate
	for _, t := range ties {
		for i, m := range t.Members {
			e := t.Entries[i]
			entries[m] = e
			name := e.Name
			if in, ok := insts[m]; ok {
				name = in.Name
			}
			cands = append(cands, board.Candidate{ID: m, Score: t.Score, Rank: t.Rank, Name: name})
		}
	}
	return cands, entries
}
