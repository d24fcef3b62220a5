package server

import (
	"context"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	"github.com/predikat-id/predikat/services/ranking/internal/app"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
	"github.com/predikat-id/predikat/services/ranking/internal/cache"
)

// answers keeps whole responses of the two hottest reads. A response is
// kept with the round it belongs to: who may see it is judged on every
// call (the audience of this call against the round as it was read), never
// remembered. Responses are shared between calls and never changed once
// stored.
type answers struct {
	f           *cache.Freshness
	leaderboard *cache.Cache[cached[*rankingv1.GetLeaderboardResponse]]
	standing    *cache.Cache[cached[*rankingv1.GetStandingResponse]]
}

type cached[T any] struct {
	resp  T
	round board.Round
}

func newAnswers(f *cache.Freshness, maxBytes int64) *answers {
	// GetLeaderboard pages are larger and more numerous.
	return &answers{
		f:           f,
		leaderboard: cache.New[cached[*rankingv1.GetLeaderboardResponse]](f, maxBytes*3/4),
		standing:    cache.New[cached[*rankingv1.GetStandingResponse]](f, maxBytes/4),
	}
}

// Stats are the two caches' counters.
func (a *answers) Stats() (leaderboard, standing cache.Stats) {
	return a.leaderboard.Stats(), a.standing.Stats()
}

// sizeOf estimates what a response costs in memory: its encoded size
// several times over (strings, headers, slices of pointers).
func sizeOf(m proto.Message) int { return 3*proto.Size(m) + 256 }

func (a *answers) leaderboardGet(ctx context.Context, req *rankingv1.GetLeaderboardRequest, aud app.Audience,
	read func(context.Context, *rankingv1.GetLeaderboardRequest, app.Audience) (*rankingv1.GetLeaderboardResponse, board.Round, error),
) (*rankingv1.GetLeaderboardResponse, error) {
	return through(ctx, a.f, a.leaderboard, leaderboardKey(req), req, aud, read)
}

func (a *answers) standingGet(ctx context.Context, req *rankingv1.GetStandingRequest, aud app.Audience,
	read func(context.Context, *rankingv1.GetStandingRequest, app.Audience) (*rankingv1.GetStandingResponse, board.Round, error),
) (*rankingv1.GetStandingResponse, error) {
	// The previous round's figures are left out for an audience that may
	// not see that round: the two audiences get different answers.
	return through(ctx, a.f, a.standing, standingKey(req, aud.PublishedOnly), req, aud, read)
}

// through answers from c when it holds key (if the audience may see the
// round the answer was read from), from read otherwise. The ticket is
// taken before the read so that a change seen while it runs keeps the
// answer out of the cache.
func through[Req any, Resp proto.Message](ctx context.Context, f *cache.Freshness, c *cache.Cache[cached[Resp]], key string,
	req Req, aud app.Audience, read func(context.Context, Req, app.Audience) (Resp, board.Round, error),
) (Resp, error) {
	var none Resp
	if hit, ok := c.Get(key); ok {
		if err := aud.Admit(hit.round); err != nil {
			return none, err
		}
		return hit.resp, nil
	}
	t := f.Ticket()
	resp, r, err := read(ctx, req, aud)
	if err != nil {
		return none, err
	}
	c.Put(t, key, cached[Resp]{resp: resp, round: r}, sizeOf(resp))
	return resp, nil
}

// leaderboardKey is every field of the request; the page token last, as
// it is the one field that may hold anything.
func leaderboardKey(req *rankingv1.GetLeaderboardRequest) string {
	b := req.GetBoard()
	var sb strings.Builder
	sb.Grow(len(b.GetSchemeId()) + len(b.GetPeerGroup()) + len(b.GetScope()) + len(req.GetPageToken()) + 24)
	sb.WriteString(b.GetSchemeId())
	sb.WriteByte(0)
	sb.WriteString(strconv.Itoa(int(b.GetYear())))
	sb.WriteByte(0)
	sb.WriteString(b.GetPeerGroup())
	sb.WriteByte(0)
	sb.WriteString(b.GetScope())
	sb.WriteByte(0)
	sb.WriteString(strconv.Itoa(int(req.GetPageSize())))
	sb.WriteByte(0)
	sb.WriteString(req.GetPageToken())
	return sb.String()
}

func standingKey(req *rankingv1.GetStandingRequest, publishedOnly bool) string {
	var sb strings.Builder
	sb.Grow(len(req.GetSchemeId()) + len(req.GetInstitutionId()) + 16)
	sb.WriteString(req.GetSchemeId())
	sb.WriteByte(0)
	sb.WriteString(strconv.Itoa(int(req.GetYear())))
	sb.WriteByte(0)
	sb.WriteString(req.GetInstitutionId())
	sb.WriteByte(0)
	if publishedOnly {
		sb.WriteByte('p')
	}
	return sb.String()
}

// CacheStats are the counters of the answer caches; ok is false without
// a cache.
func (s *Server) CacheStats() (leaderboard, standing cache.Stats, ok bool) {
	if s.answers == nil {
		return cache.Stats{}, cache.Stats{}, false
	}
	l, st := s.answers.Stats()
	return l, st, true
}
