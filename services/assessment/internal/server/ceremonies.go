package server

import (
	"context"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"github.com/predikat-id/predikat/services/assessment/internal/app"
	"github.com/predikat-id/predikat/services/assessment/internal/ceremony"
	"github.com/predikat-id/predikat/services/assessment/internal/convert"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

// Ceremonies implements predikat.assessment.v1.CeremonyService.
type Ceremonies struct {
	assessmentv1.UnimplementedCeremonyServiceServer
	app *app.App
}

// NewCeremonies returns the ceremony and certificate handlers.
func NewCeremonies(a *app.App) *Ceremonies { return &Ceremonies{app: a} }

// CreateCeremony implements CeremonyService.
func (s *Ceremonies) CreateCeremony(ctx context.Context, req *assessmentv1.CreateCeremonyRequest) (*assessmentv1.CreateCeremonyResponse, error) {
	res, err := s.app.CreateCeremony.Handle(ctx, app.CreateCeremony{
		Name: req.GetName(), Place: req.GetPlace(), Date: req.GetDate(), ProvinceCode: req.GetProvinceCode(), Host: req.GetHost(),
		Presenter: convert.PresentedByFromProto(req.GetPresenter()), Notes: req.GetNotes(), RequestID: req.GetRequestId(), By: actor(ctx),
	})
	if err != nil {
		return nil, err
	}
	return &assessmentv1.CreateCeremonyResponse{Ceremony: convert.AwardCeremonyToProto(&res.Ceremony), Created: res.Changed}, nil
}

// HoldCeremony implements CeremonyService.
func (s *Ceremonies) HoldCeremony(ctx context.Context, req *assessmentv1.HoldCeremonyRequest) (*assessmentv1.HoldCeremonyResponse, error) {
	res, err := s.app.HoldCeremony.Handle(ctx, app.HoldCeremony{
		CeremonyID: req.GetCeremonyId(), AwardIDs: req.GetAwardIds(), RequestID: req.GetRequestId(), By: actor(ctx),
	})
	if err != nil {
		return nil, err
	}
	return &assessmentv1.HoldCeremonyResponse{Ceremony: convert.AwardCeremonyToProto(&res.Ceremony), Changed: res.Changed}, nil
}

// GetCeremony implements CeremonyService.
func (s *Ceremonies) GetCeremony(ctx context.Context, req *assessmentv1.GetCeremonyRequest) (*assessmentv1.GetCeremonyResponse, error) {
	c, err := s.app.CeremonyQueries.Ceremony(ctx, req.GetCeremonyId())
	if err != nil {
		return nil, err
	}
	return &assessmentv1.GetCeremonyResponse{Ceremony: convert.AwardCeremonyToProto(&c)}, nil
}

// ListCeremonies implements CeremonyService.
func (s *Ceremonies) ListCeremonies(ctx context.Context, req *assessmentv1.ListCeremoniesRequest) (*assessmentv1.ListCeremoniesResponse, error) {
	got, err := s.app.CeremonyQueries.Ceremonies(ctx, ceremony.Filter{
		Year: req.GetYear(), ProvinceCode: req.GetProvinceCode(), State: model.CeremonyState(req.GetState()),
	})
	if err != nil {
		return nil, err
	}
	resp := &assessmentv1.ListCeremoniesResponse{}
	for i := range got {
		resp.Ceremonies = append(resp.Ceremonies, convert.AwardCeremonyToProto(&got[i]))
	}
	return resp, nil
}

// GetCertificate implements CeremonyService.
func (s *Ceremonies) GetCertificate(ctx context.Context, req *assessmentv1.GetCertificateRequest) (*assessmentv1.GetCertificateResponse, error) {
	c, err := s.app.Certificates.Certificate(ctx, req.GetAwardId())
	if err != nil {
		return nil, err
	}
	return &assessmentv1.GetCertificateResponse{
		Pdf: c.PDF, VerificationCode: c.Code, ContentType: "application/pdf", FileName: "piagam-" + c.Code + ".pdf",
		Award: convert.AwardToProto(&c.Award), Ceremony: convert.AwardCeremonyToProto(c.Ceremony),
	}, nil
}

// VerifyCertificate implements CeremonyService.
func (s *Ceremonies) VerifyCertificate(ctx context.Context, req *assessmentv1.VerifyCertificateRequest) (*assessmentv1.VerifyCertificateResponse, error) {
	v, err := s.app.Certificates.Verify(ctx, req.GetCode())
	if err != nil {
		return nil, err
	}
	return &assessmentv1.VerifyCertificateResponse{Code: v.Code, Award: convert.AwardToProto(&v.Award),
		Ceremony: convert.AwardCeremonyToProto(v.Ceremony), Valid: v.Valid}, nil
}
