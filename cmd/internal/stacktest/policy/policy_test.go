// Package policy_test proves on a running registry that the access policy
// is data: an edit of the file takes effect without a restart, and a broken
// edit leaves the last good policy in force.
package policy_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/cmd/internal/stacktest"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestPolicyChangeTakesEffectWithoutRestart(t *testing.T) {
	ns := natstest.Start(t)
	svcs := stacktest.Services(t, ns, stack.ServicesOptions{})
	addr, err := svcs.Start(stack.Registry, "127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	reader := registryv1.NewRegistryServiceClient(stacktest.Dial(t, addr, "reader"))
	create := func(id string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := reader.CreateInstitution(ctx, &registryv1.CreateInstitutionRequest{InstitutionId: id,
			Institution: &registryv1.Institution{Name: "Kementerian " + id, Kind: registryv1.InstitutionKind_INSTITUTION_KIND_MINISTRY}})
		return err
	}
	if err := create("uji-satu"); status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "registry.institutions.write") {
		t.Fatalf("a reader created an institution, or was refused wrongly: %v", err)
	}

	policy := stacktest.PKI(t).Policy()
	orig, err := os.ReadFile(policy)
	if err != nil {
		t.Fatal(err)
	}
	// Grant the reader certificate the registry editor role, as an operator
	// would by editing the mounted file.
	grant := string(orig) + "\n  - principals: [spiffe://predikat/user/reader]\n    roles: [registry-editor]\n"
	stacktest.WritePolicy(t, policy, grant)
	waitFor(t, "the reader to be granted registry-editor", func() bool { return create("uji-dua") == nil })

	// A broken edit is refused and the last good policy stays in force.
	stacktest.WritePolicy(t, policy, grant+"  - roles: [no-such-role]\n")
	time.Sleep(2500 * time.Millisecond) // the dev stack polls every second
	if err := create("uji-tiga"); err != nil {
		t.Fatalf("a broken policy edit changed what is allowed: %v", err)
	}

	// Taking the grant away takes effect too.
	stacktest.WritePolicy(t, policy, string(orig))
	waitFor(t, "the grant to be withdrawn", func() bool { return status.Code(create("uji-empat")) == codes.PermissionDenied })
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
