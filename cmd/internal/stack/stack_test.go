package stack

import (
	"context"
	"testing"
	"time"

	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/grpcserver"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// TestProcesses runs the three services as their own OS processes, built
// from ./services, and checks that each reports SERVING and that the
// registry keeps what it is given.
func TestProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the three services")
	}
	testStack(t, Processes)
}

// TestInProcess is the same check with the services in this process.
func TestInProcess(t *testing.T) {
	testStack(t, InProcess)
}

func testStack(t *testing.T, mode Mode) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	st, err := Start(ctx, Options{Mode: mode, DataDir: t.TempDir(), Logger: natstest.Logger(t), ProcessOutput: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if mode == Processes && len(st.PIDs()) != 3 {
		t.Errorf("PIDs = %v, want the three services", st.PIDs())
	}
	for name, addr := range map[string]string{Registry: st.Registry, Assessment: st.Assessment, Ranking: st.Ranking} {
		cc, err := grpcserver.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{})
		cc.Close()
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("%s at %s: health %v, %v", name, addr, resp.GetStatus(), err)
		}
	}
	cc, err := grpcserver.Dial(st.Registry)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	reg := registryv1.NewRegistryServiceClient(cc)
	want := &registryv1.Institution{Name: "Pemerintah Kabupaten Hulu Sungai Selatan",
		Kind: registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT, RegionCode: "63.06"}
	if _, err := reg.CreateInstitution(ctx, &registryv1.CreateInstitutionRequest{InstitutionId: "pemkab-hss", Institution: want}); err != nil {
		t.Fatal(err)
	}
	got, err := reg.GetInstitution(ctx, &registryv1.GetInstitutionRequest{Id: "pemkab-hss"})
	if err != nil {
		t.Fatal(err)
	}
	if in := got.GetInstitution(); in.GetName() != want.GetName() || in.GetKind() != want.GetKind() || in.GetRegionCode() != want.GetRegionCode() {
		t.Errorf("GetInstitution = %v, want %v", in, want)
	}
	select {
	case <-st.Failed():
		t.Errorf("a service stopped: %v", st.Err())
	default:
	}
}

// testWriter passes the processes' output to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
