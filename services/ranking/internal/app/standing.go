package app

import (
	"context"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// GetStanding asks where an institution stands in one round.
type GetStanding struct {
	Scheme        string
	Year          int32
	InstitutionID string
	Audience      Audience
}

// Standing is an institution's record in a round and its place on each of
// its boards.
type Standing struct {
	InstitutionID string
	Name          string
	RoundID       string
	Final         bool
	BandCode      string
	BandLabel     string
	BandZone      board.Zone
	Basis         board.Basis
	Score         string // "" for a band-only record
	Synthetic     bool
	Standings     []BoardStanding
}

// BoardStanding is the institution's place on one board, now and in the
// previous round.
type BoardStanding struct {
	Board         Board
	Rank          int64
	OutOf         int64
	Percentile    string
	PreviousYear  int32
	PreviousRank  int64
	PreviousOutOf int64
	PreviousScore string
	Movement      board.Movement
	RankChange    int32
}

// GetStandingHandler reads a standing.
type GetStandingHandler struct {
	boards Boards
	names  Names
}

// NewGetStandingHandler returns the handler.
func NewGetStandingHandler(b Boards, n Names) GetStandingHandler {
	return GetStandingHandler{boards: b, names: n}
}

// Handle reads the standing; NotFound when the institution has no record in
// the round, PermissionDenied when the audience may not see the round.
func (h GetStandingHandler) Handle(ctx context.Context, q GetStanding) (Standing, error) {
	st, err := h.boards.Standing(ctx, q.Scheme, q.Year, q.InstitutionID)
	if err != nil {
		return Standing{}, err
	}
	// Before the NotFound: whether an institution has a provisional record
	// is itself provisional.
	if err := q.Audience.admit(st.Round); err != nil {
		return Standing{}, err
	}
	if !st.Found {
		return Standing{}, fault.NotFoundf("%s has no record in round %s", q.InstitutionID, st.Round.ID)
	}
	in, found, err := h.names.Institution(ctx, q.InstitutionID)
	if err != nil {
		return Standing{}, err
	}
	out := Standing{
		InstitutionID: q.InstitutionID, Name: st.Entry.Name, RoundID: st.Round.ID, Final: st.Round.Final,
		BandCode: st.Entry.Band, BandLabel: st.Band.Label, BandZone: st.Band.Zone, Basis: st.Entry.Basis,
		Synthetic: st.Entry.Synthetic,
	}
	if found {
		out.Name = in.Name
	}
	if st.Entry.Scored {
		out.Score = board.FormatScore(st.Entry.Score, st.Round.Precision)
	}
	if out.Standings, err = standingsOf(ctx, describer{h.names}, st, q.Audience); err != nil {
		return Standing{}, err
	}
	return out, nil
}

// standingsOf builds the board standings of one round's record (none for a
// band-only record: it is on no ranking). A previous round the audience may
// not see is left out of the comparison: its ranks and score are
// provisional, so the previous figures stay empty and the movement
// unspecified (not NEW: the institution may well have been ranked then).
func standingsOf(ctx context.Context, d describer, st *board.Standing, a Audience) ([]BoardStanding, error) {
	if !st.Entry.Scored {
		return nil, nil
	}
	var out []BoardStanding
	for _, b := range st.Boards {
		bd, err := d.board(ctx, st.Round, b.ID, b.Group, b.Count, b.UpdateMs)
		if err != nil {
			return nil, err
		}
		rank := b.Higher + 1
		s := BoardStanding{Board: bd, Rank: rank, OutOf: b.Count, Percentile: board.Percentile(b.Lower, b.Count)}
		if st.PrevYear != 0 && !a.sees(st.PrevRound) {
			out = append(out, s)
			continue
		}
		s.PreviousYear, s.PreviousRank, s.PreviousOutOf = st.PrevYear, b.PrevRank, b.PrevCount
		if st.PrevEntry != nil && st.PrevEntry.Scored && b.PrevRank > 0 {
			s.PreviousScore = board.FormatScore(st.PrevEntry.Score, st.PrevRound.Precision)
		}
		s.Movement, s.RankChange = board.Move(int32(rank), int32(b.PrevRank))
		out = append(out, s)
	}
	return out, nil
}
