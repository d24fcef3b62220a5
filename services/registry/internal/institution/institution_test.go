package institution

import (
	"strings"
	"testing"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/registry/internal/region"
)

func mustRegion(t *testing.T, code string) *region.Region {
	t.Helper()
	r, err := region.New(code, "R"+code, false)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCheckPlacement(t *testing.T) {
	type K = Kind
	cases := []struct {
		kind K
		code string
		ok   bool
	}{
		{KindProvincialGovernment, "63", true},
		{KindProvincialGovernment, "63.06", false},
		{KindRegencyGovernment, "63.06", true},
		{KindRegencyGovernment, "63.71", false},
		{KindCityGovernment, "63.71", true},
		{KindCityGovernment, "63.06", false},
		{KindCityGovernment, "63", false},
		{KindMinistry, "00", true},
		{KindMinistry, "63", false},
		{KindAgency, "00", true},
		{KindPoliceResort, "63.06", true},
		{KindPoliceResort, "63.71", true},
		{KindPoliceResort, "63", false},
		{KindLandOffice, "63.01", true},
		{KindPublicServiceMall, "63.72", true},
		{KindPublicServiceMall, "00", false},
		{KindServiceUnit, "00", true},
		{KindServiceUnit, "63", true},
		{KindServiceUnit, "63.06", true},
		{KindServiceUnit, "63.71", true},
		{KindUnspecified, "63", false},
	}
	for _, c := range cases {
		err := CheckPlacement(c.kind, mustRegion(t, c.code))
		if (err == nil) != c.ok {
			t.Errorf("%v at %s: err=%v, want ok=%v", c.kind, c.code, err, c.ok)
		}
		if err != nil && !fault.Is(err, fault.Invalid) {
			t.Errorf("%v at %s: want Invalid, got %v", c.kind, c.code, err)
		}
	}
	err := CheckPlacement(KindCityGovernment, mustRegion(t, "63.06"))
	if !strings.Contains(err.Error(), "city") || !strings.Contains(err.Error(), "63.06") {
		t.Errorf("message should name the level and the code: %v", err)
	}
}

func TestNormalizeRegion(t *testing.T) {
	if got := NormalizeRegion(KindMinistry, ""); got != "00" {
		t.Errorf("ministry with no region -> %q, want 00", got)
	}
	if got := NormalizeRegion(KindRegencyGovernment, ""); got != "" {
		t.Errorf("regency with no region -> %q, want empty (an error later)", got)
	}
	if got := NormalizeRegion(KindServiceUnit, ""); got != "" {
		t.Errorf("service unit with no region -> %q, want empty: it may sit at any level, so it must say which", got)
	}
}

func TestCheckKindFields(t *testing.T) {
	cases := []struct {
		name string
		in   Institution
		want string // a word of the refusal; "" for ok
	}{
		{"unit with parent and users", Institution{Kind: KindServiceUnit, ParentID: "pemkab-hss", YearlyServiceUsers: 12000}, ""},
		{"unit with parent, users unknown", Institution{Kind: KindServiceUnit, ParentID: "pemkab-hss"}, ""},
		{"unit at the maximum", Institution{Kind: KindServiceUnit, ParentID: "p", YearlyServiceUsers: MaxYearlyServiceUsers}, ""},
		{"unit without parent", Institution{Kind: KindServiceUnit, YearlyServiceUsers: 10}, "parent_id is required for a service unit"},
		{"unit with negative users", Institution{Kind: KindServiceUnit, ParentID: "p", YearlyServiceUsers: -1}, "yearly_service_users"},
		{"unit above the maximum", Institution{Kind: KindServiceUnit, ParentID: "p", YearlyServiceUsers: MaxYearlyServiceUsers + 1}, "yearly_service_users"},
		{"regency with users", Institution{Kind: KindRegencyGovernment, YearlyServiceUsers: 5}, "yearly_service_users is only for service units"},
		{"mall with users", Institution{Kind: KindPublicServiceMall, ParentID: "p", YearlyServiceUsers: 5}, "yearly_service_users is only for service units"},
		{"police resort without parent", Institution{Kind: KindPoliceResort}, ""},
	}
	for _, c := range cases {
		err := CheckKindFields(&c.in)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (!fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: want Invalid naming %q, got %v", c.name, c.want, err)
		}
	}
}

func TestApplyMaskYearlyServiceUsers(t *testing.T) {
	cur := &Institution{ID: "u", Kind: KindServiceUnit, ParentID: "p", YearlyServiceUsers: 100}
	next, err := ApplyMask(cur, &Institution{YearlyServiceUsers: 2500, Name: "ignored"}, []string{"yearly_service_users"})
	if err != nil {
		t.Fatal(err)
	}
	if next.YearlyServiceUsers != 2500 || next.Name != "" || cur.YearlyServiceUsers != 100 {
		t.Errorf("next %+v, cur %+v", next, cur)
	}
	if got := cur.Clone(); got.YearlyServiceUsers != 100 {
		t.Errorf("clone lost the users: %+v", got)
	}
}

func TestCleanNameAndIdentity(t *testing.T) {
	if _, err := CleanName("   "); !fault.Is(err, fault.Invalid) {
		t.Errorf("blank name: %v", err)
	}
	if _, err := CleanName(strings.Repeat("a", MaxNameLen+1)); !fault.Is(err, fault.Invalid) {
		t.Errorf("long name: %v", err)
	}
	n, _ := CleanName("  Pemerintah   Kabupaten HSS ")
	if n != "Pemerintah Kabupaten HSS" {
		t.Errorf("CleanName = %q", n)
	}
	k := KindRegencyGovernment
	if IdentityKey(k, "63.06", "Pemkab  HSS") != IdentityKey(k, "63.06", "pemkab hss.") {
		t.Error("case, spacing and punctuation must not make a different institution")
	}
	if IdentityKey(k, "63.06", "Pemkab HSS") == IdentityKey(k, "63.07", "Pemkab HSS") {
		t.Error("region must be part of the identity")
	}
}

func TestApplyMaskMovesHeadToHistory(t *testing.T) {
	cur := &Institution{ID: "pemkab-hss", Name: "Pemkab HSS",
		Head: &Head{Name: "Achmad Fikry", Title: "Bupati", TermStart: "2018-09-24"}}
	upd := &Institution{Name: "ignored", Head: &Head{Name: "Syafrudin Noor", Title: "Bupati", TermStart: "2025-02-20"}}
	next, err := ApplyMask(cur, upd, []string{"head"})
	if err != nil {
		t.Fatal(err)
	}
	if next.Name != "Pemkab HSS" {
		t.Errorf("unmasked field changed: %q", next.Name)
	}
	if next.Head.Name != "Syafrudin Noor" || len(next.PastHeads) != 1 || next.PastHeads[0].TermEnd != "2025-02-20" {
		t.Errorf("head history wrong: %+v", next)
	}
	if cur.Head.TermEnd != "" {
		t.Error("ApplyMask must not modify its input")
	}
	// Correcting the current head's title is not a change of head.
	fix := &Institution{Head: &Head{Name: "Syafrudin Noor", Title: "Bupati Hulu Sungai Selatan", TermStart: "2025-02-20"}}
	again, _ := ApplyMask(next, fix, []string{"head"})
	if len(again.PastHeads) != 1 {
		t.Errorf("title fix created history: %+v", again.PastHeads)
	}
	for _, bad := range [][]string{nil, {"kind"}, {"status"}, {"revision"}} {
		if _, err := ApplyMask(cur, upd, bad); !fault.Is(err, fault.Invalid) {
			t.Errorf("mask %v: want Invalid, got %v", bad, err)
		}
	}
}

func TestMatches(t *testing.T) {
	inst := &Institution{Name: "Pemerintah Kabupaten Hulu Sungai Selatan", Kind: KindRegencyGovernment,
		RegionCode: "63.06", Status: StatusActive, Aliases: []string{"Pemkab HSS"}}
	if !Matches(inst, nil, "63", 0, QueryWords("hulu SELATAN")) {
		t.Error("province filter and name words should match")
	}
	if !Matches(inst, nil, "", 0, QueryWords("hss")) {
		t.Error("alias should match")
	}
	if Matches(inst, nil, "64", 0, nil) || Matches(inst, []Kind{KindMinistry}, "", 0, nil) ||
		Matches(inst, nil, "", StatusRetired, nil) || Matches(inst, nil, "", 0, QueryWords("utara")) {
		t.Error("filters should exclude")
	}
}
