package stack

import (
	"context"
	"slices"
	"testing"
	"time"

	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
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
		cc, err := st.Dial(addr, "admin")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{})
		cc.Close()
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("%s at %s: health %v, %v", name, addr, resp.GetStatus(), err)
		}
	}
	cc, err := st.Dial(st.Registry, "admin")
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

// TestStopServiceAndStartAgain stops one in-process service and brings it
// back on the same address, as the tests of an outage do; the OnServing
// hook sees every start.
func TestStopServiceAndStartAgain(t *testing.T) {
	ns := natstest.Start(t)
	var started []string
	svcs, err := NewServices(context.Background(), ServicesOptions{NATSURL: ns.URL(), NATSConn: ns.Conn(t), Logger: natstest.Logger(t),
		ReadyTimeout: 20 * time.Second, OnServing: func(name, addr string) { started = append(started, name+" "+addr) }})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := svcs.StopAll(); err != nil {
			t.Errorf("StopAll: %v", err)
		}
	}()
	addr, err := svcs.Start(Registry, "127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := svcs.StopService(Registry); err != nil {
		t.Fatalf("StopService: %v", err)
	}
	if err := svcs.StopService(Registry); err != nil {
		t.Fatalf("StopService of a stopped service: %v", err)
	}
	if err := svcs.StopService("nope"); err == nil {
		t.Error("StopService of an unknown service: no error")
	}
	again, err := svcs.Start(Registry, addr, "")
	if err != nil || again != addr {
		t.Fatalf("start again on %s = %s, %v", addr, again, err)
	}
	if want := []string{"registry " + addr, "registry " + addr}; !slices.Equal(started, want) {
		t.Errorf("OnServing saw %v, want %v", started, want)
	}
	cc, err := svcs.Dial(addr, "admin")
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if resp, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health after the restart = %v, %v", resp.GetStatus(), err)
	}
}
