package deploycheck

import (
	"testing"

	"sigs.k8s.io/kustomize/api/resource"
)

// build is Build, failing the test on an error.
func build(t *testing.T, dir string) []*resource.Resource {
	t.Helper()
	res, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// retains reports whether a StatefulSet keeps its volume claims when it is
// deleted and when it is scaled down.
func retains(r *resource.Resource) (bool, error) {
	claims, err := r.GetFieldValue("spec.volumeClaimTemplates")
	if err != nil || claims == nil {
		return true, nil //nolint:nilerr // no volumes, nothing to retain
	}
	for _, f := range []string{"whenDeleted", "whenScaled"} {
		v, err := r.GetString("spec.persistentVolumeClaimRetentionPolicy." + f)
		if err != nil || v != "Retain" {
			return false, nil //nolint:nilerr // a missing policy is the finding
		}
	}
	return true, nil
}

// What an operator deletes with `kubectl delete -k` of the base, an
// overlay or the monitoring kustomization holds no Namespace and no
// volume, and every StatefulSet with volumes retains them when deleted or
// scaled down: the NATS JetStream volumes, the system of record, survive.
func TestDeleteKeepsTheSystemOfRecord(t *testing.T) {
	for _, d := range []string{"base", "overlays/dev", "overlays/prod", "monitoring", "gateway"} {
		res := build(t, d)
		if len(res) == 0 {
			t.Errorf("%s: no objects", d)
		}
		for _, r := range res {
			switch r.GetKind() {
			case "Namespace", "PersistentVolumeClaim", "PersistentVolume":
				t.Errorf("%s: `kubectl delete -k` would delete %s %s", d, r.GetKind(), r.GetName())
			case "StatefulSet":
				if ok, _ := retains(r); !ok {
					t.Errorf("%s: StatefulSet %s does not retain its volumes when deleted and scaled (persistentVolumeClaimRetentionPolicy)", d, r.GetName())
				}
			}
			if r.GetKind() != "Namespace" && r.GetNamespace() != "predikat" {
				t.Errorf("%s: %s %s is in namespace %q, not predikat", d, r.GetKind(), r.GetName(), r.GetNamespace())
			}
		}
	}
	// The Namespace has kustomizations of its own, applied once.
	for _, d := range []string{"namespace", "namespace-dev"} {
		ns := build(t, d)
		if len(ns) != 1 || ns[0].GetKind() != "Namespace" || ns[0].GetName() != "predikat" {
			t.Errorf("%s: %d objects, want the Namespace predikat alone", d, len(ns))
		}
	}
	dev := build(t, "namespace-dev")
	if v := dev[0].GetLabels()["pod-security.kubernetes.io/enforce"]; v != "restricted" {
		t.Errorf("namespace-dev enforces %q, want restricted", v)
	}
}
