// Package access_test proves, on one running stack, that every method of
// the registry, assessment and ranking services refuses a caller with no
// credential, refuses an authenticated caller without the permission the
// method declares (writing nothing), and lets the right role through with
// its real effect. The methods are walked from the descriptors, so a method
// added without a fixture here fails the test.
package access_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/predikat-id/predikat/cmd/internal/stacktest"
	"github.com/predikat-id/predikat/pkg/events"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	authv1 "github.com/predikat-id/predikat/pkg/gen/predikat/auth/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/devpki"
	"github.com/predikat-id/predikat/pkg/platform/testenv/eventtest"
)

// services are the files whose services the walk covers.
var services = []protoreflect.FileDescriptor{
	registryv1.File_predikat_registry_v1_registry_proto,
	assessmentv1.File_predikat_assessment_v1_assessment_proto,
	assessmentv1.File_predikat_assessment_v1_objection_proto,
	assessmentv1.File_predikat_assessment_v1_ceremony_proto,
	assessmentv1.File_predikat_assessment_v1_survey_proto,
	rankingv1.File_predikat_ranking_v1_ranking_proto,
}

// allMethods is every method of every service, in declaration order.
func allMethods() []protoreflect.MethodDescriptor {
	var out []protoreflect.MethodDescriptor
	for _, f := range services {
		for i := range f.Services().Len() {
			ms := f.Services().Get(i).Methods()
			for j := range ms.Len() {
				out = append(out, ms.Get(j))
			}
		}
	}
	return out
}

// accessOf is the rule the method declares in its options.
func accessOf(t testing.TB, md protoreflect.MethodDescriptor) *authv1.Access {
	t.Helper()
	a, _ := proto.GetExtension(md.Options(), authv1.E_Access).(*authv1.Access)
	if a.GetPermission() == "" {
		t.Fatalf("%s declares no permission", md.FullName())
	}
	return a
}

// publicPerms are what the dev policy's "public" role holds: a caller
// denied one of them must hold no role at all.
var publicPerms = map[string]bool{"schemes.read": true, "rounds.read": true, "awards.read": true, "registry.read": true,
	"assessments.read.published": true, "boards.read.published": true, "ceremonies.read": true, "certificates.verify": true}

// deniedGroups are the groups of a token that lacks a method's permission:
// "public" when public lacks it too, and its published-only form (an
// identity with some roles, just not this one), none otherwise.
func deniedGroups(a *authv1.Access) []string {
	if publicPerms[a.GetPermission()] || publicPerms[a.GetPublishedPermission()] {
		return nil
	}
	return []string{"public"}
}

func TestEveryMethodIsGuarded(t *testing.T) {
	e := newEnv(t)
	e.seed(t)
	e.checkLogCovered(t)
	t.Run("actor is the certificate, not a header", e.checkSeedActors)

	fixtures := fixtures()
	byName := map[protoreflect.FullName]*fixture{}
	for i := range fixtures {
		byName[fixtures[i].method] = &fixtures[i]
	}
	methods := map[protoreflect.FullName]protoreflect.MethodDescriptor{}
	for _, md := range allMethods() {
		methods[md.FullName()] = md
		if byName[md.FullName()] == nil {
			t.Errorf("no fixture for %s", md.FullName())
		}
	}
	for _, f := range fixtures {
		md, ok := methods[f.method]
		if !ok {
			t.Errorf("fixture for %s, which no service declares", f.method)
			continue
		}
		// Sequential and in the fixtures' order: later fixtures build on
		// what earlier ones wrote (a created round, a granted award).
		t.Run(string(md.Parent().Name())+"/"+string(md.Name()), func(t *testing.T) { e.walk(t, md, f) })
	}

	t.Run("bad tokens", e.checkBadTokens)
}

// walk runs the three calls of one method: anonymous, without the
// permission, with the right role.
func (e *env) walk(t *testing.T, md protoreflect.MethodDescriptor, f fixture) {
	access := accessOf(t, md)
	perm := access.GetPermission()
	addr := e.addrOf(md)
	if f.setup != nil {
		f.setup(t, e)
	}
	req := f.req(t, e)

	e.refused(t, "no credentials", e.anonymous(addr), md, req, codes.Unauthenticated, "")
	named := fmt.Sprintf("permission %q", perm)
	e.refused(t, "token without the permission", e.bearer(addr, "nobody", deniedGroups(access)...), md, req, codes.PermissionDenied, named)
	if f.effect != read {
		// The reader certificate holds every read permission and no write:
		// an identity with roles, refused only for lacking this one.
		e.refused(t, "reader certificate", e.cert(addr, "reader"), md, req, codes.PermissionDenied, named)
	}

	before := e.settled(t)
	allowed := e.bearer(addr, f.role, f.role)
	if f.subject != "" {
		allowed = e.bearer(addr, f.subject)
	}
	resp, err := invoke(ctxT(t), allowed, md, req)
	if err != nil {
		t.Fatalf("as %s: %v", f.role, err)
	}
	if f.effect == logged {
		if after := e.logState(t); before.diff(after) == "" {
			t.Errorf("as %s: the call succeeded but no stream moved (%v)", f.role, after)
		}
	}
	if f.check != nil {
		if err := f.check(e, resp); err != nil {
			t.Errorf("as %s: %v (response %v)", f.role, err, resp)
		}
	}
}

// refused makes the call over cc, wants code, and wants the log exactly as
// it was: a refused call writes nothing.
func (e *env) refused(t *testing.T, who string, cc *grpc.ClientConn, md protoreflect.MethodDescriptor, req proto.Message, code codes.Code, contains string) {
	t.Helper()
	before := e.settled(t)
	_, err := invoke(ctxT(t), cc, md, req)
	wantStatus(t, who, err, code, contains)
	if d := before.diff(e.logState(t)); d != "" {
		t.Fatalf("%s: refused with %v, yet the log moved: %s", who, code, d)
	}
}

// Seeded state: the Ombudsman 2024 round of Kalimantan Selatan, recorded,
// closed and published (so awards exist and a published correction is
// possible), with its boards built by the ranking service.
const (
	round24  = "ombudsman-2024"
	round23  = "ombudsman-2023" // created, run through its lifecycle and published by the fixtures
	intruder = "spiffe://predikat/user/mallory"
)

var insts = []eventtest.Inst{
	{ID: "pemprov-kalsel", Name: "Pemerintah Provinsi Kalimantan Selatan", Kind: eventtest.Pemprov, Region: "63"},
	{ID: "pemkab-hss", Name: "Pemerintah Kabupaten Hulu Sungai Selatan", Kind: eventtest.Pemkab, Region: "63.06"},
	{ID: "polres-hss", Name: "Polres Hulu Sungai Selatan", Kind: eventtest.Polres, Region: "63.06"},
	{ID: "kantah-tanah-laut", Name: "Kantor Pertanahan Kabupaten Tanah Laut", Kind: eventtest.Kantah, Region: "63.01"},
	// Only for UpdateInstitution and RetireInstitution.
	{ID: "pemkab-tapin", Name: "Pemerintah Kabupaten Tapin", Kind: eventtest.Pemkab, Region: "63.05"},
	{ID: "pemkot-banjarmasin", Name: "Pemerintah Kota Banjarmasin", Kind: eventtest.Pemkot, Region: "63.71"},
}

var totals2024 = map[string]string{"pemprov-kalsel": "94.58", "pemkab-hss": "96.52", "polres-hss": "96.64", "kantah-tanah-laut": "99.57"}

var ceremony = &assessmentv1.Ceremony{Name: "Penganugerahan Predikat Kepatuhan Penyelenggaraan Pelayanan Publik",
	Place: "Banjarmasin", Date: "2024-12-11"}

func reported(total string) *assessmentv1.AssessmentInput {
	return &assessmentv1.AssessmentInput{Result: &assessmentv1.AssessmentInput_ReportedTotal{ReportedTotal: total}}
}

// seed writes the state the fixtures read, with the admin certificate and
// an actor header that claims someone else.
func (e *env) seed(t *testing.T) {
	t.Helper()
	(&stacktest.Registry{Client: e.reg}).Create(t, insts...)
	ctx := metadata.AppendToOutgoingContext(ctxT(t), "x-predikat-actor", intruder)
	if _, err := e.asm.CreateRound(ctx, &assessmentv1.CreateRoundRequest{SchemeId: "ombudsman", Year: 2024,
		CollectionStart: "2024-03-01", CollectionEnd: "2024-11-30"}); err != nil {
		t.Fatalf("create round: %v", err)
	}
	for inst, total := range totals2024 {
		if _, err := e.asm.RecordAssessment(ctx, &assessmentv1.RecordAssessmentRequest{RoundId: round24, InstitutionId: inst,
			Input: reported(total), RequestId: "seed-" + inst}); err != nil {
			t.Fatalf("record %s: %v", inst, err)
		}
	}
	if _, err := e.asm.CloseRound(ctx, &assessmentv1.CloseRoundRequest{RoundId: round24}); err != nil {
		t.Fatalf("close: %v", err)
	}
	if _, err := e.asm.PublishRound(ctx, &assessmentv1.PublishRoundRequest{RoundId: round24, ForceReason: "test: published at once", Ceremony: ceremony}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	e.waitBoard(t, pemda63, 2)
}

// pemda63 is the board of the local governments of Kalimantan Selatan:
// the province and HSS among the seeded institutions.
var pemda63 = &rankingv1.BoardKey{SchemeId: "ombudsman", Year: 2024, PeerGroup: "pemda", Scope: "63"}

func (e *env) waitBoard(t *testing.T, k *rankingv1.BoardKey, n int32) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := e.rank.GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{Board: k, PageSize: 1})
		if err == nil && resp.GetTotalEntries() == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("board %v: not %d entries in 15s: %v, %v", k, n, resp.GetTotalEntries(), err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// checkLogCovered makes sure the "nothing written" checks watch the system
// of record: the three event streams and the services' KV buckets.
func (e *env) checkLogCovered(t *testing.T) {
	t.Helper()
	st := e.logState(t)
	kv := 0
	for name := range st {
		if strings.HasPrefix(name, "KV_") {
			kv++
		}
	}
	for _, s := range []string{events.Assessments, events.Rounds, events.Awards} {
		if _, ok := st[s]; !ok {
			t.Fatalf("stream %s is not watched: %v", s, st)
		}
	}
	if kv == 0 {
		t.Fatalf("no KV bucket is watched: %v", st)
	}
	t.Logf("watched: %v", st)
}

// checkSeedActors reads back what the seed stored: the actor is the
// certificate's identity, whatever header the call sent.
func (e *env) checkSeedActors(t *testing.T) {
	want := devpki.UserURI("admin")
	r, err := e.asm.GetRound(ctxT(t), &assessmentv1.GetRoundRequest{RoundId: round24})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.GetRound().GetCreatedBy(); got != want {
		t.Errorf("round created_by = %q, want %q", got, want)
	}
	a, err := e.asm.GetAssessment(ctxT(t), &assessmentv1.GetAssessmentRequest{RoundId: round24, InstitutionId: "pemkab-hss"})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.GetAssessment().GetRecordedBy(); got != want {
		t.Errorf("assessment recorded_by = %q, want %q", got, want)
	}
	if strings.Contains(r.String()+a.String(), "mallory") {
		t.Errorf("the header's actor was stored: %v %v", r, a)
	}
}

// checkBadTokens: a token past its expiry, or signed by a key the services
// do not trust, is refused as no identity at all, even when it claims the
// admin group, and writes nothing.
func (e *env) checkBadTokens(t *testing.T) {
	md := registryv1.File_predikat_registry_v1_registry_proto.Services().Get(0).Methods().ByName("CreateRegion")
	addr := e.addrOf(md)
	req := &registryv1.CreateRegionRequest{Code: "63.13", Name: "Kabupaten Uji Token"}
	now := time.Now()

	// The control: a token made by signedToken, in date, is accepted, so
	// the refusals below are for the date and the key alone.
	good := signedToken(t, e.pki, "token-control", []string{"reader"}, now.Add(-time.Minute), now.Add(10*time.Minute))
	list := registryv1.File_predikat_registry_v1_registry_proto.Services().Get(0).Methods().ByName("ListRegions")
	if _, err := invoke(ctxT(t), e.withToken(addr, "control", good), list, &registryv1.ListRegionsRequest{}); err != nil {
		t.Fatalf("an in-date token signed like the expired one is refused: %v", err)
	}

	expired := signedToken(t, e.pki, "admin", []string{"admin"}, now.Add(-2*time.Hour), now.Add(-time.Hour))
	e.refused(t, "expired token", e.withToken(addr, "expired", expired), md, req, codes.Unauthenticated, "expired")

	other, err := devpki.Ensure(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := devpki.IssueToken(other, "admin", []string{"admin"}, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	e.refused(t, "token of another key", e.withToken(addr, "foreign", foreign), md, req, codes.Unauthenticated, "")
}

// The public role sees published results only: the published round's
// records and FINAL boards, never an open round's, which are refused naming
// the permission they need; a reader sees both.
func TestPublicSeesPublishedResultsOnly(t *testing.T) {
	e := newEnv(t)
	e.seed(t)
	if _, err := e.asm.CreateRound(ctxT(t), &assessmentv1.CreateRoundRequest{SchemeId: "ombudsman", Year: 2023}); err != nil {
		t.Fatalf("create round: %v", err)
	}
	if _, err := e.asm.RecordAssessment(ctxT(t), &assessmentv1.RecordAssessmentRequest{RoundId: "ombudsman-2023", InstitutionId: "pemkab-hss",
		Input: reported("91.00"), RequestId: "open-2023"}); err != nil {
		t.Fatal(err)
	}
	open23 := &rankingv1.BoardKey{SchemeId: "ombudsman", Year: 2023, PeerGroup: "pemda", Scope: "63"}
	e.waitBoard(t, open23, 1)

	asmAddr := e.addrs[protoreflect.FullName(assessmentv1.AssessmentService_ServiceDesc.ServiceName)]
	rankAddr := e.addrs[protoreflect.FullName(rankingv1.RankingService_ServiceDesc.ServiceName)]
	public := func(addr string) *grpc.ClientConn { return e.bearer(addr, "citizen", "public") }
	asm, rank := assessmentv1.NewAssessmentServiceClient(public(asmAddr)), rankingv1.NewRankingServiceClient(public(rankAddr))

	_, err := asm.GetAssessment(ctxT(t), &assessmentv1.GetAssessmentRequest{RoundId: "ombudsman-2023", InstitutionId: "pemkab-hss"})
	wantStatus(t, "public, open round", err, codes.PermissionDenied, `permission "assessments.read"`)
	_, err = asm.ListAssessments(ctxT(t), &assessmentv1.ListAssessmentsRequest{RoundId: "ombudsman-2023"})
	wantStatus(t, "public, open round list", err, codes.PermissionDenied, `permission "assessments.read"`)
	_, err = rank.GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{Board: open23})
	wantStatus(t, "public, provisional board", err, codes.PermissionDenied, `permission "boards.read"`)
	_, err = rank.GetStanding(ctxT(t), &rankingv1.GetStandingRequest{SchemeId: "ombudsman", Year: 2023, InstitutionId: "pemkab-hss"})
	wantStatus(t, "public, provisional standing", err, codes.PermissionDenied, `permission "boards.read"`)

	got, err := asm.GetAssessment(ctxT(t), &assessmentv1.GetAssessmentRequest{RoundId: round24, InstitutionId: "pemkab-hss"})
	if err != nil || got.GetAssessment().GetTotal() != totals2024["pemkab-hss"] {
		t.Fatalf("public, published record = %v, %v", got, err)
	}
	hist, err := asm.ListInstitutionHistory(ctxT(t), &assessmentv1.ListInstitutionHistoryRequest{InstitutionId: "pemkab-hss"})
	if err != nil || len(hist.GetAssessments()) != 1 || hist.GetAssessments()[0].GetYear() != 2024 {
		t.Fatalf("public history = %v, %v; want 2024 only", hist.GetAssessments(), err)
	}
	board, err := rank.GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{Board: pemda63})
	if err != nil || board.GetTotalEntries() != 2 {
		t.Fatalf("public, final board = %v, %v", board, err)
	}

	reader := assessmentv1.NewAssessmentServiceClient(e.cert(asmAddr, "reader"))
	if _, err := reader.GetAssessment(ctxT(t), &assessmentv1.GetAssessmentRequest{RoundId: "ombudsman-2023", InstitutionId: "pemkab-hss"}); err != nil {
		t.Fatalf("reader, open round: %v", err)
	}
	readerRank := rankingv1.NewRankingServiceClient(e.cert(rankAddr, "reader"))
	if _, err := readerRank.GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{Board: open23}); err != nil {
		t.Fatalf("reader, provisional board: %v", err)
	}
}

// Bindings scoped to a province and to a scheme hold on the real stack: the
// assessment service places an institution by its region in the registry
// and an award by its round and institution, the registry places a new
// institution by its region code, and the ranking service a board by its
// scope.
func TestProvinceAndAwardScopes(t *testing.T) {
	e := newEnv(t)
	e.seed(t)
	// A regency of Kalimantan Timur (the provinces are built in), with its
	// government, beside the seeded Kalimantan Selatan.
	if _, err := e.reg.CreateRegion(ctxT(t), &registryv1.CreateRegionRequest{Code: "64.02", Name: "Kabupaten Kutai Kartanegara"}); err != nil && status.Code(err) != codes.AlreadyExists {
		t.Fatalf("create region: %v", err)
	}
	if _, err := e.reg.CreateInstitution(ctxT(t), &registryv1.CreateInstitutionRequest{InstitutionId: "pemkab-kukar",
		Institution: &registryv1.Institution{Name: "Pemerintah Kabupaten Kutai Kartanegara", Kind: registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT, RegionCode: "64.02"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.asm.CreateRound(ctxT(t), &assessmentv1.CreateRoundRequest{SchemeId: "ombudsman", Year: 2023}); err != nil {
		t.Fatal(err)
	}
	awards, err := e.asm.ListAwards(ctxT(t), &assessmentv1.ListAwardsRequest{SchemeId: "ombudsman", Year: 2024})
	if err != nil || len(awards.GetAwards()) == 0 {
		t.Fatalf("seeded awards: %v, %v", awards, err)
	}

	policy := e.pki.Policy()
	orig, err := os.ReadFile(policy)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stacktest.WritePolicy(t, policy, string(orig)) })
	stacktest.WritePolicy(t, policy, string(orig)+`
  - principals: ["user:perwakilan-kalsel"]
    roles: [assessor, reader, registry-editor]
    provinces: ["63"]
  - principals: ["user:award-officer-sakip"]
    roles: [award-officer]
    schemes: [sakip]
`)
	asmAddr := e.addrs[protoreflect.FullName(assessmentv1.AssessmentService_ServiceDesc.ServiceName)]
	rankAddr := e.addrs[protoreflect.FullName(rankingv1.RankingService_ServiceDesc.ServiceName)]
	regAddr := e.addrs[protoreflect.FullName(registryv1.RegistryService_ServiceDesc.ServiceName)]
	kalsel := assessmentv1.NewAssessmentServiceClient(e.bearer(asmAddr, "perwakilan-kalsel"))
	record := func(inst, req string) error {
		_, err := kalsel.RecordAssessment(ctxT(t), &assessmentv1.RecordAssessmentRequest{RoundId: "ombudsman-2023", InstitutionId: inst,
			Input: reported("90.00"), RequestId: req})
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for err := record("pemkab-hss", "prov-63"); err != nil; err = record("pemkab-hss", "prov-63") {
		if time.Now().After(deadline) {
			t.Fatalf("the province-scoped binding never took effect: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	before := e.settled(t)
	wantStatus(t, "another province's institution", record("pemkab-kukar", "prov-64"), codes.PermissionDenied, `province "64"`)
	if d := before.diff(e.logState(t)); d != "" {
		t.Fatalf("a refused record moved the log: %s", d)
	}

	reg := registryv1.NewRegistryServiceClient(e.bearer(regAddr, "perwakilan-kalsel"))
	_, err = reg.CreateInstitution(ctxT(t), &registryv1.CreateInstitutionRequest{Institution: &registryv1.Institution{
		Name: "Polres Kutai Kartanegara", Kind: registryv1.InstitutionKind_INSTITUTION_KIND_POLICE_RESORT, RegionCode: "64.02"}})
	wantStatus(t, "an institution in another province", err, codes.PermissionDenied, `province "64"`)
	// Nor move one of its own there, or take one from there.
	move := func(id, region string) error {
		got, err := e.reg.GetInstitution(ctxT(t), &registryv1.GetInstitutionRequest{Id: id})
		if err != nil {
			t.Fatal(err)
		}
		moved := proto.CloneOf(got.GetInstitution())
		moved.RegionCode = region
		_, err = reg.UpdateInstitution(ctxT(t), &registryv1.UpdateInstitutionRequest{Institution: moved,
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"region_code"}}, ExpectedRevision: got.GetInstitution().GetRevision()})
		return err
	}
	before = e.settled(t)
	wantStatus(t, "moving an institution out to another province", move("pemkab-hss", "64.02"), codes.PermissionDenied, `province "64"`)
	wantStatus(t, "moving an institution in from another province", move("pemkab-kukar", "63.06"), codes.PermissionDenied, `province "64"`)
	if d := before.diff(e.logState(t)); d != "" {
		t.Fatalf("a refused move moved the log: %s", d)
	}

	rank := rankingv1.NewRankingServiceClient(e.bearer(rankAddr, "perwakilan-kalsel"))
	if _, err := rank.GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{Board: pemda63}); err != nil {
		t.Fatalf("own province's board: %v", err)
	}
	_, err = rank.GetLeaderboard(ctxT(t), &rankingv1.GetLeaderboardRequest{Board: &rankingv1.BoardKey{SchemeId: "ombudsman", Year: 2024, PeerGroup: "pemda", Scope: "00"}})
	wantStatus(t, "the national board", err, codes.PermissionDenied, `permission "boards.read"`)

	// An award officer of SAKIP may not revoke an Ombudsman award.
	officer := assessmentv1.NewAssessmentServiceClient(e.bearer(asmAddr, "award-officer-sakip"))
	_, err = officer.RevokeAward(ctxT(t), &assessmentv1.RevokeAwardRequest{AwardId: awards.GetAwards()[0].GetId(), Reason: "not ours"})
	wantStatus(t, "another scheme's award", err, codes.PermissionDenied, `on scheme "ombudsman"`)
}
