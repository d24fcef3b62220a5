package cli

import (
	"strings"
	"testing"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
)

func rakorHeld() *assessmentv1.AwardCeremony {
	return &assessmentv1.AwardCeremony{Id: "cer-abcdefghijklmnop", Name: "Rapat Koordinasi Pelayanan Publik se-Kalimantan Selatan",
		Place: "Gedung Mahligai Pancasila, Banjarmasin", Date: "2025-04-17", ProvinceCode: "63", Host: "Pemerintah Provinsi Kalimantan Selatan",
		Presenter: &assessmentv1.PresentedBy{Name: "Hasnuryadi Sulaiman", Office: "Wakil Gubernur Kalimantan Selatan"},
		State:     assessmentv1.CeremonyState_CEREMONY_STATE_HELD,
		Awards: []*assessmentv1.CeremonyAward{
			{AwardId: "aw-aaaaaaaaaaaaaaaaaaaaaaaaaa", InstitutionName: "Pemerintah Kabupaten Hulu Sungai Selatan",
				Title: "Penghargaan Implementasi Akuntabilitas Kinerja, Predikat SAKIP A", Score: "84.07", BandCode: "A", BandLabel: "Memuaskan"},
			{AwardId: "aw-bbbbbbbbbbbbbbbbbbbbbbbbbb", InstitutionName: "Pemerintah Kabupaten Hulu Sungai Selatan",
				Title: "Penghargaan Indeks BerAKHLAK Tertinggi III, Kategori Sehat", BandCode: "sehat"},
		}}
}

// "ceremonies show" lists every award presented with institution, title,
// score and band; "ceremonies list" who received what.
func TestRenderCeremony(t *testing.T) {
	var b strings.Builder
	if err := renderCeremony(&b, rakorHeld()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"cer-abcdefghijklmnop", "2025-04-17", "Gedung Mahligai Pancasila, Banjarmasin", "Pemerintah Provinsi Kalimantan Selatan",
		"Hasnuryadi Sulaiman, Wakil Gubernur Kalimantan Selatan", "held", "Pemerintah Kabupaten Hulu Sungai Selatan",
		"Predikat SAKIP A", "84.07", "A (Memuaskan)", "BerAKHLAK Tertinggi III", "sehat", "aw-bbbbbbbbbbbbbbbbbbbbbbbbbb"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	if err := renderCeremonies(&b, []*assessmentv1.AwardCeremony{rakorHeld(), {Id: "cer-planned", Name: "Rakor 2026", Date: "2026-04-16",
		State: assessmentv1.CeremonyState_CEREMONY_STATE_PLANNED}}); err != nil {
		t.Fatal(err)
	}
	out = b.String()
	if strings.Count(out, "Pemerintah Kabupaten Hulu Sungai Selatan") != 2 || !strings.Contains(out, "planned") || strings.Count(out, "2025-04-17") != 1 {
		t.Errorf("list:\n%s", out)
	}
}

func TestRenderVerification(t *testing.T) {
	v := &assessmentv1.VerifyCertificateResponse{Code: "PKT-7K3M-Q9XA-2BRT", Valid: false, Ceremony: rakorHeld(),
		Award: &assessmentv1.Award{Id: "aw-aaaaaaaaaaaaaaaaaaaaaaaaaa", Title: "Predikat SAKIP A", RevokeReason: "ralat nilai",
			Institution: &assessmentv1.InstitutionSnapshot{Name: "Pemerintah Kabupaten Hulu Sungai Selatan"},
			Basis:       &assessmentv1.AwardBasis{Score: "84.07", BandCode: "A"}}}
	var b strings.Builder
	if err := renderVerification(&b, v); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"VOID", "ralat nilai", "Pemerintah Kabupaten Hulu Sungai Selatan", "84.07", "Rapat Koordinasi"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("verification lacks %q:\n%s", want, b.String())
		}
	}
}
