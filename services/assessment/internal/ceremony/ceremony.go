// Package ceremony holds the rules of award ceremonies kept as records of
// their own: the id a creation derives, what a hold checks (PLANNED to HELD
// once, every award standing and presented nowhere else), how listings
// filter and order them, and what a certificate (piagam) of an award shows.
// It is pure: the store keeps what these functions decide, and the caller
// supplies the time.
package ceremony

import (
	"crypto/sha256"
	"encoding/base32"
	"sort"
	"strings"
	"time"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/certificate"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

// idEncoding is lower-case base32 without padding: the alphabet a-z2-7
// keeps ids NATS-subject safe and readable aloud.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ID is the id of the ceremony a creation request makes: derived from its
// request id alone, so a retried creation names the same ceremony and is
// stored once, and the same request id sent with another ceremony finds
// the first and is refused.
func ID(requestID string) string {
	h := sha256.Sum256([]byte("predikat-ceremony\x00" + requestID))
	return "cer-" + idEncoding.EncodeToString(h[:])[:16]
}

// MaxAwards is how many awards one hold may present.
const MaxAwards = 500

// CheckDate refuses a date that matches the pattern but is no calendar day
// ("2025-02-30").
func CheckDate(date string) error {
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return fault.Invalidf("date %q is not a calendar day YYYY-MM-DD", date)
	}
	return nil
}

// Year is the year of a ceremony's date; 0 for a malformed date.
func Year(date string) int32 {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return 0
	}
	return int32(t.Year())
}

// Hold is a request to record a ceremony as held with the awards presented.
type Hold struct {
	// Awards are the awards presented, as stored, in the order given.
	Awards []model.Award
	// Elsewhere names, by award id, the HELD ceremony that already lists
	// an award, when another ceremony does.
	Elsewhere             map[string]string
	By, RequestID, Digest string
	Now                   time.Time
}

// Apply checks a hold of c and returns c HELD with its awards. A ceremony
// goes from PLANNED to HELD once: holding a HELD ceremony is refused here
// (a retry of the hold that made it HELD is recognised by the caller before
// it asks). Every award must stand, be given once, and not be listed by
// another held ceremony: an award is presented once.
func Apply(c model.AwardCeremony, h Hold) (model.AwardCeremony, error) {
	if c.State == model.CeremonyHeld {
		return model.AwardCeremony{}, fault.Preconditionf("ceremony %s (%s, %s) was held already with %d awards: a held ceremony does not change",
			c.ID, c.Name, c.Date, len(c.Awards))
	}
	if c.State != model.CeremonyPlanned {
		return model.AwardCeremony{}, fault.Preconditionf("ceremony %s is in no state a hold starts from (%s)", c.ID, c.State)
	}
	if len(h.Awards) == 0 || len(h.Awards) > MaxAwards {
		return model.AwardCeremony{}, fault.Invalidf("award_ids: 1 to %d awards, got %d", MaxAwards, len(h.Awards))
	}
	seen := make(map[string]bool, len(h.Awards))
	out := make([]model.CeremonyAward, 0, len(h.Awards))
	for _, a := range h.Awards {
		if seen[a.ID] {
			return model.AwardCeremony{}, fault.Invalidf("award %s is given twice", a.ID)
		}
		seen[a.ID] = true
		if a.State == model.AwardRevoked {
			return model.AwardCeremony{}, fault.Preconditionf("award %s (%s, %s) is revoked (%s): a revoked award is not presented",
				a.ID, a.Title, a.Institution.Name, a.RevokeReason)
		}
		if other := h.Elsewhere[a.ID]; other != "" && other != c.ID {
			return model.AwardCeremony{}, fault.Preconditionf("award %s (%s, %s) was presented at ceremony %s already: an award is presented once",
				a.ID, a.Title, a.Institution.Name, other)
		}
		out = append(out, Presented(a))
	}
	c.State, c.Awards = model.CeremonyHeld, out
	c.HeldBy, c.HoldTime, c.HoldRequestID, c.HoldFingerprint = h.By, h.Now, h.RequestID, h.Digest
	return c, nil
}

// Presented is what a ceremony keeps of an award presented at it.
func Presented(a model.Award) model.CeremonyAward {
	return model.CeremonyAward{
		AwardID: a.ID, InstitutionID: a.Institution.ID, InstitutionName: a.Institution.Name, Title: a.Title,
		SchemeID: a.SchemeID, Year: a.Year, Score: a.Basis.Score, BandCode: a.Basis.BandCode, BandLabel: a.Basis.BandLabel,
		ProvinceCode: a.Institution.ProvinceCode,
	}
}

// Filter selects ceremonies of a listing; zero fields match all.
type Filter struct {
	Year         int32
	ProvinceCode string
	State        model.CeremonyState
}

// Keep says whether c passes f.
func (f Filter) Keep(c model.AwardCeremony) bool {
	return (f.Year == 0 || Year(c.Date) == f.Year) &&
		(f.ProvinceCode == "" || c.ProvinceCode == f.ProvinceCode) &&
		(f.State == 0 || c.State == f.State)
}

// Sort orders ceremonies newest first: by date, then by name and id so
// that ceremonies of one day keep a fixed order.
func Sort(cs []model.AwardCeremony) {
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if a.Date != b.Date {
			return a.Date > b.Date
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ID < b.ID
	})
}

// Certificate is what the piagam of award a shows. held is the HELD
// ceremony listing it, if any: its name, place and date are printed, and
// its presenter signs unless the award names its own (at a ceremony of many
// presenters the award's own is the one who handed it over). Without one,
// the award's own ceremony and presenter are printed. schemeName is the
// name of the award's scheme ("" when none).
func Certificate(a model.Award, held *model.AwardCeremony, schemeName, verifyHint string) certificate.Certificate {
	c := certificate.Certificate{
		AwardID: a.ID, AwardTitle: a.Title, InstitutionName: a.Institution.Name,
		InstitutionRegion: region(a.Institution), SchemeName: schemeName, Year: a.Year,
		Score: a.Basis.Score, BandCode: a.Basis.BandCode, BandLabel: a.Basis.BandLabel,
		VerificationCode: certificate.Code(a.ID),
	}
	c.VerifyHint = verifyHint + " " + c.VerificationCode
	presenter := a.PresentedBy
	switch {
	case held != nil:
		c.CeremonyName, c.CeremonyPlace, c.CeremonyDate = held.Name, held.Place, held.Date
		if presenter == nil {
			presenter = held.Presenter
		}
	case a.Ceremony != nil:
		c.CeremonyName, c.CeremonyPlace, c.CeremonyDate = a.Ceremony.Name, a.Ceremony.Place, a.Ceremony.Date
	}
	if presenter != nil {
		c.PresenterName, c.PresenterTitle = presenter.Name, presenter.Office
	}
	return c
}

// region is the line under the institution's name: its region and
// province, each once ("Hulu Sungai Selatan, Kalimantan Selatan"); empty
// for a national body.
func region(s model.InstitutionSnapshot) string {
	var parts []string
	if s.RegionName != "" && s.RegionCode != "00" {
		parts = append(parts, s.RegionName)
	}
	if s.ProvinceName != "" && !strings.EqualFold(s.ProvinceName, s.RegionName) {
		parts = append(parts, s.ProvinceName)
	}
	return strings.Join(parts, ", ")
}
