package app

import (
	"cmp"
	"context"
	"slices"

	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// ListBoards asks for a round's non-empty boards, optionally of one peer
// group and one scope.
type ListBoards struct {
	Scheme    string
	Year      int32
	PeerGroup string // "": every peer group
	Scope     string // "": every scope
	Audience  Audience
}

// ListBoardsHandler lists boards.
type ListBoardsHandler struct {
	boards Boards
	names  Names
}

// NewListBoardsHandler returns the handler.
func NewListBoardsHandler(b Boards, n Names) ListBoardsHandler {
	return ListBoardsHandler{boards: b, names: n}
}

// Handle lists the boards by peer group, then scope (national first);
// PermissionDenied when the audience may not see the round.
func (h ListBoardsHandler) Handle(ctx context.Context, q ListBoards) ([]Board, error) {
	r, infos, err := h.boards.Boards(ctx, q.Scheme, q.Year)
	if err != nil {
		return nil, err
	}
	if err := q.Audience.admit(r); err != nil {
		return nil, err
	}
	slices.SortFunc(infos, func(a, b board.BoardInfo) int {
		ga, sa := board.SplitID(a.ID)
		gb, sb := board.SplitID(b.ID)
		if c := cmp.Compare(ga, gb); c != 0 {
			return c
		}
		return cmp.Compare(sa, sb) // "00" sorts before every province
	})
	d := describer{h.names}
	var out []Board
	for _, b := range infos {
		g, sc := board.SplitID(b.ID)
		if b.Count == 0 || (q.PeerGroup != "" && g != q.PeerGroup) || (q.Scope != "" && sc != q.Scope) {
			continue
		}
		bd, err := d.board(ctx, r, b.ID, b.Group, b.Count, b.UpdateMs)
		if err != nil {
			return nil, err
		}
		out = append(out, bd)
	}
	return out, nil
}
