package app

import (
	"context"

	"github.com/predikat-id/predikat/pkg/decimal"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// GetInstitutionTrend asks for an institution's record across a scheme's
// rounds, optionally within [YearFrom, YearTo] (0: open).
type GetInstitutionTrend struct {
	Scheme        string
	InstitutionID string
	YearFrom      int32
	YearTo        int32
	Audience      Audience
}

// Trend is an institution's record round by round, oldest first.
type Trend struct {
	InstitutionID string
	Scheme        string
	Name          string
	Points        []TrendPoint
}

// TrendPoint is the institution's record in one round.
type TrendPoint struct {
	Year          int32
	RoundID       string
	SchemeVersion string
	Final         bool
	BandCode      string
	BandLabel     string
	BandZone      board.Zone
	Basis         board.Basis
	Score         string
	ScoreChange   string // against the previous point, signed; "" when either is unscored
	Standings     []BoardStanding
}

// GetInstitutionTrendHandler reads a trend.
type GetInstitutionTrendHandler struct {
	boards Boards
	names  Names
}

// NewGetInstitutionTrendHandler returns the handler.
func NewGetInstitutionTrendHandler(b Boards, n Names) GetInstitutionTrendHandler {
	return GetInstitutionTrendHandler{boards: b, names: n}
}

// Handle reads the trend; NotFound when the scheme has no rounds, or the
// institution is neither in the registry nor in any round. The rounds the
// audience may not see are left out, not refused: a trend spans rounds, and
// the published ones are the published-only reader's whole trend. Score
// changes are then against the previous point shown.
func (h GetInstitutionTrendHandler) Handle(ctx context.Context, q GetInstitutionTrend) (Trend, error) {
	years, err := h.boards.Years(ctx, q.Scheme, 0, 0)
	if err != nil {
		return Trend{}, err
	}
	if len(years) == 0 {
		return Trend{}, fault.NotFoundf("scheme %q has no rounds", q.Scheme)
	}
	out := Trend{InstitutionID: q.InstitutionID, Scheme: q.Scheme}
	var prev *board.Standing
	for _, y := range years {
		if (q.YearFrom != 0 && y < q.YearFrom) || (q.YearTo != 0 && y > q.YearTo) {
			continue
		}
		st, err := h.boards.Standing(ctx, q.Scheme, y, q.InstitutionID)
		if err != nil {
			return Trend{}, err
		}
		if !st.Found || !q.Audience.sees(st.Round) {
			continue
		}
		pt, err := h.point(ctx, y, st, prev, q.Audience)
		if err != nil {
			return Trend{}, err
		}
		out.Points = append(out.Points, pt)
		out.Name = st.Entry.Name
		prev = st
	}
	return h.named(ctx, q, out)
}

// named gives the trend the institution's current name; an institution
// the registry does not know needs at least one point to exist.
func (h GetInstitutionTrendHandler) named(ctx context.Context, q GetInstitutionTrend, out Trend) (Trend, error) {
	in, found, err := h.names.Institution(ctx, q.InstitutionID)
	if err != nil {
		return Trend{}, err
	}
	switch {
	case found:
		out.Name = in.Name
	case len(out.Points) == 0 && q.Audience.PublishedOnly:
		return Trend{}, fault.NotFoundf("institution %q is not in the registry and has no record in a published round of scheme %q", q.InstitutionID, q.Scheme)
	case len(out.Points) == 0:
		return Trend{}, fault.NotFoundf("institution %q is not in the registry and has no record in scheme %q", q.InstitutionID, q.Scheme)
	}
	return out, nil
}

func (h GetInstitutionTrendHandler) point(ctx context.Context, y int32, st, prev *board.Standing, a Audience) (TrendPoint, error) {
	pt := TrendPoint{
		Year: y, RoundID: st.Round.ID, SchemeVersion: st.Round.Version, Final: st.Round.Final,
		BandCode: st.Entry.Band, BandLabel: st.Band.Label, BandZone: st.Band.Zone, Basis: st.Entry.Basis,
	}
	if st.Entry.Scored {
		pt.Score = board.FormatScore(st.Entry.Score, st.Round.Precision)
		if prev != nil && prev.Entry.Scored {
			pt.ScoreChange = change(st, prev)
		}
	}
	var err error
	pt.Standings, err = standingsOf(ctx, describer{h.names}, st, a)
	return pt, err
}

// change is the signed difference of two rounds' totals, exact ("" when the
// precisions cannot be reconciled).
func change(cur, prev *board.Standing) string {
	d, err := decimal.New(cur.Entry.Score, cur.Round.Precision).Sub(decimal.New(prev.Entry.Score, prev.Round.Precision))
	if err != nil {
		return ""
	}
	if d.Sign() > 0 {
		return "+" + d.String()
	}
	return d.String()
}
