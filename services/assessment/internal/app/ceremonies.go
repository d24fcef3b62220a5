package app

import (
	"context"
	"fmt"
	"slices"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/ceremony"
	"github.com/predikat-id/predikat/services/assessment/internal/certificate"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
)

// CeremonyStore keeps award ceremonies: each under its own key, created
// PLANNED and changed once, to HELD, by compare-and-set, the hold then
// announced (CeremonyHeld).
type CeremonyStore interface {
	// CreateCeremony stores c as created, once per id: when the id is taken
	// it returns the stored ceremony with created false.
	CreateCeremony(ctx context.Context, c model.AwardCeremony) (stored model.AwardCeremony, created bool, err error)
	// HoldCeremony stores c (HELD) expecting its stored revision still
	// c.Revision (fault.Conflict when it moved), then announces it.
	HoldCeremony(ctx context.Context, c model.AwardCeremony) (model.AwardCeremony, error)
	// AnnounceHeld announces a HELD ceremony; announced before, it changes
	// nothing. A hold cut short between its write and its announcement is
	// finished by it.
	AnnounceHeld(ctx context.Context, c model.AwardCeremony) error
	// Ceremony returns one ceremony as stored, with its revision; nil when
	// none.
	Ceremony(ctx context.Context, id string) (*model.AwardCeremony, error)
	// Ceremonies lists every ceremony this replica knows, in no order.
	Ceremonies(ctx context.Context) ([]model.AwardCeremony, error)
	// CeremonyOfAward returns the HELD ceremony that lists an award; nil
	// when none does.
	CeremonyOfAward(ctx context.Context, awardID string) (*model.AwardCeremony, error)
	// AwardByCode returns the award whose certificate verification code
	// (canonical form) is code: fault.NotFound when none; an error, never
	// an award, when two awards share the code.
	AwardByCode(code string) (*model.Award, error)
}

// CreateCeremony plans a ceremony.
type CreateCeremony struct {
	Name, Place, Date, ProvinceCode, Host string
	Presenter                             *model.PresentedBy
	Notes                                 string
	RequestID, By                         string
}

func (c CreateCeremony) checkText() error {
	fs := []field{{"name", c.Name}, {"place", c.Place}, {"host", c.Host}, {"notes", c.Notes}}
	return checkFree(append(fs, presenterFields("presenter", c.Presenter)...)...)
}

func (c CreateCeremony) fingerprint() string {
	d := newDigest("CreateCeremony")
	d.add("name", c.Name)
	d.add("place", c.Place)
	d.add("date", c.Date)
	d.add("province_code", c.ProvinceCode)
	d.add("host", c.Host)
	if c.Presenter != nil {
		d.add("presenter", c.Presenter.Name, c.Presenter.Office)
	} else {
		d.add("presenter")
	}
	d.add("notes", c.Notes)
	return d.sum()
}

// CeremonyResult is a ceremony and whether this call changed it (created
// or held it).
type CeremonyResult struct {
	Ceremony model.AwardCeremony
	Changed  bool
}

// CreateCeremonyHandler is the CreateCeremony use case.
type CreateCeremonyHandler struct {
	store Store
	clock Clock
}

// Handle creates the ceremony; a retry returns the ceremony created first.
func (h CreateCeremonyHandler) Handle(ctx context.Context, cmd CreateCeremony) (CeremonyResult, error) {
	if err := cmd.checkText(); err != nil {
		return CeremonyResult{}, err
	}
	if err := ceremony.CheckDate(cmd.Date); err != nil {
		return CeremonyResult{}, err
	}
	fp := cmd.fingerprint()
	id := ceremony.ID(cmd.RequestID)
	if cur, err := h.store.Ceremony(ctx, id); err != nil || cur != nil {
		if err != nil {
			return CeremonyResult{}, err
		}
		return createdBefore(*cur, cmd.RequestID, fp)
	}
	c := model.AwardCeremony{
		ID: id, Name: cmd.Name, Place: cmd.Place, Date: cmd.Date, ProvinceCode: cmd.ProvinceCode, Host: cmd.Host,
		Presenter: cmd.Presenter, Notes: cmd.Notes, State: model.CeremonyPlanned, CreatedBy: cmd.By, CreateTime: h.clock.Now(),
		RequestID: cmd.RequestID, CreateFingerprint: fp,
	}
	stored, created, err := h.store.CreateCeremony(ctx, c)
	if err != nil {
		return CeremonyResult{}, err
	}
	if !created {
		return createdBefore(stored, cmd.RequestID, fp)
	}
	return CeremonyResult{Ceremony: stored, Changed: true}, nil
}

func createdBefore(c model.AwardCeremony, requestID, fp string) (CeremonyResult, error) {
	if err := sameRequest(requestID, c.CreateFingerprint, fp); err != nil {
		return CeremonyResult{}, err
	}
	return CeremonyResult{Ceremony: c}, nil
}

// HoldCeremony records a ceremony as held with the awards presented.
type HoldCeremony struct {
	CeremonyID    string
	AwardIDs      []string
	RequestID, By string
}

// orderedFingerprint is the digest holds had before their awards counted
// as a set.
func (c HoldCeremony) orderedFingerprint() string {
	d := newDigest("HoldCeremony")
	d.add("ceremony_id", c.CeremonyID)
	d.add("award_ids", c.AwardIDs...)
	return d.sum()
}

func (c HoldCeremony) fingerprint() string {
	d := newDigest("HoldCeremony")
	d.add("ceremony_id", c.CeremonyID)
	// A set: the same awards in another order are the same hold.
	d.add("award_ids", slices.Sorted(slices.Values(c.AwardIDs))...)
	return d.sum()
}

// HoldCeremonyHandler is the HoldCeremony use case.
type HoldCeremonyHandler struct {
	store Store
	clock Clock
}

// holdAttempts bounds the retries of a hold whose ceremony moved while it
// was decided (another replica storing the same hold, say).
const holdAttempts = 3

// Handle holds the ceremony. A retry of the hold that made it HELD gets the
// same answer and finishes an announcement cut short; any other hold of a
// HELD ceremony is refused.
func (h HoldCeremonyHandler) Handle(ctx context.Context, cmd HoldCeremony) (CeremonyResult, error) {
	fp := cmd.fingerprint()
	for range holdAttempts {
		c, err := h.store.Ceremony(ctx, cmd.CeremonyID)
		if err != nil {
			return CeremonyResult{}, err
		}
		if c == nil {
			return CeremonyResult{}, fault.NotFoundf("ceremony %s does not exist (ListCeremonies shows the ceremonies; CreateCeremony plans one)", cmd.CeremonyID)
		}
		if c.State == model.CeremonyHeld && c.HoldRequestID == cmd.RequestID {
			// Holds stored while the ids counted in their order carry that
			// digest: the same request, sent again, is still recognised.
			if c.HoldFingerprint == cmd.orderedFingerprint() {
				fp = c.HoldFingerprint
			}
			if err := sameRequest(cmd.RequestID, c.HoldFingerprint, fp); err != nil {
				return CeremonyResult{}, err
			}
			return CeremonyResult{Ceremony: *c}, h.store.AnnounceHeld(ctx, *c)
		}
		hold, err := h.gather(ctx, cmd)
		if err != nil {
			return CeremonyResult{}, err
		}
		hold.By, hold.RequestID, hold.Digest, hold.Now = cmd.By, cmd.RequestID, fp, h.clock.Now()
		next, err := ceremony.Apply(*c, hold)
		if err != nil {
			return CeremonyResult{}, err
		}
		stored, err := h.store.HoldCeremony(ctx, next)
		if fault.Is(err, fault.Conflict) {
			continue // moved meanwhile: decide again on what is stored
		}
		if err != nil {
			return CeremonyResult{}, err
		}
		return CeremonyResult{Ceremony: stored, Changed: true}, nil
	}
	return CeremonyResult{}, fault.Conflictf("ceremony %s is changing concurrently; try again", cmd.CeremonyID)
}

// gather reads the awards of a hold and where else each was presented.
func (h HoldCeremonyHandler) gather(ctx context.Context, cmd HoldCeremony) (ceremony.Hold, error) {
	hold := ceremony.Hold{Elsewhere: map[string]string{}}
	for _, id := range cmd.AwardIDs {
		a, err := h.store.Award(id)
		if err != nil {
			if fault.Is(err, fault.NotFound) {
				return ceremony.Hold{}, fault.NotFoundf("award %s does not exist: every award of a hold must be granted first", id)
			}
			return ceremony.Hold{}, err
		}
		hold.Awards = append(hold.Awards, *a)
		other, err := h.store.CeremonyOfAward(ctx, id)
		if err != nil {
			return ceremony.Hold{}, err
		}
		if other != nil {
			hold.Elsewhere[id] = other.ID
		}
	}
	return hold, nil
}

// CeremonyQueries answers the ceremony reads.
type CeremonyQueries struct{ store Store }

// Ceremony returns one ceremony.
func (q CeremonyQueries) Ceremony(ctx context.Context, id string) (model.AwardCeremony, error) {
	c, err := q.store.Ceremony(ctx, id)
	if err != nil {
		return model.AwardCeremony{}, err
	}
	if c == nil {
		return model.AwardCeremony{}, fault.NotFoundf("ceremony %s does not exist", id)
	}
	return *c, nil
}

// Ceremonies lists the ceremonies passing f, newest first.
func (q CeremonyQueries) Ceremonies(ctx context.Context, f ceremony.Filter) ([]model.AwardCeremony, error) {
	all, err := q.store.Ceremonies(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, c := range all {
		if f.Keep(c) {
			out = append(out, c)
		}
	}
	ceremony.Sort(out)
	return out, nil
}

// VerifyHint is printed beside the code on every certificate.
const VerifyHint = "Verifikasi / verify: predikat certificates verify"

// Certificate is an award's rendered certificate.
type Certificate struct {
	PDF      []byte
	Code     string
	Award    model.Award
	Ceremony *model.AwardCeremony
}

// Verification is what a verification code resolves to.
type Verification struct {
	Code     string
	Award    model.Award
	Ceremony *model.AwardCeremony
	Valid    bool
}

// CertificateHandler renders and verifies certificates.
type CertificateHandler struct {
	catalog *scheme.Catalog
	store   Store
}

// Certificate renders the certificate of a standing award.
func (h CertificateHandler) Certificate(ctx context.Context, awardID string) (Certificate, error) {
	a, err := h.store.Award(awardID)
	if err != nil {
		return Certificate{}, err
	}
	if a.State == model.AwardRevoked {
		return Certificate{}, fault.Preconditionf("award %s was revoked (%s): its certificate is void", a.ID, a.RevokeReason)
	}
	held, err := h.store.CeremonyOfAward(ctx, a.ID)
	if err != nil {
		return Certificate{}, err
	}
	c := ceremony.Certificate(*a, held, h.schemeName(*a), VerifyHint)
	pdf, err := certificate.Render(c)
	if err != nil {
		return Certificate{}, fmt.Errorf("render the certificate of award %s: %w", a.ID, err)
	}
	return Certificate{PDF: pdf, Code: c.VerificationCode, Award: *a, Ceremony: held}, nil
}

// schemeName is the name of the award's scheme version, "" when it names
// none or the catalog no longer knows it.
func (h CertificateHandler) schemeName(a model.Award) string {
	if a.SchemeID == "" {
		return ""
	}
	v, err := h.catalog.Get(a.SchemeID, a.SchemeVersion)
	if err != nil && a.Year != 0 {
		v, err = h.catalog.ForYear(a.SchemeID, a.Year)
	}
	if err != nil {
		return ""
	}
	return v.Name()
}

// Verify resolves a verification code to its award.
func (h CertificateHandler) Verify(ctx context.Context, code string) (Verification, error) {
	canon, err := certificate.ParseCode(code)
	if err != nil {
		return Verification{}, fault.Invalidf("code: %v", err)
	}
	a, err := h.store.AwardByCode(canon)
	if err != nil {
		return Verification{}, err
	}
	held, err := h.store.CeremonyOfAward(ctx, a.ID)
	if err != nil {
		return Verification{}, err
	}
	return Verification{Code: canon, Award: *a, Ceremony: held, Valid: a.State == model.AwardGranted}, nil
}
