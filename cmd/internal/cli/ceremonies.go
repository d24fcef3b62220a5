package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
)

func cmdCeremoniesCreate(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	req := &assessmentv1.CreateCeremonyRequest{}
	fs.StringVar(&req.Name, "name", "", "name of the ceremony (required)")
	fs.StringVar(&req.Place, "place", "", "venue and town, e.g. \"Gedung Mahligai Pancasila, Banjarmasin\"")
	fs.StringVar(&req.Date, "date", "", "day of the ceremony, YYYY-MM-DD (required)")
	fs.StringVar(&req.ProvinceCode, "province", "", "province where it is held, e.g. 63; 00 for a national ceremony (required)")
	fs.StringVar(&req.Host, "host", "", "host, e.g. \"Pemerintah Provinsi Kalimantan Selatan\"")
	by := fs.String("presented-by", "", "official who presents the awards")
	office := fs.String("office", "", "office of the presenter")
	fs.StringVar(&req.Notes, "notes", "", "free text")
	fs.StringVar(&req.RequestId, "request-id", "", "idempotency key (default: derived from the ceremony's fields)")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		if err := required("name", req.Name, "date", req.Date, "province", req.ProvinceCode); err != nil {
			return err
		}
		if err := checkProvince(req.ProvinceCode); err != nil {
			return err
		}
		if *by != "" || *office != "" {
			req.Presenter = &assessmentv1.PresentedBy{Name: *by, Office: *office}
		}
		if req.RequestId == "" {
			req.RequestId = contentRequestID("ceremony", req.GetName(), req.GetPlace(), req.GetDate(), req.GetProvinceCode(), req.GetHost(),
				*by, *office, req.GetNotes())
		}
		resp, err := s.cer.CreateCeremony(ctx, req)
		if err != nil {
			return err
		}
		if s.json {
			return s.emit(resp.GetCeremony())
		}
		c := resp.GetCeremony()
		verb := "planned"
		if !resp.GetCreated() {
			verb = "already planned (the same ceremony was sent before)"
		}
		line(s.out, "%s %s: %s, %s, %s", verb, c.GetId(), c.GetName(), orDash(c.GetPlace()), c.GetDate())
		return nil
	}
}

func cmdCeremoniesHold(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	var awards repeated
	fs.Var(&awards, "award", "an award presented at it (aw-...); repeatable")
	requestID := fs.String("request-id", "", "idempotency key (default: derived from the ceremony and its awards)")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 1, "CEREMONY"); err != nil {
			return err
		}
		var ids []string
		for _, a := range awards {
			for id := range strings.SplitSeq(a, ",") {
				if id = strings.TrimSpace(id); id != "" {
					ids = append(ids, id)
				}
			}
		}
		if len(ids) == 0 {
			return usagef("give the awards presented: --award aw-... (repeatable, or comma-separated)")
		}
		if *requestID == "" {
			*requestID = contentRequestID("hold", append([]string{args[0]}, ids...)...)
		}
		resp, err := s.cer.HoldCeremony(ctx, &assessmentv1.HoldCeremonyRequest{CeremonyId: args[0], AwardIds: ids, RequestId: *requestID})
		if err != nil {
			return err
		}
		if s.json {
			return s.emit(resp.GetCeremony())
		}
		c := resp.GetCeremony()
		verb := "held"
		if !resp.GetChanged() {
			verb = "already held (the same hold was sent before)"
		}
		line(s.out, "%s %s: %s, %s, with %d awards", verb, c.GetId(), c.GetName(), c.GetDate(), len(c.GetAwards()))
		return nil
	}
}

func cmdCeremoniesList(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	year := fs.Int("year", 0, "only ceremonies of this year")
	province := fs.String("province", "", "only ceremonies held in this province, e.g. 63 (00: national ones)")
	state := fs.String("state", "", "only planned or only held ceremonies")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 0, ""); err != nil {
			return err
		}
		if err := checkProvince(*province); err != nil {
			return err
		}
		req := &assessmentv1.ListCeremoniesRequest{Year: int32(*year), ProvinceCode: *province}
		if *state != "" {
			v, ok := assessmentv1.CeremonyState_value["CEREMONY_STATE_"+strings.ToUpper(*state)]
			if !ok || v == 0 {
				return usagef("--state %q: planned or held", *state)
			}
			req.State = assessmentv1.CeremonyState(v)
		}
		resp, err := s.cer.ListCeremonies(ctx, req)
		if err != nil {
			return err
		}
		if s.json {
			return s.emit(resp)
		}
		if len(resp.GetCeremonies()) == 0 {
			return s.none("ceremonies")
		}
		return renderCeremonies(s.out, resp.GetCeremonies())
	}
}

func cmdCeremoniesShow(_ *flag.FlagSet, s *session) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 1, "CEREMONY"); err != nil {
			return err
		}
		resp, err := s.cer.GetCeremony(ctx, &assessmentv1.GetCeremonyRequest{CeremonyId: args[0]})
		if err != nil {
			return err
		}
		if s.json {
			return s.emit(resp.GetCeremony())
		}
		return renderCeremony(s.out, resp.GetCeremony())
	}
}

func cmdCertificatesGet(fs *flag.FlagSet, s *session) func(context.Context, []string) error {
	out := fs.String("out", "", "write the PDF to this file (default: the suggested name, piagam-<code>.pdf)")
	return func(ctx context.Context, args []string) error {
		if err := needArgs(args, 1, "AWARD"); err != nil {
			return err
		}
		resp, err := s.cer.GetCertificate(ctx, &assessmentv1.GetCertificateRequest{AwardId: args[0]})
		if err != nil {
			return err
		}
		path := *out
		if path == "" {
			path = resp.GetFileName()
		}
		if err := os.WriteFile(path, resp.GetPdf(), 0o644); err != nil { //nolint:gosec // a certificate is for sharing
			return fmt.Errorf("write the certificate: %w", err)
		}
		if s.json {
			return s.emit(&assessmentv1.VerifyCertificateResponse{Code: resp.GetVerificationCode(), Award: resp.GetAward(),
				Ceremony: resp.GetCeremony(), Valid: true})
		}
		a := resp.GetAward()
		line(s.out, "wrote %s (%d bytes): %s, %s; verification code %s", path, len(resp.GetPdf()), a.GetTitle(),
			a.GetInstitution().GetName(), resp.GetVerificationCode())
		return nil
	}
}

func cmdCertificatesVerify(_ *flag.FlagSet, s *session) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		if len(args) == 0 {
			return usagef("give the code printed on the certificate, e.g. PKT-XXXX-XXXX-XXXX")
		}
		// A code typed with spaces arrives as several arguments.
		resp, err := s.cer.VerifyCertificate(ctx, &assessmentv1.VerifyCertificateRequest{Code: strings.Join(args, " ")})
		if err != nil {
			return err
		}
		if s.json {
			return s.emit(resp)
		}
		return renderVerification(s.out, resp)
	}
}

func ceremonyStateText(st assessmentv1.CeremonyState) string {
	return strings.ToLower(strings.TrimPrefix(st.String(), "CEREMONY_STATE_"))
}

func presenterText(p *assessmentv1.PresentedBy) string {
	if p == nil {
		return ""
	}
	return strings.TrimSuffix(p.GetName()+", "+p.GetOffice(), ", ")
}

// renderCeremonies lists ceremonies and who received what at each.
func renderCeremonies(w io.Writer, cs []*assessmentv1.AwardCeremony) error {
	t := newTable("DATE", "CEREMONY", "PLACE", "STATE", "INSTITUTION", "AWARD", "ID")
	for _, c := range cs {
		name, place := c.GetName(), orDash(c.GetPlace())
		if len(c.GetAwards()) == 0 {
			t.add(c.GetDate(), name, place, ceremonyStateText(c.GetState()), "-", "-", c.GetId())
			continue
		}
		for i, a := range c.GetAwards() {
			date, state, id := c.GetDate(), ceremonyStateText(c.GetState()), c.GetId()
			if i > 0 {
				date, name, place, state, id = "", "", "", "", ""
			}
			t.add(date, name, place, state, a.GetInstitutionName(), a.GetTitle(), id)
		}
	}
	return t.write(w)
}

// renderCeremony prints one ceremony and every award presented at it.
func renderCeremony(w io.Writer, c *assessmentv1.AwardCeremony) error {
	line(w, "%s  %s", c.GetId(), c.GetName())
	line(w, "  date      %s", c.GetDate())
	line(w, "  place     %s", orDash(c.GetPlace()))
	line(w, "  province  %s", c.GetProvinceCode())
	line(w, "  host      %s", orDash(c.GetHost()))
	line(w, "  presenter %s", orDash(presenterText(c.GetPresenter())))
	line(w, "  state     %s", ceremonyStateText(c.GetState()))
	if c.GetNotes() != "" {
		line(w, "  notes     %s", c.GetNotes())
	}
	if len(c.GetAwards()) == 0 {
		line(w, "  no award presented yet")
		return nil
	}
	line(w, "")
	t := newTable("INSTITUTION", "AWARD", "SCORE", "BAND", "AWARD ID").alignRight(2)
	for _, a := range c.GetAwards() {
		band := a.GetBandCode()
		if a.GetBandLabel() != "" {
			band += " (" + a.GetBandLabel() + ")"
		}
		t.add(a.GetInstitutionName(), a.GetTitle(), orDash(a.GetScore()), orDash(band), a.GetAwardId())
	}
	return t.write(w)
}

func renderVerification(w io.Writer, v *assessmentv1.VerifyCertificateResponse) error {
	a := v.GetAward()
	if v.GetValid() {
		line(w, "%s is valid: award %s", v.GetCode(), a.GetId())
	} else {
		line(w, "%s is VOID: award %s was revoked (%s)", v.GetCode(), a.GetId(), a.GetRevokeReason())
	}
	line(w, "  institution %s", a.GetInstitution().GetName())
	line(w, "  award       %s", a.GetTitle())
	if b := a.GetBasis(); b.GetScore() != "" || b.GetBandCode() != "" {
		line(w, "  score, band %s %s", orDash(b.GetScore()), b.GetBandCode())
	}
	if c := v.GetCeremony(); c != nil {
		line(w, "  ceremony    %s, %s, %s (%s)", c.GetName(), orDash(c.GetPlace()), c.GetDate(), c.GetId())
	} else if c := a.GetCeremony(); c != nil {
		line(w, "  ceremony    %s, %s, %s", c.GetName(), orDash(c.GetPlace()), c.GetDate())
	}
	return nil
}
