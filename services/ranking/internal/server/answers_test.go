package server

import (
	"context"
	"testing"
	"time"

	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/ranking/internal/app"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
	"github.com/predikat-id/predikat/services/ranking/internal/cache"
)

var (
	full      = app.Audience{}
	published = app.Audience{PublishedOnly: true, Lacking: "boards.read"}
)

// A cached answer is admitted on every call: a published-only caller never
// gets a provisional board a full-audience caller had cached, and gets it
// once the round is published (which moves the epoch).
func TestCachedAnswersAdmitEveryCall(t *testing.T) {
	f := cache.NewFreshness(time.Hour, nil)
	f.Confirm(time.Now())
	a := newAnswers(f, 1<<20)
	round := board.Round{Scheme: "ombudsman", Year: 2024}
	reads := 0
	read := func(_ context.Context, _ *rankingv1.GetLeaderboardRequest, aud app.Audience) (*rankingv1.GetLeaderboardResponse, board.Round, error) {
		reads++
		if err := aud.Admit(round); err != nil {
			return nil, board.Round{}, err
		}
		return &rankingv1.GetLeaderboardResponse{TotalEntries: 1}, round, nil
	}
	req := &rankingv1.GetLeaderboardRequest{Board: &rankingv1.BoardKey{SchemeId: "ombudsman", Year: 2024, PeerGroup: "pemda", Scope: "00"}, PageSize: 10}
	ctx := t.Context()
	if _, err := a.leaderboardGet(ctx, req, full, read); err != nil {
		t.Fatal(err)
	}
	if _, err := a.leaderboardGet(ctx, req, full, read); err != nil || reads != 1 {
		t.Fatalf("second full read: %v, %d reads", err, reads)
	}
	if _, err := a.leaderboardGet(ctx, req, published, read); !fault.Is(err, fault.Denied) || reads != 1 {
		t.Fatalf("published-only read of a cached provisional board: %v (%d reads)", err, reads)
	}
	round.Final = true
	f.Invalidate() // what applying RoundPublished does
	if _, err := a.leaderboardGet(ctx, req, published, read); err != nil || reads != 2 {
		t.Fatalf("published-only read of the published board: %v (%d reads)", err, reads)
	}
}

// The two audiences get different standings (previous figures of a round
// the published-only reader may not see are left out): they are kept
// apart.
func TestCachedStandingsPerAudience(t *testing.T) {
	f := cache.NewFreshness(time.Hour, nil)
	f.Confirm(time.Now())
	a := newAnswers(f, 1<<20)
	read := func(_ context.Context, _ *rankingv1.GetStandingRequest, aud app.Audience) (*rankingv1.GetStandingResponse, board.Round, error) {
		name := "full"
		if aud.PublishedOnly {
			name = "published"
		}
		return &rankingv1.GetStandingResponse{Name: name}, board.Round{Scheme: "ombudsman", Year: 2024, Final: true}, nil
	}
	req := &rankingv1.GetStandingRequest{InstitutionId: "pemkab-hss", SchemeId: "ombudsman", Year: 2024}
	for range 2 {
		for _, c := range []struct {
			aud  app.Audience
			want string
		}{{full, "full"}, {published, "published"}} {
			resp, err := a.standingGet(t.Context(), req, c.aud, read)
			if err != nil || resp.GetName() != c.want {
				t.Fatalf("%+v: %v, %v", c.aud, resp, err)
			}
		}
	}
	if _, st := a.Stats(); st.Hits != 2 || st.Entries != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestKeysTellRequestsApart(t *testing.T) {
	b := &rankingv1.BoardKey{SchemeId: "ombudsman", Year: 2024, PeerGroup: "pemda", Scope: "00"}
	keys := map[string]bool{}
	for _, r := range []*rankingv1.GetLeaderboardRequest{
		{Board: b}, {Board: b, PageSize: 10}, {Board: b, PageSize: 10, PageToken: "x"},
		{Board: &rankingv1.BoardKey{SchemeId: "ombudsman", Year: 2024, PeerGroup: "pemda", Scope: "63"}},
		{Board: &rankingv1.BoardKey{SchemeId: "ombudsman", Year: 2023, PeerGroup: "pemda", Scope: "00"}},
	} {
		keys[leaderboardKey(r)] = true
	}
	if len(keys) != 5 {
		t.Fatalf("%d keys for 5 requests", len(keys))
	}
}
