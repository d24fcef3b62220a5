// Package deploycheck holds tests of the shipped Kubernetes manifests that
// need no cluster: what `kubectl delete -k` of each kustomization would
// delete, and that none of it owns the system of record's volumes.
package deploycheck

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

const kube = "../../../deploy/kubernetes"

// object is what the checks read of a manifest.
type object struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		VolumeClaimTemplates []any `yaml:"volumeClaimTemplates"`
		Retention            *struct {
			WhenDeleted string `yaml:"whenDeleted"`
			WhenScaled  string `yaml:"whenScaled"`
		} `yaml:"persistentVolumeClaimRetentionPolicy"`
	} `yaml:"spec"`
}

// objects lists the objects a kustomization directory applies (and so
// deletes): its resources, following directories recursively. Generated
// ConfigMaps and patches add or change no kinds that matter here.
func objects(t *testing.T, dir string) []object {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `yaml:"resources"`
	}
	if err := yaml.Unmarshal(b, &k); err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	var out []object
	for _, r := range k.Resources {
		p := filepath.Join(dir, r)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			out = append(out, objects(t, p)...)
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var o object
			if err := dec.Decode(&o); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if o.Kind != "" {
				out = append(out, o)
			}
		}
	}
	return out
}

// What an operator deletes with `kubectl delete -k` of the base, an
// overlay or the monitoring kustomization holds no Namespace and no
// volume, and every StatefulSet with volumes retains them when deleted or
// scaled down: the NATS JetStream volumes, the system of record, survive.
func TestDeleteKeepsTheSystemOfRecord(t *testing.T) {
	dirs := []string{"base", "overlays/dev", "monitoring"}
	for _, d := range dirs {
		objs := objects(t, filepath.Join(kube, d))
		if len(objs) == 0 {
			t.Errorf("%s: no objects", d)
		}
		for _, o := range objs {
			switch o.Kind {
			case "Namespace", "PersistentVolumeClaim", "PersistentVolume":
				t.Errorf("%s: `kubectl delete -k` would delete %s %s", d, o.Kind, o.Metadata.Name)
			case "StatefulSet":
				r := o.Spec.Retention
				if len(o.Spec.VolumeClaimTemplates) > 0 && (r == nil || r.WhenDeleted != "Retain" || r.WhenScaled != "Retain") {
					t.Errorf("%s: StatefulSet %s does not retain its volumes when deleted and scaled (persistentVolumeClaimRetentionPolicy)", d, o.Metadata.Name)
				}
			}
		}
	}
	// The Namespace has a kustomization of its own, applied once.
	ns := objects(t, filepath.Join(kube, "namespace/dev"))
	if len(ns) != 1 || ns[0].Kind != "Namespace" || ns[0].Metadata.Name != "predikat" {
		t.Errorf("deploy/kubernetes/namespace: %+v, want the Namespace predikat alone", ns)
	}
}
