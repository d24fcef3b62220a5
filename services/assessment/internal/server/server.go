// Package server holds the AssessmentService gRPC handlers. They stay thin:
// protovalidate has checked each request's shape, the scheme and scoring
// packages decide numbers, the round package decides states, the store
// persists, and faults carry their gRPC codes.
package server

import (
	"context"
	"fmt"
	"strings"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/registryclient"
	"github.com/predikat-id/predikat/services/assessment/internal/round"
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
	"github.com/predikat-id/predikat/services/assessment/internal/scoring"
	"github.com/predikat-id/predikat/services/assessment/internal/store"
	"google.golang.org/grpc/metadata"
)

// DefaultPageSize is used when a list request leaves page_size at 0.
const DefaultPageSize = 50

// Server implements predikat.assessment.v1.AssessmentService.
type Server struct {
	assessmentv1.UnimplementedAssessmentServiceServer
	catalog  *scheme.Catalog
	store    *store.Store
	registry *registryclient.Client
}

// New returns the handlers.
func New(cat *scheme.Catalog, st *store.Store, reg *registryclient.Client) *Server {
	return &Server{catalog: cat, store: st, registry: reg}
}

// actor is who the caller says they are (metadata x-predikat-actor).
func actor(ctx context.Context) string {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("x-predikat-actor"); len(v) > 0 && strings.TrimSpace(v[0]) != "" {
			return strings.TrimSpace(v[0])
		}
	}
	return "anonymous"
}

// ListSchemes implements AssessmentService.
func (s *Server) ListSchemes(_ context.Context, req *assessmentv1.ListSchemesRequest) (*assessmentv1.ListSchemesResponse, error) {
	var out []*assessmentv1.Scheme
	for _, v := range s.catalog.List(req.GetSchemeId(), req.GetYear(), req.GetEligibleKind()) {
		out = append(out, v.Proto())
	}
	return &assessmentv1.ListSchemesResponse{Schemes: out}, nil
}

// GetScheme implements AssessmentService.
func (s *Server) GetScheme(_ context.Context, req *assessmentv1.GetSchemeRequest) (*assessmentv1.GetSchemeResponse, error) {
	v, err := s.version(req.GetSchemeId(), req.GetVersion(), req.GetYear())
	if err != nil {
		return nil, err
	}
	return &assessmentv1.GetSchemeResponse{Scheme: v.Proto()}, nil
}

func (s *Server) version(schemeID, version string, year int32) (*scheme.Version, error) {
	if version != "" {
		return s.catalog.Get(schemeID, version)
	}
	return s.catalog.ForYear(schemeID, year)
}

// ComputeAssessment implements AssessmentService.
func (s *Server) ComputeAssessment(_ context.Context, req *assessmentv1.ComputeAssessmentRequest) (*assessmentv1.ComputeAssessmentResponse, error) {
	v, err := s.version(req.GetSchemeId(), req.GetVersion(), req.GetYear())
	if err != nil {
		return nil, err
	}
	res, err := scoring.Compute(v, req.GetInput())
	if err != nil {
		return nil, err
	}
	a := &assessmentv1.Assessment{}
	res.Fill(a)
	return &assessmentv1.ComputeAssessmentResponse{
		SchemeVersion: v.Proto().GetVersion(), Basis: a.GetBasis(), WeightedTotal: a.GetWeightedTotal(), Total: a.GetTotal(),
		BandCode: a.GetBandCode(), BandLabel: a.GetBandLabel(), BandZone: a.GetBandZone(),
	}, nil
}

// RecordAssessment implements AssessmentService.
func (s *Server) RecordAssessment(ctx context.Context, req *assessmentv1.RecordAssessmentRequest) (*assessmentv1.RecordAssessmentResponse, error) {
	a, created, err := s.record(ctx, req.GetRoundId(), req.GetInstitutionId(), req.GetInput(), req.GetCorrectsRevision(), req.GetReason(), req.GetRequestId(), false)
	if err != nil {
		return nil, err
	}
	return &assessmentv1.RecordAssessmentResponse{Assessment: a, Created: created}, nil
}

// CorrectPublishedAssessment implements AssessmentService.
func (s *Server) CorrectPublishedAssessment(ctx context.Context, req *assessmentv1.CorrectPublishedAssessmentRequest) (*assessmentv1.CorrectPublishedAssessmentResponse, error) {
	a, created, err := s.record(ctx, req.GetRoundId(), req.GetInstitutionId(), req.GetInput(), req.GetCorrectsRevision(), req.GetReason(), req.GetRequestId(), true)
	if err != nil {
		return nil, err
	}
	resp := &assessmentv1.CorrectPublishedAssessmentResponse{Assessment: a, Created: created}
	r, err := s.store.RoundState(ctx, req.GetRoundId())
	if err != nil {
		return nil, err
	}
	// Re-evaluated on retries too: a correction whose award step was cut
	// short is finished by sending it again.
	if resp.AwardsGranted, resp.AwardsRevoked, err = s.reconcileRuleAwards(ctx, r, req.GetReason()); err != nil {
		return nil, err
	}
	// Announced on retries too (same event id, so once): a first call cut
	// short after the append must not lose the announcement.
	if a.GetAfterPublication() {
		var prev *assessmentv1.Assessment
		if a.GetRevision() > 1 {
			if prev, err = s.store.Assessment(ctx, a.GetSchemeId(), a.GetYear(), a.GetRoundId(), a.GetInstitutionId(), a.GetRevision()-1); err != nil {
				return nil, err
			}
		}
		ev := &eventsv1.RoundCorrected{
			EventId: fmt.Sprintf("round-corrected/%s/%s/%d", a.GetRoundId(), a.GetInstitutionId(), a.GetRevision()),
			RoundId: a.GetRoundId(), SchemeId: a.GetSchemeId(), Year: a.GetYear(), InstitutionId: a.GetInstitutionId(),
			PreviousRevision: prev.GetRevision(), Revision: a.GetRevision(), PreviousTotal: prev.GetTotal(), Total: a.GetTotal(),
			PreviousBandCode: prev.GetBandCode(), BandCode: a.GetBandCode(), Reason: a.GetReason(), CorrectedBy: a.GetRecordedBy(),
			AwardsGranted: resp.GetAwardsGranted(), AwardsRevoked: resp.GetAwardsRevoked(),
		}
		if err := s.store.PublishCorrected(ctx, ev); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// record is RecordAssessment and CorrectPublishedAssessment: they differ in
// the round state they need. It returns the stored revision and whether this
// call created it.
func (s *Server) record(ctx context.Context, roundID, institutionID string, in *assessmentv1.AssessmentInput, corrects uint64, reason, requestID string, afterPublication bool) (*assessmentv1.Assessment, bool, error) {
	r, err := s.store.RoundState(ctx, roundID)
	if err != nil {
		return nil, false, err
	}
	// A retry gets its first answer, whatever happened to the round since.
	done, latest, err := s.store.Replay(ctx, r.GetSchemeId(), r.GetYear(), institutionID, requestID)
	if err != nil || done != nil {
		return done, false, err
	}
	check := round.CheckRecordable
	if afterPublication {
		check = round.CheckCorrectable
	}
	if err := check(r); err != nil {
		// A retry of a request that has since been superseded still gets
		// its first answer, even now that the round has moved on.
		if done, ferr := s.store.FindRequest(ctx, r.GetSchemeId(), r.GetYear(), institutionID, requestID); ferr != nil || done != nil {
			return done, false, ferr
		}
		return nil, false, err
	}
	v, err := s.catalog.Get(r.GetSchemeId(), r.GetSchemeVersion())
	if err != nil {
		return nil, false, err
	}
	inst, err := s.registry.Lookup(ctx, institutionID)
	if err != nil {
		return nil, false, err
	}
	if inst.GetStatus() == registryv1.InstitutionStatus_INSTITUTION_STATUS_RETIRED {
		return nil, false, fault.Preconditionf("institution %s is retired (%s) and takes no new assessments", institutionID, inst.GetRetireReason())
	}
	if !v.Eligible(inst.GetKind()) {
		return nil, false, fault.Preconditionf("%s is a %s; scheme %s %s assesses only %s",
			institutionID, kindName(inst.GetKind()), v.Proto().GetId(), v.Proto().GetVersion(), kindNames(v.Proto().GetEligibleKinds()))
	}
	res, err := scoring.Compute(v, in)
	if err != nil {
		return nil, false, err
	}
	snap, err := s.snapshot(ctx, inst)
	if err != nil {
		return nil, false, err
	}
	a := &assessmentv1.Assessment{
		RoundId: r.GetId(), SchemeId: r.GetSchemeId(), SchemeVersion: r.GetSchemeVersion(), Year: r.GetYear(),
		InstitutionId: institutionID, Institution: snap, Respondents: in.GetRespondents(), Notes: in.GetNotes(),
		Source: in.GetSource(), Reason: reason, AfterPublication: afterPublication, RequestId: requestID, RecordedBy: actor(ctx),
	}
	res.Fill(a)
	ev := &eventsv1.AssessmentRecorded{Assessment: a, PeerGroups: v.PeerGroupsFor(inst.GetKind()), Scale: v.Proto().GetScale()}
	return s.store.Append(ctx, ev, corrects, latest, check)
}

func (s *Server) snapshot(ctx context.Context, inst *registryv1.Institution) (*assessmentv1.InstitutionSnapshot, error) {
	snap := &assessmentv1.InstitutionSnapshot{
		Id: inst.GetId(), Name: inst.GetName(), Kind: inst.GetKind(), RegionCode: inst.GetRegionCode(),
		ParentId: inst.GetParentId(), Head: inst.GetHead(), RegistryRevision: inst.GetRevision(),
	}
	reg, err := s.registry.LookupRegion(ctx, inst.GetRegionCode())
	if err != nil {
		return nil, err
	}
	snap.RegionName, snap.ProvinceCode = reg.GetName(), reg.GetProvinceCode()
	if reg.GetProvinceCode() == "" {
		snap.ProvinceCode = "00" // national bodies: the "00" subject and filter token
	}
	if pc := reg.GetProvinceCode(); pc != "" {
		prov, err := s.registry.LookupRegion(ctx, pc)
		if err != nil {
			return nil, err
		}
		snap.ProvinceName = prov.GetName()
	}
	return snap, nil
}

func kindName(k registryv1.InstitutionKind) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(k.String(), "INSTITUTION_KIND_"), "_", " "))
}

func kindNames(ks []registryv1.InstitutionKind) string {
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = kindName(k)
	}
	return strings.Join(names, ", ")
}
