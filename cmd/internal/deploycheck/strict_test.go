package deploycheck

import (
	"strings"
	"testing"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// apiTypes holds the Go types of every kind the manifests may use: the
// pinned k8s.io/api for the built-in kinds, and each CRD's own module for
// cert-manager, the Prometheus Operator and the Gateway API. A kind
// outside it is a finding: nothing checked it.
func apiTypes(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, policyv1.AddToScheme, networkingv1.AddToScheme,
		certmanagerv1.AddToScheme, monitoringv1.AddToScheme, gatewayv1.Install,
	} {
		if err := add(s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// Every object every kustomization builds decodes strictly into the API
// type of its kind: an unknown or misspelt field, a duplicate, a value of
// the wrong type or a kind of an API the cluster would not know fails
// here, offline, instead of at `kubectl apply` (kubeconform would need to
// download its schemas).
func TestEveryObjectDecodesStrictlyIntoItsAPIType(t *testing.T) {
	s := apiTypes(t)
	strict := json.NewSerializerWithOptions(json.DefaultMetaFactory, s, s, json.SerializerOptions{Strict: true})
	kinds := map[string]int{}
	for _, dir := range Kustomizations {
		for _, r := range build(t, dir) {
			name := dir + ": " + r.GetKind() + " " + r.GetName()
			gvk := schema.FromAPIVersionAndKind(r.GetApiVersion(), r.GetKind())
			if !s.Recognizes(gvk) {
				t.Errorf("%s: %s is no kind of the pinned APIs", name, gvk)
				continue
			}
			body, err := r.MarshalJSON()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if _, _, err := strict.Decode(body, nil, nil); err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			kinds[gvk.Kind]++
		}
	}
	for _, k := range []string{"Deployment", "StatefulSet", "Service", "ConfigMap", "NetworkPolicy", "PodDisruptionBudget",
		"Certificate", "Issuer", "PodMonitor", "PrometheusRule", "Gateway", "GRPCRoute", "BackendTLSPolicy", "Namespace"} {
		if kinds[k] == 0 {
			t.Errorf("no %s decoded: the manifests changed, or this test lost them", k)
		}
	}
}

// The decoder is strict: a misspelt field of a container is refused, so a
// pass above means something.
func TestStrictDecodingRefusesAnUnknownField(t *testing.T) {
	s := apiTypes(t)
	strict := json.NewSerializerWithOptions(json.DefaultMetaFactory, s, s, json.SerializerOptions{Strict: true})
	doc := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x"},"spec":{"template":{"spec":{"containers":[{"name":"x","imagePullPolicy":"IfNotPresent","readinesProbe":{}}]}}}}`
	_, _, err := strict.Decode([]byte(doc), nil, nil)
	if err == nil || !strings.Contains(err.Error(), `unknown field "spec.template.spec.containers[0].readinesProbe"`) {
		t.Fatalf("a misspelt readinessProbe: %v", err)
	}
}
