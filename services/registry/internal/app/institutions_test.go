package app

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
	"github.com/predikat-id/predikat/services/registry/internal/region"
)

func hss() CreateInstitution {
	return CreateInstitution{
		ID: "pemkab-hss", Name: "  Pemerintah Kabupaten   Hulu Sungai Selatan ", Kind: institution.KindRegencyGovernment,
		RegionCode: "63.06", Aliases: []string{"Pemkab HSS"},
		Head: &institution.Head{Name: "Syafrudin Noor", Title: "Bupati", TermStart: "2025-02-20"},
	}
}

func mustCreate(t *testing.T, a *testApp, cmd CreateInstitution) *institution.Institution {
	t.Helper()
	in, err := a.CreateInstitution.Handle(context.Background(), cmd)
	if err != nil {
		t.Fatalf("create %s: %v", cmd.ID, err)
	}
	return in
}

func TestCreateInstitution(t *testing.T) {
	a := newTestApp()
	in := mustCreate(t, a, hss())
	if in.Name != "Pemerintah Kabupaten Hulu Sungai Selatan" || in.Status != institution.StatusActive || in.Revision == 0 {
		t.Errorf("created %+v", in)
	}
	if !in.CreateTime.Equal(a.clock.t) || !in.UpdateTime.Equal(a.clock.t) {
		t.Errorf("times %v %v, want the clock's %v", in.CreateTime, in.UpdateTime, a.clock.t)
	}
	ministry := mustCreate(t, a, CreateInstitution{Name: "Kementerian PANRB", Kind: institution.KindMinistry})
	if ministry.RegionCode != region.National || !strings.HasPrefix(ministry.ID, "i") {
		t.Errorf("ministry without region or id: region %q id %q", ministry.RegionCode, ministry.ID)
	}
	again := hss()
	again.ID = "other"
	if _, err := a.CreateInstitution.Handle(context.Background(), again); !fault.Is(err, fault.Exists) {
		t.Errorf("same kind, region and name: want Exists, got %v", err)
	}
}

func TestCreateInstitutionRejects(t *testing.T) {
	a := newTestApp()
	mustCreate(t, a, hss())
	_, err := a.RetireInstitution.Handle(context.Background(), RetireInstitution{ID: "pemkab-hss", Reason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		edit func(*CreateInstitution)
		want fault.Kind
	}{
		"blank name":       {func(c *CreateInstitution) { c.Name = " " }, fault.Invalid},
		"no region":        {func(c *CreateInstitution) { c.RegionCode = "" }, fault.Invalid},
		"malformed region": {func(c *CreateInstitution) { c.RegionCode = "63.6" }, fault.Invalid},
		"unknown region":   {func(c *CreateInstitution) { c.RegionCode = "64.04" }, fault.NotFound},
		"wrong level":      {func(c *CreateInstitution) { c.RegionCode = "63" }, fault.Invalid},
		"no kind":          {func(c *CreateInstitution) { c.Kind = institution.KindUnspecified }, fault.Invalid},
		"head term":        {func(c *CreateInstitution) { c.Head.TermEnd = "2020-01-01" }, fault.Invalid},
		"own parent":       {func(c *CreateInstitution) { c.ParentID = c.ID }, fault.Invalid},
		"missing parent":   {func(c *CreateInstitution) { c.ParentID = "nobody" }, fault.Precondition},
		"retired parent":   {func(c *CreateInstitution) { c.ParentID = "pemkab-hss" }, fault.Precondition},
	}
	for name, c := range cases {
		cmd := hss()
		cmd.ID, cmd.Name = "x", "Another"
		c.edit(&cmd)
		if _, err := a.CreateInstitution.Handle(context.Background(), cmd); !fault.Is(err, c.want) {
			t.Errorf("%s: want %v, got %v", name, c.want, err)
		}
	}
}

func TestCreateInstitutionPassesStoreErrors(t *testing.T) {
	a := newTestApp()
	a.store.fail = fault.Unavailablef("storage down")
	if _, err := a.CreateInstitution.Handle(context.Background(), hss()); !fault.Is(err, fault.Unavailable) {
		t.Errorf("want the store's Unavailable, got %v", err)
	}
}

func TestParentCycleIsRefused(t *testing.T) {
	a := newTestApp()
	top := mustCreate(t, a, CreateInstitution{ID: "top", Name: "Top", Kind: institution.KindMinistry})
	mid := mustCreate(t, a, CreateInstitution{ID: "mid", Name: "Mid", Kind: institution.KindAgency, ParentID: "top"})
	_, err := a.UpdateInstitution.Handle(context.Background(), UpdateInstitution{
		Changes: &institution.Institution{ID: top.ID, ParentID: mid.ID}, Paths: []string{"parent_id"}, ExpectedRevision: top.Revision,
	})
	if !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("want a cycle refused, got %v", err)
	}
}

func TestServiceUnit(t *testing.T) {
	a := newTestApp()
	ctx := context.Background()
	mustCreate(t, a, hss())
	unit := CreateInstitution{
		ID: "puskesmas-kandangan", Name: "Puskesmas Kandangan", Kind: institution.KindServiceUnit,
		RegionCode: "63.06", ParentID: "pemkab-hss", YearlyServiceUsers: 18000,
	}
	in := mustCreate(t, a, unit)
	if in.ParentID != "pemkab-hss" || in.YearlyServiceUsers != 18000 || in.RegionCode != "63.06" {
		t.Errorf("created %+v", in)
	}
	// A retry of the same request is the same request; old fingerprints
	// (without the field) are unchanged because 0 is left out.
	withID := unit
	withID.ID, withID.Name, withID.RequestID = "desk", "Loket Kandangan", "req-1"
	first := mustCreate(t, a, withID)
	if again := mustCreate(t, a, withID); again.ID != first.ID || again.Revision != first.Revision {
		t.Errorf("retry made %+v, first %+v", again, first)
	}
	plain, zero := hss(), hss()
	zero.YearlyServiceUsers = 0
	fp1, _ := plain.fingerprint()
	fp2, _ := zero.fingerprint()
	withUsers := hss()
	withUsers.YearlyServiceUsers = 1
	fp3, _ := withUsers.fingerprint()
	if fp1 != fp2 || fp1 == fp3 {
		t.Errorf("fingerprints: %s %s %s", fp1, fp2, fp3)
	}

	for name, c := range map[string]struct {
		edit func(*CreateInstitution)
		want fault.Kind
		word string
	}{
		"no parent":      {func(c *CreateInstitution) { c.ParentID = "" }, fault.Invalid, "parent_id is required for a service unit"},
		"missing parent": {func(c *CreateInstitution) { c.ParentID = "nobody" }, fault.Precondition, "does not exist"},
		"no region":      {func(c *CreateInstitution) { c.RegionCode = "" }, fault.Invalid, "region_code"},
		"users too many": {func(c *CreateInstitution) { c.YearlyServiceUsers = 2_000_000_000 }, fault.Invalid, "yearly_service_users"},
		"users on a regency": {func(c *CreateInstitution) {
			c.Kind, c.ParentID, c.Name = institution.KindRegencyGovernment, "", "Kabupaten Lain"
		}, fault.Invalid, "yearly_service_users is only for service units"},
	} {
		cmd := unit
		cmd.ID, cmd.Name = "x", "Another Unit"
		c.edit(&cmd)
		_, err := a.CreateInstitution.Handle(ctx, cmd)
		if !fault.Is(err, c.want) || !strings.Contains(err.Error(), c.word) {
			t.Errorf("%s: want %v naming %q, got %v", name, c.want, c.word, err)
		}
	}

	// Updatable through the mask; clearing the parent is refused.
	got, err := a.UpdateInstitution.Handle(ctx, UpdateInstitution{
		Changes: &institution.Institution{ID: in.ID, YearlyServiceUsers: 21000}, Paths: []string{"yearly_service_users"}, ExpectedRevision: in.Revision,
	})
	if err != nil || got.YearlyServiceUsers != 21000 || got.ParentID != "pemkab-hss" {
		t.Fatalf("update users: %+v %v", got, err)
	}
	_, err = a.UpdateInstitution.Handle(ctx, UpdateInstitution{
		Changes: &institution.Institution{ID: in.ID}, Paths: []string{"parent_id"}, ExpectedRevision: got.Revision,
	})
	if !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), "parent_id") {
		t.Errorf("clearing a unit's parent: want Invalid, got %v", err)
	}
	reg, err := a.GetInstitution.Handle(ctx, GetInstitution{ID: "pemkab-hss"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.UpdateInstitution.Handle(ctx, UpdateInstitution{
		Changes: &institution.Institution{ID: reg.ID, YearlyServiceUsers: 5}, Paths: []string{"yearly_service_users"}, ExpectedRevision: reg.Revision,
	})
	if !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), "yearly_service_users") {
		t.Errorf("users on a regency by update: want Invalid, got %v", err)
	}
}

func TestUpdateInstitution(t *testing.T) {
	a := newTestApp()
	in := mustCreate(t, a, hss())
	a.clock.t = a.clock.t.Add(time.Hour)
	upd := UpdateInstitution{
		Changes:          &institution.Institution{ID: in.ID, Name: "Pemkab  HSS", Head: &institution.Head{Name: "Someone Else", TermStart: "2030-01-01"}},
		Paths:            []string{"name", "head"},
		ExpectedRevision: in.Revision,
	}
	got, err := a.UpdateInstitution.Handle(context.Background(), upd)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Pemkab HSS" || got.Head.Name != "Someone Else" || len(got.PastHeads) != 1 || got.Revision <= in.Revision {
		t.Errorf("updated %+v", got)
	}
	if !got.UpdateTime.Equal(a.clock.t) || !got.CreateTime.Equal(in.CreateTime) {
		t.Errorf("times: create %v update %v", got.CreateTime, got.UpdateTime)
	}
	if _, err := a.UpdateInstitution.Handle(context.Background(), upd); !fault.Is(err, fault.Conflict) {
		t.Errorf("stale revision: want Conflict, got %v", err)
	}
	upd.ExpectedRevision = got.Revision
	for _, bad := range []UpdateInstitution{
		{Changes: &institution.Institution{}, Paths: []string{"name"}},
		{Changes: &institution.Institution{ID: in.ID}, Paths: []string{"kind"}, ExpectedRevision: got.Revision},
		{Changes: &institution.Institution{ID: in.ID, RegionCode: "63"}, Paths: []string{"region_code"}, ExpectedRevision: got.Revision},
	} {
		if _, err := a.UpdateInstitution.Handle(context.Background(), bad); !fault.Is(err, fault.Invalid) {
			t.Errorf("%+v: want Invalid, got %v", bad, err)
		}
	}
	if _, err := a.UpdateInstitution.Handle(context.Background(), UpdateInstitution{Changes: &institution.Institution{ID: "nobody"}, Paths: []string{"name"}}); !fault.Is(err, fault.NotFound) {
		t.Errorf("unknown id: want NotFound, got %v", err)
	}
}

func TestRetireInstitution(t *testing.T) {
	a := newTestApp()
	in := mustCreate(t, a, hss())
	if _, err := a.RetireInstitution.Handle(context.Background(), RetireInstitution{ID: in.ID, ExpectedRevision: in.Revision + 5}); !fault.Is(err, fault.Conflict) {
		t.Errorf("stale revision: want Conflict, got %v", err)
	}
	got, err := a.RetireInstitution.Handle(context.Background(), RetireInstitution{ID: in.ID, Reason: "  merged  "})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != institution.StatusRetired || got.RetireReason != "merged" {
		t.Errorf("retired %+v", got)
	}
	if _, err := a.RetireInstitution.Handle(context.Background(), RetireInstitution{ID: in.ID}); !fault.Is(err, fault.Precondition) {
		t.Errorf("retire twice: want Precondition, got %v", err)
	}
	upd := UpdateInstitution{Changes: &institution.Institution{ID: in.ID, Name: "x"}, Paths: []string{"name"}, ExpectedRevision: got.Revision}
	if _, err := a.UpdateInstitution.Handle(context.Background(), upd); !fault.Is(err, fault.Precondition) {
		t.Errorf("update retired: want Precondition, got %v", err)
	}
	// The name is free again.
	cmd := hss()
	cmd.ID = "pemkab-hss-2"
	mustCreate(t, a, cmd)
}

func TestGetAndBatchGet(t *testing.T) {
	a := newTestApp()
	in := mustCreate(t, a, hss())
	got, err := a.GetInstitution.Handle(context.Background(), GetInstitution{ID: in.ID})
	if err != nil || got.Name != in.Name {
		t.Fatalf("get: %v %v", got, err)
	}
	all, err := a.BatchGetInstitutions.Handle(context.Background(), BatchGetInstitutions{IDs: []string{in.ID, in.ID}})
	if err != nil || len(all) != 2 {
		t.Fatalf("batch: %v %v", all, err)
	}
	_, err = a.BatchGetInstitutions.Handle(context.Background(), BatchGetInstitutions{IDs: []string{"a", in.ID, "b"}})
	if !fault.Is(err, fault.NotFound) || !strings.Contains(err.Error(), `"a" "b"`) {
		t.Errorf("batch with missing ids: want one NotFound naming both, got %v", err)
	}
}

func TestListInstitutionsPages(t *testing.T) {
	a := newTestApp()
	for _, name := range []string{"Delta", "Alpha", "Charlie", "Bravo", "Echo"} {
		mustCreate(t, a, CreateInstitution{ID: strings.ToLower(name), Name: name, Kind: institution.KindAgency})
	}
	mustCreate(t, a, hss())
	var names []string
	q := ListInstitutions{Kinds: []institution.Kind{institution.KindAgency}, Limit: 2}
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		p, err := a.ListInstitutions.Handle(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range p.Institutions {
			names = append(names, in.Name)
		}
		if p.NextAfter == "" {
			break
		}
		q.After = p.NextAfter
	}
	if got := strings.Join(names, ","); got != "Alpha,Bravo,Charlie,Delta,Echo" {
		t.Errorf("pages gave %s", got)
	}
	p, err := a.ListInstitutions.Handle(context.Background(), ListInstitutions{RegionCode: "63", Query: "hulu SELATAN", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	// A code the registry does not know is NotFound, never an empty page.
	if _, err := a.ListInstitutions.Handle(context.Background(), ListInstitutions{RegionCode: "99", Limit: 10}); !fault.Is(err, fault.NotFound) {
		t.Errorf("listing region 99: %v, want NotFound", err)
	}
	if len(p.Institutions) != 1 || p.NextAfter != "" {
		t.Errorf("query in a province: %+v", p)
	}
}

func TestRegions(t *testing.T) {
	a := newTestApp()
	ctx := context.Background()
	if _, err := a.GetRegion.Handle(ctx, GetRegion{Code: "6"}); !fault.Is(err, fault.Invalid) {
		t.Errorf("malformed code: %v", err)
	}
	if _, err := a.GetRegion.Handle(ctx, GetRegion{Code: "64.04"}); !fault.Is(err, fault.NotFound) {
		t.Errorf("unknown code: %v", err)
	}
	r, err := a.CreateRegion.Handle(ctx, CreateRegion{Code: "64.04", Name: " Contoh "})
	if err != nil || r.Name != "Contoh" || r.Level != region.LevelRegency || r.Builtin {
		t.Fatalf("create: %+v %v", r, err)
	}
	if _, err := a.CreateRegion.Handle(ctx, CreateRegion{Code: "64.04", Name: "Contoh"}); !fault.Is(err, fault.Exists) {
		t.Errorf("twice: %v", err)
	}
	if _, err := a.CreateRegion.Handle(ctx, CreateRegion{Code: "64.02", Name: " "}); !fault.Is(err, fault.Invalid) {
		t.Errorf("blank name: %v", err)
	}
	delete(a.store.regions, "65")
	if _, err := a.CreateRegion.Handle(ctx, CreateRegion{Code: "65.01", Name: "X"}); !fault.Is(err, fault.Precondition) {
		t.Errorf("no parent: %v", err)
	}
	provinces := a.ListRegions.Handle(ctx, ListRegions{Level: region.LevelProvince})
	kalsel := a.ListRegions.Handle(ctx, ListRegions{ProvinceCode: "63"})
	if len(provinces) != 37 || len(kalsel) != 14 || kalsel[0].Code != "63" {
		t.Errorf("provinces %d (want 37, one deleted), Kalimantan Selatan %d (want 14)", len(provinces), len(kalsel))
	}
}

func TestWatch(t *testing.T) {
	a := newTestApp()
	in := mustCreate(t, a, hss())
	a.feed.snap = []*institution.Institution{in}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan WatchEvent, 8)
	done := make(chan error, 1)
	go func() {
		done <- a.WatchInstitutions.Handle(ctx, WatchInstitutions{IncludeSnapshot: true}, func(e WatchEvent) error {
			events <- e
			return nil
		})
	}()
	if e := <-events; e.Change.Type != institution.ChangeSnapshot || e.Change.Institution != in {
		t.Errorf("first event %+v, want the snapshot", e)
	}
	if e := <-events; !e.SnapshotDone {
		t.Errorf("second event %+v, want the end of the snapshot", e)
	}
	sub := <-a.feed.subscribed
	sub.c <- institution.Change{Type: institution.ChangeUpdated, Institution: in}
	if e := <-events; e.Change.Type != institution.ChangeUpdated {
		t.Errorf("change %+v", e)
	}
	close(a.stopping)
	if err := <-done; !fault.Is(err, fault.Unavailable) {
		t.Errorf("on shutdown: want Unavailable, got %v", err)
	}
	if !sub.closed {
		t.Error("subscription left open")
	}
}

func TestWatchEnds(t *testing.T) {
	a := newTestApp()
	boom := errors.New("client gone")
	err := a.WatchInstitutions.Handle(context.Background(), WatchInstitutions{IncludeSnapshot: true}, func(WatchEvent) error { return boom })
	if !errors.Is(err, boom) {
		t.Errorf("failed send: got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- a.WatchInstitutions.Handle(ctx, WatchInstitutions{}, func(WatchEvent) error { return nil })
	}()
	<-a.feed.subscribed // the first watch's
	sub := <-a.feed.subscribed
	sub.err = errors.New("fell behind")
	close(sub.c)
	if err := <-done; !fault.Is(err, fault.Unavailable) || !strings.Contains(err.Error(), "fell behind") {
		t.Errorf("ended subscription: want Unavailable with its reason, got %v", err)
	}
	cancel()
}

// Every write keeps who made it: the registration its creator, every later
// change (update, retirement) its author, and a region the one who added
// it; the creator stays when others change the record.
func TestWritesKeepTheirActor(t *testing.T) {
	ctx := context.Background()
	a := newTestApp()
	cmd := hss()
	cmd.Actor = "user:editor-63"
	in := mustCreate(t, a, cmd)
	if in.CreatedBy != "user:editor-63" || in.UpdatedBy != "user:editor-63" {
		t.Fatalf("created by %q, updated by %q", in.CreatedBy, in.UpdatedBy)
	}
	upd, err := a.UpdateInstitution.Handle(ctx, UpdateInstitution{Changes: &institution.Institution{ID: in.ID, Name: "Pemkab Hulu Sungai Selatan"},
		Paths: []string{"name"}, ExpectedRevision: in.Revision, Actor: "spiffe://predikat/ops"})
	if err != nil {
		t.Fatal(err)
	}
	if upd.CreatedBy != "user:editor-63" || upd.UpdatedBy != "spiffe://predikat/ops" {
		t.Errorf("after an update: created by %q, updated by %q", upd.CreatedBy, upd.UpdatedBy)
	}
	ret, err := a.RetireInstitution.Handle(ctx, RetireInstitution{ID: in.ID, Reason: "merged", Actor: "user:editor-national"})
	if err != nil {
		t.Fatal(err)
	}
	if ret.CreatedBy != "user:editor-63" || ret.UpdatedBy != "user:editor-national" {
		t.Errorf("after retirement: created by %q, updated by %q", ret.CreatedBy, ret.UpdatedBy)
	}
	r, err := a.CreateRegion.Handle(ctx, CreateRegion{Code: "63.12", Name: "Kabupaten Uji", Actor: "user:editor-63"})
	if err != nil {
		t.Fatal(err)
	}
	if r.CreatedBy != "user:editor-63" {
		t.Errorf("region created by %q", r.CreatedBy)
	}
}
