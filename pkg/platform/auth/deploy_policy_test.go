package auth_test

import (
	"testing"

	"github.com/predikat-id/predikat/pkg/platform/auth"
)

// The policies shipped for Kubernetes load: a typo there would keep every
// service of a deployment from starting.
func TestShippedPoliciesLoad(t *testing.T) {
	for _, f := range []string{"../../../deploy/kubernetes/base/policy.yaml", "../../../deploy/kubernetes/overlays/dev/policy.yaml"} {
		p, err := auth.LoadPolicy(f)
		if err != nil {
			t.Error(err)
			continue
		}
		svc := auth.Principal{ID: "spiffe://predikat/service/ranking", Via: auth.ViaMTLS}
		if err := p.Check(svc, "registry.watch", auth.Scope{}); err != nil {
			t.Errorf("%s: the ranking service may not watch the registry: %v", f, err)
		}
		if err := p.Check(svc, "awards.manage", auth.Scope{}); err == nil {
			t.Errorf("%s: the ranking service may grant awards", f)
		}
	}
}
