// Package deploycheck holds tests of the shipped Kubernetes manifests that
// need no cluster, and Build, which other tests use to read what an
// overlay would apply: every kustomization builds (with kustomize's own Go
// API, as `kubectl kustomize` does), every object decodes strictly into
// the API types of its kind, and what `kubectl delete -k` of each would
// delete owns none of the system of record's volumes.
package deploycheck

import (
	"fmt"
	"path/filepath"
	"runtime"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Kustomizations are every directory of deploy/kubernetes that
// `kubectl apply -k` takes.
var Kustomizations = []string{"base", "overlays/dev", "overlays/prod", "monitoring", "gateway", "namespace", "namespace-dev"}

// Dir is deploy/kubernetes of this repository.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "deploy", "kubernetes")
}

// Build runs kustomize on one directory of deploy/kubernetes: generators,
// components, patches and all, offline.
func Build(dir string) ([]*resource.Resource, error) {
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), filepath.Join(Dir(), dir))
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	return m.Resources(), nil
}
