// Package app is the ranking service's application layer: one handler per
// use case (a leaderboard page, a standing, a board's statistics, an
// institution's trend, the list of boards, a rebuild), each over small
// ports for the boards store, the registry's names and the rebuilder.
// Queries and results are plain Go types; the gRPC handlers translate them
// to and from the contract, and the store and the registry client sit
// behind the ports.
package app

import (
	"context"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// Boards reads the boards, one consistent step per call.
type Boards interface {
	Page(ctx context.Context, scheme string, year int32, boardID string, size int, cursor *board.Cursor) (*board.TiePage, error)
	Standing(ctx context.Context, scheme string, year int32, inst string) (*board.Standing, error)
	Statistics(ctx context.Context, scheme string, year int32, boardID string) (*board.BoardStats, error)
	Years(ctx context.Context, scheme string, from, to int32) ([]int32, error)
	Boards(ctx context.Context, scheme string, year int32) (board.Round, []board.BoardInfo, error)
}

// Institution is what the registry says of an institution now.
type Institution struct {
	Name       string
	Kind       board.Kind
	RegionCode string
}

// Names looks up current names in the registry. A missing institution is
// absent from the map (or found false), not an error.
type Names interface {
	Institutions(ctx context.Context, ids []string) (map[string]Institution, error)
	Institution(ctx context.Context, id string) (Institution, bool, error)
	RegionName(ctx context.Context, code string) (string, error)
}

// BoardKey names a board.
type BoardKey struct {
	Scheme    string
	Year      int32
	PeerGroup string
	Scope     string
}

// Board describes one board of a round.
type Board struct {
	Key           BoardKey
	PeerGroupName string
	ScopeName     string
	RoundID       string
	SchemeVersion string
	Final         bool
	EntryCount    int64
	UpdateTime    time.Time // zero when the board never changed
}

// nationalName is the scope name of a national board.
const nationalName = "Nasional"

// describer builds Board descriptions, naming scopes from the registry.
type describer struct{ names Names }

// scopeName is "Nasional" or the province's name from the registry (its
// code when the registry has no name).
func (d describer) scopeName(ctx context.Context, scope string) (string, error) {
	if scope == board.National {
		return nationalName, nil
	}
	n, err := d.names.RegionName(ctx, scope)
	if err != nil {
		return "", err
	}
	if n == "" {
		// Not a board that is empty: a board that cannot exist.
		return "", fault.NotFoundf("scope %q is neither \"00\" (the national board) nor the code of a province, such as \"63\" (ListRegions lists them)", scope)
	}
	return n, nil
}

func (d describer) board(ctx context.Context, r board.Round, id string, g board.Group, count, updateMs int64) (Board, error) {
	group, scope := board.SplitID(id)
	sn, err := d.scopeName(ctx, scope)
	if err != nil {
		return Board{}, err
	}
	b := Board{
		Key:           BoardKey{Scheme: r.Scheme, Year: r.Year, PeerGroup: group, Scope: scope},
		PeerGroupName: g.Name, ScopeName: sn, RoundID: r.ID, SchemeVersion: r.Version, Final: r.Final, EntryCount: count,
	}
	if updateMs > 0 {
		b.UpdateTime = time.UnixMilli(updateMs)
	}
	return b, nil
}

// regionName of an institution's region, "" for national bodies.
func (d describer) regionName(ctx context.Context, code string) (string, error) {
	if code == "" || code == board.National {
		return "", nil
	}
	return d.names.RegionName(ctx, code)
}

// checkBoard turns an unknown peer group or a scope the group has no boards
// for into NotFound / InvalidArgument.
func checkBoard(k BoardKey, r board.Round, g *board.Group) error {
	if g == nil {
		return fault.NotFoundf("peer group %q has no boards in round %s", k.PeerGroup, r.ID)
	}
	if !board.ScopeAllowed(g.Scopes, k.Scope) {
		if k.Scope == board.National {
			return fault.Invalidf("peer group %q is ranked per province only: use a province code as scope, not \"00\"", k.PeerGroup)
		}
		return fault.Invalidf("peer group %q is ranked nationally only: use scope \"00\"", k.PeerGroup)
	}
	return nil
}
