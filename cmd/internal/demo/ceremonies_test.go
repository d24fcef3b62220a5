package demo_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/predikat-id/predikat/cmd/internal/demo"
	"github.com/predikat-id/predikat/cmd/internal/stack"
	"github.com/predikat-id/predikat/cmd/internal/stacktest"
	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/testenv/natstest"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestDemoCeremonies loads the demo into a registry and an assessment
// service and finds its ceremonies held: the Rakor of 17 April 2025 with
// Hulu Sungai Selatan's four awards, each with a certificate whose code
// verifies as the award; loading again writes nothing.
func TestDemoCeremonies(t *testing.T) {
	ns := natstest.Start(t)
	svcs := stacktest.Services(t, ns, stack.ServicesOptions{})
	regAddr, err := svcs.Start(stack.Registry, "127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	asmAddr, err := svcs.Start(stack.Assessment, "127.0.0.1:0", regAddr)
	if err != nil {
		t.Fatal(err)
	}
	ac := stacktest.Dial(t, asmAddr, "admin")
	clients := demo.Clients{Registry: registryv1.NewRegistryServiceClient(stacktest.Dial(t, regAddr, "admin")),
		Assessment: assessmentv1.NewAssessmentServiceClient(ac), Ceremonies: assessmentv1.NewCeremonyServiceClient(ac)}
	if err := demo.Load(ctxT(t), clients, natstest.Logger(t)); err != nil {
		t.Fatal(err)
	}

	list, err := clients.Ceremonies.ListCeremonies(ctxT(t), &assessmentv1.ListCeremoniesRequest{ProvinceCode: "63"})
	if err != nil {
		t.Fatal(err)
	}
	cs := list.GetCeremonies()
	if len(cs) != 2 || cs[0].GetDate() != "2025-04-17" || cs[1].GetDate() != "2024-12-11" {
		t.Fatalf("ceremonies %v, want the Rakor of 2025-04-17, then the Ombudsman's of 2024-12-11", cs)
	}
	for _, c := range cs {
		if c.GetState() != assessmentv1.CeremonyState_CEREMONY_STATE_HELD || len(c.GetAwards()) == 0 {
			t.Errorf("%s (%s) is %v with %d awards", c.GetName(), c.GetDate(), c.GetState(), len(c.GetAwards()))
		}
	}
	var titles []string
	for _, a := range cs[0].GetAwards() {
		if a.GetInstitutionId() != "pemkab-hss" {
			t.Errorf("the Rakor lists an award of %s", a.GetInstitutionId())
		}
		titles = append(titles, a.GetTitle())
		cert, err := clients.Ceremonies.GetCertificate(ctxT(t), &assessmentv1.GetCertificateRequest{AwardId: a.GetAwardId()})
		if err != nil {
			t.Fatalf("certificate of %s: %v", a.GetTitle(), err)
		}
		if !bytes.HasPrefix(cert.GetPdf(), []byte("%PDF-")) || cert.GetCeremony().GetId() != cs[0].GetId() {
			t.Errorf("certificate of %s: not a PDF of the Rakor", a.GetTitle())
		}
		v, err := clients.Ceremonies.VerifyCertificate(ctxT(t), &assessmentv1.VerifyCertificateRequest{Code: strings.ToLower(cert.GetVerificationCode())})
		if err != nil || !v.GetValid() || v.GetAward().GetId() != a.GetAwardId() {
			t.Errorf("code of %s verifies as %v, %v", a.GetTitle(), v.GetAward().GetId(), err)
		}
	}
	joined := strings.Join(titles, " | ")
	for _, want := range []string{"BerAKHLAK", "Prima", "SAKIP A", "Reformasi Birokrasi"} {
		if !strings.Contains(joined, want) {
			t.Errorf("the Rakor's awards lack %q: %s", want, joined)
		}
	}
	if len(titles) != 4 {
		t.Errorf("the Rakor has %d awards, want HSS's 4: %s", len(titles), joined)
	}

	// Loading again writes nothing, ceremonies included.
	before := seqs(t, ns)
	if err := demo.Load(ctxT(t), clients, natstest.Logger(t)); err != nil {
		t.Fatal(err)
	}
	after := seqs(t, ns)
	for name, seq := range before {
		if after[name] != seq {
			t.Errorf("second demo load wrote to %s: %d -> %d", name, seq, after[name])
		}
	}
	if _, ok := before["CEREMONIES"]; !ok {
		t.Errorf("no CEREMONIES stream: %v", before)
	}
}

func seqs(t *testing.T, ns *natstest.Server) map[string]uint64 {
	t.Helper()
	return natstest.LastSeqs(t, ns.JetStream(t))
}
