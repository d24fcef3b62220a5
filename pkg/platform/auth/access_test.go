package auth

import (
	"crypto/tls"
	"os"
	"strings"
	"testing"
	"time"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	authv1 "github.com/predikat-id/predikat/pkg/gen/predikat/auth/v1"
	rankingv1 "github.com/predikat-id/predikat/pkg/gen/predikat/ranking/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// serviceMethods walks the methods of the three Predikat services.
func serviceMethods(t *testing.T, fn func(full string, m protoreflect.MethodDescriptor)) int {
	t.Helper()
	services := []protoreflect.FullName{
		registryv1.File_predikat_registry_v1_registry_proto.Services().Get(0).FullName(),
		assessmentv1.File_predikat_assessment_v1_assessment_proto.Services().Get(0).FullName(),
		rankingv1.File_predikat_ranking_v1_ranking_proto.Services().Get(0).FullName(),
	}
	n := 0
	for _, name := range services {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
		if err != nil {
			t.Fatal(err)
		}
		methods := d.(protoreflect.ServiceDescriptor).Methods()
		for i := range methods.Len() {
			fn("/"+string(name)+"/"+string(methods.Get(i).Name()), methods.Get(i))
			n++
		}
	}
	return n
}

// Every method of the three services declares its access rule.
func TestAccessOfEveryMethod(t *testing.T) {
	n := serviceMethods(t, func(full string, _ protoreflect.MethodDescriptor) {
		if _, err := AccessOf(full); err != nil {
			t.Error(err)
		}
	})
	if n < 30 {
		t.Fatalf("only %d methods walked", n)
	}
}

// Every field a rule names exists in the method's request as a string: a
// misnamed field would read as "names no value", which no scoped binding
// grants, so institution accounts would be locked out of those calls.
func TestAccessFieldsExistInRequests(t *testing.T) {
	serviceMethods(t, func(full string, m protoreflect.MethodDescriptor) {
		a, err := AccessOf(full)
		if err != nil {
			return
		}
		checkFieldPath(t, m, a.GetSchemeField())
		checkFieldPath(t, m, a.GetInstitutionField())
		checkFieldPath(t, m, a.GetRegionField())
		checkFieldPath(t, m, a.GetAwardField())
		// A misnamed destination would read as "moves nothing" and let a
		// province-scoped caller move an institution anywhere.
		checkFieldPath(t, m, a.GetDestinationRegionField())
	})
}

func checkFieldPath(t *testing.T, m protoreflect.MethodDescriptor, path string) {
	t.Helper()
	if path == "" {
		return
	}
	md := m.Input()
	parts := strings.Split(path, ".")
	for i, p := range parts {
		fd := md.Fields().ByName(protoreflect.Name(p))
		if fd == nil {
			t.Errorf("%s: %s has no field %q", m.FullName(), md.FullName(), p)
			return
		}
		if i < len(parts)-1 {
			md = fd.Message()
		} else if fd.Kind() != protoreflect.StringKind {
			t.Errorf("%s: %s is not a string", m.FullName(), path)
		}
	}
}

func TestScopeOf(t *testing.T) {
	rec, err := AccessOf("/predikat.assessment.v1.AssessmentService/RecordAssessment")
	if err != nil {
		t.Fatal(err)
	}
	sc := ScopeOf(rec, &assessmentv1.RecordAssessmentRequest{RoundId: "ombudsman-2024", InstitutionId: "pemkab-hss"})
	if sc != (Scope{Scheme: "ombudsman", Institution: "pemkab-hss"}) {
		t.Fatalf("round_id: %+v", sc)
	}
	board := &authv1.Access{Permission: "boards.read", SchemeField: "board.scheme_id"}
	if sc := ScopeOf(board, &rankingv1.GetLeaderboardRequest{Board: &rankingv1.BoardKey{SchemeId: "sakip"}}); sc.Scheme != "sakip" {
		t.Fatalf("board.scheme_id: %+v", sc)
	}
	if sc := ScopeOf(board, &rankingv1.GetLeaderboardRequest{}); sc != (Scope{}) {
		t.Fatalf("unset board: %+v", sc)
	}
	for in, want := range map[string]string{"a-b-2024": "a-b", "abc": "abc", "abc-24": "abc-24", "abc-20x4": "abc-20x4"} {
		if got := schemeOfRound(in); got != want {
			t.Errorf("schemeOfRound(%q) = %q", in, got)
		}
	}
}

func TestCheckDeclared(t *testing.T) {
	srv := grpc.NewServer()
	registerAll(&seen{})(srv)
	if err := CheckDeclared(srv.GetServiceInfo()); err != nil {
		t.Fatal(err)
	}
	err := CheckDeclared(map[string]grpc.ServiceInfo{
		"predikat.registry.v1.RegistryService": {Methods: []grpc.MethodInfo{{Name: "GetRegion"}, {Name: "Sneaky"}}},
		"grpc.health.v1.Health":                {Methods: []grpc.MethodInfo{{Name: "Check"}}},
		"grpc.reflection.v1.ServerReflection":  {Methods: []grpc.MethodInfo{{Name: "ServerReflectionInfo"}}},
	})
	if err == nil || !strings.Contains(err.Error(), "RegistryService/Sneaky") || strings.Contains(err.Error(), "GetRegion") ||
		strings.Contains(err.Error(), "Health") {
		t.Fatalf("got %v", err)
	}
}

func TestServerTLSReloadsCertificate(t *testing.T) {
	pki := newPKI(t, "predikat")
	certFile, keyFile := pki.issue(t, "server", "", "server", true)
	cfg, err := ServerTLS(certFile, keyFile, pki.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS13 || cfg.ClientAuth != tls.VerifyClientCertIfGiven {
		t.Fatalf("config %+v", cfg)
	}
	first, err := cfg.GetCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	pki.issue(t, "server", "", "server", true) // same files, new certificate
	later := time.Now().Add(time.Minute)
	for _, f := range []string{certFile, keyFile} {
		if err := os.Chtimes(f, later, later); err != nil {
			t.Fatal(err)
		}
	}
	second, err := cfg.GetCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	if second.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) == 0 {
		t.Fatal("certificate not reloaded")
	}
	// A half-written rotation keeps the previous pair in service.
	writeFile(t, keyFile, []byte("garbage"))
	if err := os.Chtimes(keyFile, later.Add(time.Minute), later.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	third, err := cfg.GetCertificate(nil)
	if err != nil || third != second {
		t.Fatalf("got %v, %v", third, err)
	}
}
