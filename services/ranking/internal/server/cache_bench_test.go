package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	"github.com/predikat-id/predikat/services/ranking/internal/app"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
	"github.com/predikat-id/predikat/services/ranking/internal/cache"
	"github.com/predikat-id/predikat/services/ranking/internal/server"
	"github.com/predikat-id/predikat/services/ranking/internal/store"
)

// BenchmarkReads compares the ways of answering GetLeaderboard (top 10,
// and a page in the middle) and GetStanding, without the gRPC transport,
// on a board of 1,000 entries, one caller and many:
//
//   - redis: today's handler, one Lua script per call plus the handler's
//     work (decoding, names, the response);
//
//   - onetrip: the floor of any design that reads Redis on every call: one
//     EVALSHA of a script that reads the page (ZREVRANGE WITHSCORES and an
//     HMGET of its entries), nothing decoded;
//
//   - replies: the Redis replies kept in memory (what client-side caching
//     of Redis would save at best: no round trip, nothing decoded), the
//     handler's work (names, ordering, the response) done on every call;
//
//   - cached: the answer cache, confirmed, every call a hit.
//
//     go test -run '^$' -bench Reads -benchtime 2s ./internal/server/
func BenchmarkReads(b *testing.B) {
	rdb, st := benchStore(b)
	ctx := context.Background()
	const n = 1000
	scheme := "bench1000"
	buildBoards(b, st, scheme, n, benchTarget)
	nm := targetNames()
	plain := server.New(st, nm, nil)
	f := cache.NewFreshness(time.Hour, nil)
	f.Confirm(time.Now())
	cached := server.New(st, nm, nil, server.WithCache(f, 32<<20))
	replies := server.New(&memoBoards{boardsPort: st, pages: map[string]*board.TiePage{}, standings: map[string]*board.Standing{}}, nm, nil)

	top := &rankingv1.GetLeaderboardRequest{Board: &rankingv1.BoardKey{SchemeId: scheme, Year: 2024, PeerGroup: "pemda", Scope: "00"}, PageSize: 10}
	mid := proto(top)
	// A page in the middle: follow the tokens half way down.
	for range n / 2 / 10 {
		resp, err := plain.GetLeaderboard(ctx, mid)
		if err != nil {
			b.Fatal(err)
		}
		mid = proto(top)
		mid.PageToken = resp.GetNextPageToken()
	}
	stand := &rankingv1.GetStandingRequest{InstitutionId: benchTarget.id, SchemeId: scheme, Year: 2024}

	tag := store.Tag(scheme, 2024)
	gen, err := rdb.HGet(ctx, store.Base+tag+":round", "gen").Result()
	if err != nil {
		b.Fatal(err)
	}
	prefix := store.GenPrefix(tag, gen)
	onetrip := redis.NewScript(`
local l = redis.call('ZREVRANGE', KEYS[1], 0, 9, 'WITHSCORES')
local ids = {}
for i = 1, #l, 2 do ids[#ids + 1] = l[i] end
return {l, redis.call('HMGET', KEYS[2], unpack(ids))}`)
	if err := onetrip.Load(ctx, rdb).Err(); err != nil {
		b.Fatal(err)
	}

	reads := []struct {
		name string
		call func(*server.Server) error
	}{
		{"leaderboard-top10", func(s *server.Server) error { _, err := s.GetLeaderboard(ctx, top); return err }},
		{"leaderboard-middle", func(s *server.Server) error { _, err := s.GetLeaderboard(ctx, mid); return err }},
		{"standing", func(s *server.Server) error { _, err := s.GetStanding(ctx, stand); return err }},
	}
	for _, par := range []int{1, 50} {
		run := func(b *testing.B, fn func() error) { runCalls(b, par, fn) }
		for _, r := range reads {
			b.Run(fmt.Sprintf("%s/redis/c%d", r.name, par), func(b *testing.B) { run(b, func() error { return r.call(plain) }) })
			b.Run(fmt.Sprintf("%s/replies/c%d", r.name, par), func(b *testing.B) { run(b, func() error { return r.call(replies) }) })
			b.Run(fmt.Sprintf("%s/cached/c%d", r.name, par), func(b *testing.B) { run(b, func() error { return r.call(cached) }) })
		}
		b.Run(fmt.Sprintf("onetrip/c%d", par), func(b *testing.B) {
			run(b, func() error {
				return onetrip.EvalSha(ctx, rdb, []string{prefix + "z:pemda:00", prefix + "e"}).Err()
			})
		})
	}
}

func proto(r *rankingv1.GetLeaderboardRequest) *rankingv1.GetLeaderboardRequest {
	return &rankingv1.GetLeaderboardRequest{Board: r.GetBoard(), PageSize: r.GetPageSize(), PageToken: r.GetPageToken()}
}

type boardsPort = app.Boards

// memoBoards keeps every page and standing read, forever: the store's
// replies as a client-side cache of Redis would hold them, already decoded.
type memoBoards struct {
	boardsPort
	mu        sync.Mutex
	pages     map[string]*board.TiePage
	standings map[string]*board.Standing
}

func (m *memoBoards) Page(ctx context.Context, scheme string, year int32, boardID string, size int, cur *board.Cursor) (*board.TiePage, error) {
	key := fmt.Sprint(scheme, year, boardID, size, cur)
	m.mu.Lock()
	p, ok := m.pages[key]
	m.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := m.boardsPort.Page(ctx, scheme, year, boardID, size, cur)
	if err == nil {
		m.mu.Lock()
		m.pages[key] = p
		m.mu.Unlock()
	}
	return p, err
}

func (m *memoBoards) Standing(ctx context.Context, scheme string, year int32, inst string) (*board.Standing, error) {
	key := fmt.Sprint(scheme, year, inst)
	m.mu.Lock()
	s, ok := m.standings[key]
	m.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := m.boardsPort.Standing(ctx, scheme, year, inst)
	if err == nil {
		m.mu.Lock()
		m.standings[key] = s
		m.mu.Unlock()
	}
	return s, err
}
