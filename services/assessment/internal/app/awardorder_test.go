package app

import (
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

// Awards come newest ceremony first; an award without a ceremony counts on
// the day it was granted; on one day the latest granted comes first.
func TestAwardsComeNewestCeremonyFirst(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	awards := []*model.Award{
		{ID: "aw-ombudsman", Ceremony: &model.Ceremony{Date: "2024-12-11"}, GrantTime: at("2024-12-11T02:00:00Z")},
		{ID: "aw-rb", Ceremony: &model.Ceremony{Date: "2025-04-17"}, GrantTime: at("2025-04-10T02:00:00Z")},
		{ID: "aw-sakip", Ceremony: &model.Ceremony{Date: "2025-04-17"}, GrantTime: at("2025-04-11T02:00:00Z")},
		{ID: "aw-none", GrantTime: at("2025-01-05T02:00:00Z")},
		{ID: "aw-a", Ceremony: &model.Ceremony{Date: "2019-10-01"}, GrantTime: at("2019-10-01T02:00:00Z")},
	}
	sort.Slice(awards, func(i, j int) bool { return AwardKey(awards[i]) < AwardKey(awards[j]) })
	var got []string
	for _, a := range awards {
		got = append(got, a.ID)
	}
	if want := []string{"aw-sakip", "aw-rb", "aw-none", "aw-ombudsman", "aw-a"}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	// Paging by the key continues where a page stopped.
	first, more := pageOf(awards, AwardKey, Page{Size: 2})
	rest, _ := pageOf(awards, AwardKey, Page{Size: 10, After: AwardKey(first[1])})
	if !more || len(first) != 2 || len(rest) != 3 || rest[0].ID != "aw-none" {
		t.Fatalf("pages %v / %v", first, rest)
	}
}
