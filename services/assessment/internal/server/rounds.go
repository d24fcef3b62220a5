package server

import (
	"context"
	"fmt"
	"slices"
	"time"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/pkg/platform/pagetoken"
	"github.com/predikat-id/predikat/services/assessment/internal/round"
	"google.golang.org/protobuf/proto"
)

// CreateRound implements AssessmentService.
func (s *Server) CreateRound(ctx context.Context, req *assessmentv1.CreateRoundRequest) (*assessmentv1.CreateRoundResponse, error) {
	inForce, err := s.catalog.ForYear(req.GetSchemeId(), req.GetYear())
	if err != nil && req.GetSchemeVersion() == "" {
		return nil, err
	}
	v := inForce
	if req.GetSchemeVersion() != "" {
		if v, err = s.catalog.Get(req.GetSchemeId(), req.GetSchemeVersion()); err != nil {
			return nil, err
		}
		if inForce == nil || inForce.Proto().GetVersion() != v.Proto().GetVersion() {
			return nil, fault.Preconditionf("scheme %s version %s is not in force in %d (years %d-%d)", req.GetSchemeId(), req.GetSchemeVersion(),
				req.GetYear(), v.Proto().GetFirstYear(), v.Proto().GetLastYear())
		}
	}
	title := req.GetTitle()
	if title == "" {
		title = fmt.Sprintf("%s %d", v.Proto().GetName(), req.GetYear())
	}
	r, err := s.store.CreateRound(ctx, &assessmentv1.Round{
		Id: round.ID(req.GetSchemeId(), req.GetYear()), SchemeId: req.GetSchemeId(), SchemeVersion: v.Proto().GetVersion(),
		Year: req.GetYear(), Title: title, CollectionStart: req.GetCollectionStart(), CollectionEnd: req.GetCollectionEnd(),
		SchemeProvisional: v.Proto().GetProvisional(), Notes: req.GetNotes(), CreatedBy: actor(ctx),
	})
	if err != nil {
		return nil, err
	}
	return &assessmentv1.CreateRoundResponse{Round: r}, nil
}

// GetRound implements AssessmentService.
func (s *Server) GetRound(ctx context.Context, req *assessmentv1.GetRoundRequest) (*assessmentv1.GetRoundResponse, error) {
	r, err := s.store.Round(ctx, req.GetRoundId())
	if err != nil {
		return nil, err
	}
	return &assessmentv1.GetRoundResponse{Round: r}, nil
}

// ListRounds implements AssessmentService.
func (s *Server) ListRounds(ctx context.Context, req *assessmentv1.ListRoundsRequest) (*assessmentv1.ListRoundsResponse, error) {
	filter := proto.Clone(req).(*assessmentv1.ListRoundsRequest)
	filter.PageSize, filter.PageToken = 0, ""
	fp := pagetoken.Fingerprint(filter)
	after, err := pagetoken.Decode(req.GetPageToken(), fp)
	if err != nil {
		return nil, err
	}
	all, err := s.store.ListRounds(ctx, func(r *assessmentv1.Round) bool {
		return (req.GetSchemeId() == "" || r.GetSchemeId() == req.GetSchemeId()) &&
			(req.GetYear() == 0 || r.GetYear() == req.GetYear()) &&
			(len(req.GetStates()) == 0 || slices.Contains(req.GetStates(), r.GetState()))
	})
	if err != nil {
		return nil, err
	}
	key := func(r *assessmentv1.Round) string { return fmt.Sprintf("%04d|%s", 9999-r.GetYear(), r.GetSchemeId()) }
	page, more := pageOf(all, key, after, pageSize(req.GetPageSize()))
	resp := &assessmentv1.ListRoundsResponse{Rounds: page}
	if more {
		resp.NextPageToken = pagetoken.Encode(fp, key(page[len(page)-1]))
	}
	return resp, nil
}

// CloseRound implements AssessmentService.
func (s *Server) CloseRound(ctx context.Context, req *assessmentv1.CloseRoundRequest) (*assessmentv1.CloseRoundResponse, error) {
	now := time.Now()
	r, _, err := s.store.Transition(ctx, req.GetRoundId(), "", func(r *assessmentv1.Round) (*assessmentv1.Round, bool, error) {
		return round.Close(r, now)
	})
	if err != nil {
		return nil, err
	}
	return &assessmentv1.CloseRoundResponse{Round: r}, nil
}

// ReopenRound implements AssessmentService.
func (s *Server) ReopenRound(ctx context.Context, req *assessmentv1.ReopenRoundRequest) (*assessmentv1.ReopenRoundResponse, error) {
	r, _, err := s.store.Transition(ctx, req.GetRoundId(), req.GetReason(), round.Reopen)
	if err != nil {
		return nil, err
	}
	return &assessmentv1.ReopenRoundResponse{Round: r}, nil
}

// PublishRound implements AssessmentService: freeze, announce, grant. Each
// step is idempotent, so a call that stopped halfway is finished by calling
// again.
func (s *Server) PublishRound(ctx context.Context, req *assessmentv1.PublishRoundRequest) (*assessmentv1.PublishRoundResponse, error) {
	now := time.Now()
	r, changed, err := s.store.Transition(ctx, req.GetRoundId(), "", func(r *assessmentv1.Round) (*assessmentv1.Round, bool, error) {
		return round.Publish(r, now)
	})
	if err != nil {
		return nil, err
	}
	if !changed {
		// Already published: finish what an interrupted call may have left.
		if err := s.store.EnsurePublishedEvent(ctx, r); err != nil {
			return nil, err
		}
	}
	granted, existing, err := s.grantRuleAwards(ctx, r, req.GetCeremony(), req.GetPresentedBy())
	if err != nil {
		return nil, err
	}
	if r, err = s.store.Round(ctx, r.GetId()); err != nil {
		return nil, err
	}
	return &assessmentv1.PublishRoundResponse{Round: r, AwardsGranted: granted, AwardsExisting: existing}, nil
}

func pageSize(n int32) int {
	if n == 0 {
		return DefaultPageSize
	}
	return int(n)
}

// pageOf pages an already sorted slice by key.
func pageOf[T any](all []T, key func(T) string, after string, size int) ([]T, bool) {
	var out []T
	for _, x := range all {
		if after != "" && key(x) <= after {
			continue
		}
		if len(out) == size {
			return out, true
		}
		out = append(out, x)
	}
	return out, false
}
