package ceremony

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/certificate"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

func TestID(t *testing.T) {
	id := ID("demo.ceremony.2025-04-17")
	if !regexp.MustCompile(`^cer-[a-z2-7]{16}$`).MatchString(id) {
		t.Fatalf("id %q is not cer- and 16 base32 characters", id)
	}
	if ID("demo.ceremony.2025-04-17") != id || ID("other") == id {
		t.Fatal("the id is not a function of the request id alone")
	}
}

func TestCheckDateAndYear(t *testing.T) {
	for _, tc := range []struct {
		date string
		ok   bool
		year int32
	}{
		{"2025-04-17", true, 2025}, {"2024-02-29", true, 2024}, {"2025-02-29", false, 0}, {"2025-13-01", false, 0}, {"", false, 0},
	} {
		if err := CheckDate(tc.date); (err == nil) != tc.ok || (err != nil && !fault.Is(err, fault.Invalid)) {
			t.Errorf("CheckDate(%q) = %v, want ok %v", tc.date, err, tc.ok)
		}
		if got := Year(tc.date); got != tc.year {
			t.Errorf("Year(%q) = %d, want %d", tc.date, got, tc.year)
		}
	}
}

func award(id, inst string, st model.AwardState) model.Award {
	return model.Award{ID: id, Title: "Predikat " + id, State: st, SchemeID: "sakip", Year: 2024,
		Institution: model.InstitutionSnapshot{ID: inst, Name: "Pemerintah " + inst, ProvinceCode: "63"},
		Basis:       model.AwardBasis{Score: "84.07", BandCode: "A", BandLabel: "Memuaskan"}, RevokeReason: "ralat"}
}

func TestApply(t *testing.T) {
	now := time.Date(2025, 4, 17, 9, 0, 0, 0, time.UTC)
	planned := model.AwardCeremony{ID: "cer-x", Name: "Rakor", Date: "2025-04-17", State: model.CeremonyPlanned}
	held := planned
	held.State = model.CeremonyHeld
	ok := award("aw-1", "pemkab-hss", model.AwardGranted)
	for _, tc := range []struct {
		name      string
		c         model.AwardCeremony
		awards    []model.Award
		elsewhere map[string]string
		kind      fault.Kind
		contains  string
	}{
		{name: "held", c: planned, awards: []model.Award{ok, award("aw-2", "pemkab-hss", model.AwardGranted)}},
		{name: "held again", c: held, awards: []model.Award{ok}, kind: fault.Precondition, contains: "held already"},
		{name: "no state", c: model.AwardCeremony{ID: "cer-x"}, awards: []model.Award{ok}, kind: fault.Precondition},
		{name: "no awards", c: planned, kind: fault.Invalid},
		{name: "twice", c: planned, awards: []model.Award{ok, ok}, kind: fault.Invalid, contains: "aw-1"},
		{name: "revoked", c: planned, awards: []model.Award{ok, award("aw-3", "polres-hss", model.AwardRevoked)}, kind: fault.Precondition, contains: "aw-3"},
		{name: "elsewhere", c: planned, awards: []model.Award{ok}, elsewhere: map[string]string{"aw-1": "cer-other"}, kind: fault.Precondition, contains: "cer-other"},
		{name: "listed here", c: planned, awards: []model.Award{ok}, elsewhere: map[string]string{"aw-1": "cer-x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Apply(tc.c, Hold{Awards: tc.awards, Elsewhere: tc.elsewhere, By: "user:officer", RequestID: "r1", Digest: "d1", Now: now})
			if tc.kind != 0 {
				if !fault.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.contains) {
					t.Fatalf("err %v, want %v containing %q", err, tc.kind, tc.contains)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.State != model.CeremonyHeld || len(got.Awards) != len(tc.awards) || got.HeldBy != "user:officer" ||
				!got.HoldTime.Equal(now) || got.HoldRequestID != "r1" || got.HoldFingerprint != "d1" {
				t.Fatalf("held as %+v", got)
			}
			if a := got.Awards[0]; a.AwardID != "aw-1" || a.InstitutionName != "Pemerintah pemkab-hss" || a.Score != "84.07" || a.BandCode != "A" {
				t.Fatalf("award kept as %+v", a)
			}
		})
	}
}

func TestFilterAndSort(t *testing.T) {
	cs := []model.AwardCeremony{
		{ID: "a", Name: "Rakor", Date: "2024-05-21", ProvinceCode: "63", State: model.CeremonyHeld},
		{ID: "b", Name: "Ombudsman", Date: "2024-12-11", ProvinceCode: "63", State: model.CeremonyHeld},
		{ID: "c", Name: "Rakor", Date: "2025-04-17", ProvinceCode: "63", State: model.CeremonyPlanned},
		{ID: "d", Name: "Nasional", Date: "2025-04-17", ProvinceCode: "00", State: model.CeremonyHeld},
	}
	Sort(cs)
	var order []string
	for _, c := range cs {
		order = append(order, c.ID)
	}
	if strings.Join(order, "") != "dcba" {
		t.Fatalf("order %v, want newest first, then by name", order)
	}
	for _, tc := range []struct {
		f    Filter
		want int
	}{
		{Filter{}, 4}, {Filter{Year: 2024}, 2}, {Filter{ProvinceCode: "00"}, 1}, {Filter{Year: 2025, ProvinceCode: "63"}, 1},
		{Filter{State: model.CeremonyHeld}, 3}, {Filter{Year: 2023}, 0},
	} {
		n := 0
		for _, c := range cs {
			if tc.f.Keep(c) {
				n++
			}
		}
		if n != tc.want {
			t.Errorf("%+v keeps %d, want %d", tc.f, n, tc.want)
		}
	}
}

func TestCertificate(t *testing.T) {
	a := award("aw-1", "pemkab-hss", model.AwardGranted)
	a.Institution.RegionName, a.Institution.RegionCode, a.Institution.ProvinceName = "Hulu Sungai Selatan", "63.06", "Kalimantan Selatan"
	a.Ceremony = &model.Ceremony{Name: "Own", Place: "Kandangan", Date: "2025-01-01"}
	held := &model.AwardCeremony{Name: "Rakor", Place: "Gedung Mahligai Pancasila, Banjarmasin", Date: "2025-04-17",
		Presenter: &model.PresentedBy{Name: "Hasnuryadi Sulaiman", Office: "Wakil Gubernur Kalimantan Selatan"}}
	for _, tc := range []struct {
		name                    string
		own                     *model.PresentedBy
		held                    *model.AwardCeremony
		ceremony, date, present string
	}{
		{"held ceremony and its presenter", nil, held, "Rakor", "2025-04-17", "Hasnuryadi Sulaiman"},
		{"the award's own presenter first", &model.PresentedBy{Name: "Purwadi Arianto", Office: "Wakil Menteri PAN-RB"}, held, "Rakor", "2025-04-17", "Purwadi Arianto"},
		{"no held ceremony: the award's own", nil, nil, "Own", "2025-01-01", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := a
			b.PresentedBy = tc.own
			c := Certificate(b, tc.held, "Evaluasi SAKIP", "Verifikasi: predikat certificates verify")
			if c.CeremonyName != tc.ceremony || c.CeremonyDate != tc.date || c.PresenterName != tc.present {
				t.Fatalf("ceremony %q %q, presenter %q", c.CeremonyName, c.CeremonyDate, c.PresenterName)
			}
			if c.VerificationCode != certificate.Code("aw-1") || !strings.HasSuffix(c.VerifyHint, c.VerificationCode) {
				t.Fatalf("code %q, hint %q", c.VerificationCode, c.VerifyHint)
			}
			if c.InstitutionRegion != "Hulu Sungai Selatan, Kalimantan Selatan" || c.SchemeName != "Evaluasi SAKIP" || c.Score != "84.07" {
				t.Fatalf("certificate %+v", c)
			}
			if _, err := certificate.Render(c); err != nil {
				t.Fatal(err)
			}
		})
	}
}
