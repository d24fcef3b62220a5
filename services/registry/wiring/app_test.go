package wiring_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/testenv/grpctest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"github.com/predikat-id/predikat/pkg/platform/testenv/pkitest"
	"github.com/predikat-id/predikat/services/registry/wiring"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// replica is one running registry process (in-process) and a client to it.
type replica struct {
	client registryv1.RegistryServiceClient
	stop   func()
}

func startReplica(t *testing.T, ns *natstest.Server) *replica {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- wiring.Run(ctx, wiring.Config{Addr: "127.0.0.1:0", NATS: ns.Conn(t), Logger: natstest.Logger(t),
			Security:  pkitest.Security(t, "registry"),
			OnServing: func(a string) { addr <- a }})
	}()
	var a string
	select {
	case a = <-addr:
	case err := <-done:
		t.Fatalf("registry did not start: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("registry did not become ready in 15s")
	}
	cc := pkitest.Dial(t, a, "admin")
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cc.Close()
			cancel()
			if err := <-done; err != nil {
				t.Errorf("registry stopped with error: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &replica{client: registryv1.NewRegistryServiceClient(cc), stop: stop}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var wantCode = grpctest.WantCode

func hssGov() *registryv1.Institution {
	return &registryv1.Institution{
		Name: "Pemerintah Kabupaten Hulu Sungai Selatan", Kind: registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT,
		RegionCode: "63.06", Aliases: []string{"Pemkab HSS"},
		Head: &registryv1.Head{Name: "Syafrudin Noor", Title: "Bupati Hulu Sungai Selatan", TermStart: "2025-02-20"},
	}
}

func create(t *testing.T, c registryv1.RegistryServiceClient, id string, in *registryv1.Institution) *registryv1.Institution {
	t.Helper()
	resp, err := c.CreateInstitution(ctxT(t), &registryv1.CreateInstitutionRequest{InstitutionId: id, Institution: in})
	if err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
	return resp.GetInstitution()
}

func TestRegions(t *testing.T) {
	r := startReplica(t, natstest.Start(t))
	ctx := ctxT(t)
	all, err := r.client.ListRegions(ctx, &registryv1.ListRegionsRequest{Level: registryv1.RegionLevel_REGION_LEVEL_PROVINCE})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(all.GetRegions()); n != 38 {
		t.Fatalf("provinces = %d, want 38", n)
	}
	// Every Kemendagri region: 38 provinces and 514 regencies and cities;
	// the national level on its own.
	every, err := r.client.ListRegions(ctx, &registryv1.ListRegionsRequest{})
	if err != nil || len(every.GetRegions()) != 552 {
		t.Fatalf("ListRegions = %d regions, %v; want 552", len(every.GetRegions()), err)
	}
	national, err := r.client.ListRegions(ctx, &registryv1.ListRegionsRequest{Level: registryv1.RegionLevel_REGION_LEVEL_NATIONAL})
	if err != nil || len(national.GetRegions()) != 1 || national.GetRegions()[0].GetCode() != "00" {
		t.Fatalf("national level = %v, %v", national, err)
	}
	bandung, err := r.client.GetRegion(ctx, &registryv1.GetRegionRequest{Code: "32.04"})
	if err != nil || bandung.GetRegion().GetName() != "Bandung" || bandung.GetRegion().GetProvinceCode() != "32" {
		t.Fatalf("GetRegion 32.04 = %v, %v", bandung, err)
	}
	kalsel, err := r.client.ListRegions(ctx, &registryv1.ListRegionsRequest{ProvinceCode: "63"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(kalsel.GetRegions()); n != 14 { // the province and its 13 regencies and cities
		t.Fatalf("regions in 63 = %d, want 14", n)
	}
	got, err := r.client.GetRegion(ctx, &registryv1.GetRegionRequest{Code: "63.71"})
	if err != nil || got.GetRegion().GetName() != "Kota Banjarmasin" || got.GetRegion().GetLevel() != registryv1.RegionLevel_REGION_LEVEL_CITY {
		t.Fatalf("GetRegion 63.71 = %v, %v", got, err)
	}
	_, err = r.client.GetRegion(ctx, &registryv1.GetRegionRequest{Code: "63.13"})
	wantCode(t, err, codes.NotFound, "63.13")
	_, err = r.client.GetRegion(ctx, &registryv1.GetRegionRequest{Code: "6306"})
	wantCode(t, err, codes.InvalidArgument, "code")

	created, err := r.client.CreateRegion(ctx, &registryv1.CreateRegionRequest{Code: "64.04", Name: "Contoh"})
	if err != nil || created.GetRegion().GetLevel() != registryv1.RegionLevel_REGION_LEVEL_REGENCY {
		t.Fatalf("CreateRegion = %v, %v", created, err)
	}
	_, err = r.client.CreateRegion(ctx, &registryv1.CreateRegionRequest{Code: "64.04", Name: "Contoh"})
	wantCode(t, err, codes.AlreadyExists, "64.04")
	_, err = r.client.CreateRegion(ctx, &registryv1.CreateRegionRequest{Code: "97.01", Name: "Nowhere"})
	wantCode(t, err, codes.FailedPrecondition, "97")
}

func TestInstitutionLifecycle(t *testing.T) {
	r := startReplica(t, natstest.Start(t))
	ctx := ctxT(t)
	hss := create(t, r.client, "pemkab-hss", hssGov())
	if hss.GetRevision() == 0 || hss.GetStatus() != registryv1.InstitutionStatus_INSTITUTION_STATUS_ACTIVE || hss.GetCreateTime() == nil {
		t.Fatalf("created = %v", hss)
	}
	polres := create(t, r.client, "", &registryv1.Institution{Name: "Polres Hulu Sungai Selatan",
		Kind: registryv1.InstitutionKind_INSTITUTION_KIND_POLICE_RESORT, RegionCode: "63.06"})
	if polres.GetId() == "" {
		t.Fatal("no id assigned")
	}
	create(t, r.client, "kantah-tanah-laut", &registryv1.Institution{Name: "Kantor Pertanahan Kabupaten Tanah Laut",
		Kind: registryv1.InstitutionKind_INSTITUTION_KIND_LAND_OFFICE, RegionCode: "63.01"})
	create(t, r.client, "pemprov-kalsel", &registryv1.Institution{Name: "Pemerintah Provinsi Kalimantan Selatan",
		Kind: registryv1.InstitutionKind_INSTITUTION_KIND_PROVINCIAL_GOVERNMENT, RegionCode: "63"})
	create(t, r.client, "kemenpanrb", &registryv1.Institution{Name: "Kementerian PANRB", Kind: registryv1.InstitutionKind_INSTITUTION_KIND_MINISTRY})
	create(t, r.client, "pemprov-kaltim", &registryv1.Institution{Name: "Pemerintah Provinsi Kalimantan Timur",
		Kind: registryv1.InstitutionKind_INSTITUTION_KIND_PROVINCIAL_GOVERNMENT, RegionCode: "64"})

	got, err := r.client.GetInstitution(ctx, &registryv1.GetInstitutionRequest{Id: "pemkab-hss"})
	if err != nil || got.GetInstitution().GetName() != hss.GetName() {
		t.Fatalf("get = %v, %v", got, err)
	}
	batch, err := r.client.BatchGetInstitutions(ctx, &registryv1.BatchGetInstitutionsRequest{Ids: []string{"kemenpanrb", "pemkab-hss"}})
	if err != nil || batch.GetInstitutions()[0].GetId() != "kemenpanrb" || batch.GetInstitutions()[1].GetId() != "pemkab-hss" {
		t.Fatalf("batch = %v, %v", batch, err)
	}
	_, err = r.client.BatchGetInstitutions(ctx, &registryv1.BatchGetInstitutionsRequest{Ids: []string{"pemkab-hss", "nope"}})
	wantCode(t, err, codes.NotFound, "nope")
	if ministry, _ := r.client.GetInstitution(ctx, &registryv1.GetInstitutionRequest{Id: "kemenpanrb"}); ministry.GetInstitution().GetRegionCode() != "00" {
		t.Fatalf("ministry without region should be national, got %q", ministry.GetInstitution().GetRegionCode())
	}

	// Province 63 holds everything inside it, and nothing of 64.
	list, err := r.client.ListInstitutions(ctx, &registryv1.ListInstitutionsRequest{RegionCode: "63"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range list.GetInstitutions() {
		names = append(names, in.GetName())
	}
	want := []string{"Kantor Pertanahan Kabupaten Tanah Laut", "Pemerintah Kabupaten Hulu Sungai Selatan", "Pemerintah Provinsi Kalimantan Selatan", "Polres Hulu Sungai Selatan"}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Fatalf("province 63 = %q, want %q", names, want)
	}
	q, _ := r.client.ListInstitutions(ctx, &registryv1.ListInstitutionsRequest{Query: "hss", Kinds: []registryv1.InstitutionKind{registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT}})
	if len(q.GetInstitutions()) != 1 || q.GetInstitutions()[0].GetId() != "pemkab-hss" {
		t.Fatalf("alias search = %v", q.GetInstitutions())
	}

	// Update: a new head moves the old one to history; a stale revision is Aborted.
	upd, err := r.client.UpdateInstitution(ctx, &registryv1.UpdateInstitutionRequest{
		Institution:      &registryv1.Institution{Id: "pemkab-hss", Head: &registryv1.Head{Name: "Penjabat Bupati", TermStart: "2026-01-01"}},
		UpdateMask:       &fieldmaskpb.FieldMask{Paths: []string{"head"}},
		ExpectedRevision: hss.GetRevision(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if upd.GetInstitution().GetRevision() <= hss.GetRevision() || len(upd.GetInstitution().GetPastHeads()) != 1 || upd.GetInstitution().GetName() != hss.GetName() {
		t.Fatalf("update = %v", upd.GetInstitution())
	}
	_, err = r.client.UpdateInstitution(ctx, &registryv1.UpdateInstitutionRequest{
		Institution: &registryv1.Institution{Id: "pemkab-hss", Name: "Pemkab HSS"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name"}},
		ExpectedRevision: hss.GetRevision(),
	})
	wantCode(t, err, codes.Aborted, "revision")
	_, err = r.client.UpdateInstitution(ctx, &registryv1.UpdateInstitutionRequest{
		Institution: &registryv1.Institution{Id: "pemkab-hss", Kind: registryv1.InstitutionKind_INSTITUTION_KIND_CITY_GOVERNMENT},
		UpdateMask:  &fieldmaskpb.FieldMask{Paths: []string{"kind"}}, ExpectedRevision: upd.GetInstitution().GetRevision(),
	})
	wantCode(t, err, codes.InvalidArgument, "kind")

	// Retire; a retired institution cannot be a parent, and its name is free again.
	ret, err := r.client.RetireInstitution(ctx, &registryv1.RetireInstitutionRequest{Id: polres.GetId(), Reason: "test"})
	if err != nil || ret.GetInstitution().GetStatus() != registryv1.InstitutionStatus_INSTITUTION_STATUS_RETIRED {
		t.Fatalf("retire = %v, %v", ret, err)
	}
	_, err = r.client.RetireInstitution(ctx, &registryv1.RetireInstitutionRequest{Id: polres.GetId(), Reason: "again"})
	wantCode(t, err, codes.FailedPrecondition, "already retired")
	_, err = r.client.CreateInstitution(ctx, &registryv1.CreateInstitutionRequest{Institution: &registryv1.Institution{
		Name: "Polsek Kandangan", Kind: registryv1.InstitutionKind_INSTITUTION_KIND_POLICE_RESORT, RegionCode: "63.06", ParentId: polres.GetId()}})
	wantCode(t, err, codes.FailedPrecondition, "retired")
	create(t, r.client, "polres-hss-2", &registryv1.Institution{Name: "Polres Hulu Sungai Selatan",
		Kind: registryv1.InstitutionKind_INSTITUTION_KIND_POLICE_RESORT, RegionCode: "63.06"})
	active, _ := r.client.ListInstitutions(ctx, &registryv1.ListInstitutionsRequest{Status: registryv1.InstitutionStatus_INSTITUTION_STATUS_RETIRED})
	if len(active.GetInstitutions()) != 1 || active.GetInstitutions()[0].GetId() != polres.GetId() {
		t.Fatalf("retired filter = %v", active.GetInstitutions())
	}
}

func TestBadInput(t *testing.T) {
	r := startReplica(t, natstest.Start(t))
	ctx := ctxT(t)
	create(t, r.client, "pemkab-hss", hssGov())
	kind := func(k registryv1.InstitutionKind, region, name string) *registryv1.Institution {
		return &registryv1.Institution{Kind: k, RegionCode: region, Name: name}
	}
	cases := []struct {
		name     string
		req      *registryv1.CreateInstitutionRequest
		code     codes.Code
		contains string
	}{
		{"unknown region", &registryv1.CreateInstitutionRequest{Institution: kind(registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT, "63.12", "X")}, codes.NotFound, "63.12"},
		{"malformed region", &registryv1.CreateInstitutionRequest{Institution: kind(registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT, "63.6", "X")}, codes.InvalidArgument, "region_code"},
		{"city government at a regency code", &registryv1.CreateInstitutionRequest{Institution: kind(registryv1.InstitutionKind_INSTITUTION_KIND_CITY_GOVERNMENT, "63.06", "X")}, codes.InvalidArgument, "city"},
		{"provincial government at a city code", &registryv1.CreateInstitutionRequest{Institution: kind(registryv1.InstitutionKind_INSTITUTION_KIND_PROVINCIAL_GOVERNMENT, "63.71", "X")}, codes.InvalidArgument, "province"},
		{"ministry in a province", &registryv1.CreateInstitutionRequest{Institution: kind(registryv1.InstitutionKind_INSTITUTION_KIND_MINISTRY, "63", "X")}, codes.InvalidArgument, "national"},
		{"no kind", &registryv1.CreateInstitutionRequest{Institution: kind(0, "63", "X")}, codes.InvalidArgument, "kind"},
		{"undefined kind", &registryv1.CreateInstitutionRequest{Institution: kind(99, "63", "X")}, codes.InvalidArgument, "kind"},
		{"duplicate", &registryv1.CreateInstitutionRequest{Institution: kind(registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT, "63.06", "pemerintah kabupaten  HULU sungai selatan")}, codes.AlreadyExists, "pemkab-hss"},
		{"duplicate id", &registryv1.CreateInstitutionRequest{InstitutionId: "pemkab-hss", Institution: kind(registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT, "63.07", "HST")}, codes.AlreadyExists, "pemkab-hss"},
		{"empty name", &registryv1.CreateInstitutionRequest{Institution: kind(registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT, "63.06", "   ")}, codes.InvalidArgument, "name"},
		{"over-long name", &registryv1.CreateInstitutionRequest{Institution: kind(registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT, "63.06", strings.Repeat("n", 201))}, codes.InvalidArgument, "name"},
		{"unknown parent", &registryv1.CreateInstitutionRequest{Institution: &registryv1.Institution{Kind: registryv1.InstitutionKind_INSTITUTION_KIND_POLICE_RESORT, RegionCode: "63.06", Name: "Polres", ParentId: "polri"}}, codes.FailedPrecondition, "polri"},
		{"bad id", &registryv1.CreateInstitutionRequest{InstitutionId: "Bad_ID", Institution: kind(registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT, "63.07", "HST")}, codes.InvalidArgument, "institution_id"},
		{"no institution", &registryv1.CreateInstitutionRequest{}, codes.InvalidArgument, "institution"},
		{"bad head term", &registryv1.CreateInstitutionRequest{Institution: &registryv1.Institution{Kind: registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT, RegionCode: "63.07", Name: "HST",
			Head: &registryv1.Head{Name: "A", TermStart: "2025-01-01", TermEnd: "2020-01-01"}}}, codes.InvalidArgument, "term_end"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := r.client.CreateInstitution(ctx, c.req)
			wantCode(t, err, c.code, c.contains)
		})
	}
	// A rejected create with a taken id must leave the owner's name claim
	// alone: the same name under yet another id is still a duplicate.
	_, err := r.client.CreateInstitution(ctx, &registryv1.CreateInstitutionRequest{InstitutionId: "pemkab-hss", Institution: hssGov()})
	wantCode(t, err, codes.AlreadyExists, "pemkab-hss")
	_, err = r.client.CreateInstitution(ctx, &registryv1.CreateInstitutionRequest{InstitutionId: "hss-again", Institution: hssGov()})
	wantCode(t, err, codes.AlreadyExists, "pemkab-hss")
	// Nothing of the rejected requests was written.
	list, err := r.client.ListInstitutions(ctx, &registryv1.ListInstitutionsRequest{})
	if err != nil || len(list.GetInstitutions()) != 1 {
		t.Fatalf("after rejected creates: %d institutions, %v", len(list.GetInstitutions()), err)
	}
	_, err = r.client.ListInstitutions(ctx, &registryv1.ListInstitutionsRequest{PageSize: 1001})
	wantCode(t, err, codes.InvalidArgument, "page_size")
	_, err = r.client.ListInstitutions(ctx, &registryv1.ListInstitutionsRequest{PageSize: -1})
	wantCode(t, err, codes.InvalidArgument, "page_size")
	_, err = r.client.ListInstitutions(ctx, &registryv1.ListInstitutionsRequest{PageToken: "garbage"})
	wantCode(t, err, codes.InvalidArgument, "page_token")
	_, err = r.client.GetInstitution(ctx, &registryv1.GetInstitutionRequest{Id: "nope"})
	wantCode(t, err, codes.NotFound, "nope")
	_, err = r.client.UpdateInstitution(ctx, &registryv1.UpdateInstitutionRequest{Institution: &registryv1.Institution{Id: "pemkab-hss"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"status"}}, ExpectedRevision: 1})
	wantCode(t, err, codes.InvalidArgument, "status")
}

func TestPagingIsStableAndComplete(t *testing.T) {
	r := startReplica(t, natstest.Start(t))
	ctx := ctxT(t)
	for i := range 7 {
		create(t, r.client, fmt.Sprintf("kantah-%d", i), &registryv1.Institution{Name: fmt.Sprintf("Kantor Pertanahan %d", 7-i),
			Kind: registryv1.InstitutionKind_INSTITUTION_KIND_LAND_OFFICE, RegionCode: fmt.Sprintf("63.%02d", i+1)})
	}
	var seen []string
	tok := ""
	for page := 0; ; page++ {
		resp, err := r.client.ListInstitutions(ctx, &registryv1.ListInstitutionsRequest{RegionCode: "63", PageSize: 3, PageToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range resp.GetInstitutions() {
			seen = append(seen, in.GetName())
		}
		if page == 0 {
			// An institution inserted before the cursor must not shift the next page.
			create(t, r.client, "aaa", &registryv1.Institution{Name: "AAA Kantor", Kind: registryv1.InstitutionKind_INSTITUTION_KIND_LAND_OFFICE, RegionCode: "63.71"})
		}
		if tok = resp.GetNextPageToken(); tok == "" {
			break
		}
	}
	want := "[Kantor Pertanahan 1 Kantor Pertanahan 2 Kantor Pertanahan 3 Kantor Pertanahan 4 Kantor Pertanahan 5 Kantor Pertanahan 6 Kantor Pertanahan 7]"
	if fmt.Sprint(seen) != want {
		t.Fatalf("pages = %v", seen)
	}
	first, _ := r.client.ListInstitutions(ctx, &registryv1.ListInstitutionsRequest{RegionCode: "63", PageSize: 3})
	_, err := r.client.ListInstitutions(ctx, &registryv1.ListInstitutionsRequest{RegionCode: "64", PageSize: 3, PageToken: first.GetNextPageToken()})
	wantCode(t, err, codes.InvalidArgument, "filters")
}

func TestConcurrentUpdatesExactlyOneWins(t *testing.T) {
	r := startReplica(t, natstest.Start(t))
	hss := create(t, r.client, "pemkab-hss", hssGov())
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = r.client.UpdateInstitution(ctxT(t), &registryv1.UpdateInstitutionRequest{
				Institution: &registryv1.Institution{Id: "pemkab-hss", Aliases: []string{fmt.Sprint("alias ", i)}},
				UpdateMask:  &fieldmaskpb.FieldMask{Paths: []string{"aliases"}}, ExpectedRevision: hss.GetRevision(),
			})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if status.Code(err) != codes.Aborted {
			t.Errorf("loser got %v, want Aborted", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d updates won, want exactly 1", ok)
	}
}

func TestRenameFreesTheOldName(t *testing.T) {
	r := startReplica(t, natstest.Start(t))
	hss := create(t, r.client, "pemkab-hss", hssGov())
	if _, err := r.client.UpdateInstitution(ctxT(t), &registryv1.UpdateInstitutionRequest{
		Institution: &registryv1.Institution{Id: "pemkab-hss", Name: "Pemkab HSS"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name"}},
		ExpectedRevision: hss.GetRevision(),
	}); err != nil {
		t.Fatal(err)
	}
	create(t, r.client, "other", hssGov()) // the old name is free
	_, err := r.client.CreateInstitution(ctxT(t), &registryv1.CreateInstitutionRequest{Institution: &registryv1.Institution{
		Name: "pemkab hss", Kind: registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT, RegionCode: "63.06"}})
	wantCode(t, err, codes.AlreadyExists, "pemkab-hss") // the new one is taken
}

func TestTwoReplicasSeeEachOthersWrites(t *testing.T) {
	ns := natstest.Start(t)
	a, b := startReplica(t, ns), startReplica(t, ns)
	watch, err := b.client.WatchInstitutions(ctxT(t), &registryv1.WatchInstitutionsRequest{IncludeSnapshot: true})
	if err != nil {
		t.Fatal(err)
	}
	if first, err := watch.Recv(); err != nil || !first.GetSnapshotDone() {
		t.Fatalf("empty snapshot should end at once: %v, %v", first, err)
	}
	start := time.Now()
	create(t, a.client, "pemkab-hss", hssGov())
	// ListInstitutions reads only B's in-memory index, so this measures how
	// long a write on A takes to reach B's index through the KV watcher.
	for {
		resp, err := b.client.ListInstitutions(ctxT(t), &registryv1.ListInstitutionsRequest{Query: "hulu sungai selatan"})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetInstitutions()) == 1 {
			break
		}
		if time.Since(start) > 100*time.Millisecond {
			t.Fatalf("write on replica A not visible on B after %v", time.Since(start))
		}
		time.Sleep(2 * time.Millisecond)
	}
	ev, err := watch.Recv()
	if err != nil || ev.GetType() != registryv1.ChangeType_CHANGE_TYPE_CREATED || ev.GetInstitution().GetId() != "pemkab-hss" {
		t.Fatalf("watch event = %v, %v", ev, err)
	}
	if _, err := a.client.RetireInstitution(ctxT(t), &registryv1.RetireInstitutionRequest{Id: "pemkab-hss", Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	if ev, err := watch.Recv(); err != nil || ev.GetType() != registryv1.ChangeType_CHANGE_TYPE_RETIRED {
		t.Fatalf("watch event = %v, %v", ev, err)
	}
}

func TestDataSurvivesRestart(t *testing.T) {
	ns := natstest.Start(t)
	r := startReplica(t, ns)
	create(t, r.client, "pemkab-hss", hssGov())
	if _, err := r.client.CreateRegion(ctxT(t), &registryv1.CreateRegionRequest{Code: "64.04", Name: "Contoh"}); err != nil {
		t.Fatal(err)
	}
	r.stop()
	ns.Restart(t)
	r2 := startReplica(t, ns)
	got, err := r2.client.GetInstitution(ctxT(t), &registryv1.GetInstitutionRequest{Id: "pemkab-hss"})
	if err != nil || got.GetInstitution().GetHead().GetName() != "Syafrudin Noor" {
		t.Fatalf("after restart: %v, %v", got, err)
	}
	list, _ := r2.client.ListInstitutions(ctxT(t), &registryv1.ListInstitutionsRequest{RegionCode: "63"})
	if len(list.GetInstitutions()) != 1 {
		t.Fatalf("index after restart has %d institutions", len(list.GetInstitutions()))
	}
	if _, err := r2.client.GetRegion(ctxT(t), &registryv1.GetRegionRequest{Code: "64.04"}); err != nil {
		t.Fatalf("created region lost: %v", err)
	}
}

func TestConcurrentCreatesOfOneNameRegisterItOnce(t *testing.T) {
	r := startReplica(t, natstest.Start(t))
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = r.client.CreateInstitution(ctxT(t), &registryv1.CreateInstitutionRequest{InstitutionId: fmt.Sprintf("hss-%d", i), Institution: hssGov()})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch status.Code(err) {
		case codes.OK:
			ok++
		case codes.AlreadyExists, codes.Aborted:
		default:
			t.Errorf("unexpected: %v", err)
		}
	}
	list, _ := r.client.ListInstitutions(ctxT(t), &registryv1.ListInstitutionsRequest{})
	if ok != 1 || len(list.GetInstitutions()) != 1 {
		t.Fatalf("%d creates succeeded, %d institutions; want one", ok, len(list.GetInstitutions()))
	}
}
