package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// Ceremony is one ceremony to plan and hold with the awards presented at
// it: the granted awards carrying its name and date, of Institutions when
// given.
type Ceremony struct {
	Create        *assessmentv1.CreateCeremonyRequest
	Institutions  []string
	ExpectAwards  int
	HoldRequestID string
}

type ceremonySpec struct {
	Create        json.RawMessage `json:"create"`
	Institutions  []string        `json:"institutions"`
	ExpectAwards  int             `json:"expect_awards"`
	HoldRequestID string          `json:"hold_request_id"`
}

func parseCeremonies() ([]Ceremony, error) {
	var spec struct {
		Ceremonies []ceremonySpec `json:"ceremonies"`
	}
	if err := readJSON("ceremonies.json", &spec); err != nil {
		return nil, err
	}
	var out []Ceremony
	for i, cs := range spec.Ceremonies {
		c := Ceremony{Create: &assessmentv1.CreateCeremonyRequest{}, Institutions: cs.Institutions, ExpectAwards: cs.ExpectAwards, HoldRequestID: cs.HoldRequestID}
		if err := protojson.Unmarshal(cs.Create, c.Create); err != nil {
			return nil, fmt.Errorf("data/ceremonies.json: ceremony %d: create: %w", i+1, err)
		}
		if c.HoldRequestID == "" {
			return nil, fmt.Errorf("data/ceremonies.json: ceremony %d: hold_request_id is required", i+1)
		}
		out = append(out, c)
	}
	return out, nil
}

// Hold is the HoldCeremony request of a planned ceremony presenting awards.
func (c Ceremony) Hold(ceremonyID string, awardIDs []string) *assessmentv1.HoldCeremonyRequest {
	return &assessmentv1.HoldCeremonyRequest{CeremonyId: ceremonyID, AwardIds: awardIDs, RequestId: c.HoldRequestID}
}

// Presents says whether an award was presented at the ceremony: its
// ceremony has the same name and date, and it went to one of the
// ceremony's institutions when they are named.
func (c Ceremony) Presents(a *assessmentv1.Award) bool {
	return a.GetCeremony().GetName() == c.Create.GetName() && a.GetCeremony().GetDate() == c.Create.GetDate() &&
		(len(c.Institutions) == 0 || slices.Contains(c.Institutions, a.GetInstitution().GetId()))
}

func loadCeremonies(ctx context.Context, cl Clients, log *slog.Logger, d *Data) error {
	planned, held := 0, 0
	for _, c := range d.Ceremonies {
		created, err := cl.Ceremonies.CreateCeremony(ctx, c.Create)
		if err != nil {
			return fmt.Errorf("demo ceremony %s: %w", c.Create.GetRequestId(), err)
		}
		if created.GetCreated() {
			planned++
		}
		ids, err := presented(ctx, cl, c)
		if err != nil {
			return err
		}
		resp, err := cl.Ceremonies.HoldCeremony(ctx, c.Hold(created.GetCeremony().GetId(), ids))
		if err != nil {
			return fmt.Errorf("demo ceremony %s: hold with %d awards: %w", c.Create.GetRequestId(), len(ids), err)
		}
		if resp.GetChanged() {
			held++
		}
	}
	log.Info("demo ceremonies", "planned", planned, "held", held, "total", len(d.Ceremonies))
	return nil
}

// presented finds the granted awards presented at c, by id.
func presented(ctx context.Context, cl Clients, c Ceremony) ([]string, error) {
	req := &assessmentv1.ListAwardsRequest{CeremonyDate: c.Create.GetDate(), State: assessmentv1.AwardState_AWARD_STATE_GRANTED, PageSize: 1000}
	if len(c.Institutions) == 1 {
		req.InstitutionId = c.Institutions[0]
	}
	var ids []string
	for {
		resp, err := cl.Assessment.ListAwards(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("demo ceremony %s: awards of %s: %w", c.Create.GetRequestId(), c.Create.GetDate(), err)
		}
		for _, a := range resp.GetAwards() {
			if c.Presents(a) {
				ids = append(ids, a.GetId())
			}
		}
		if resp.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.GetNextPageToken()
	}
	// In id order: the hold's request is the same on every load.
	slices.Sort(ids)
	if len(ids) == 0 || (c.ExpectAwards > 0 && len(ids) != c.ExpectAwards) {
		return nil, fmt.Errorf("demo ceremony %s: %d awards carry its name and date, want %d", c.Create.GetRequestId(), len(ids), max(c.ExpectAwards, 1))
	}
	return ids, nil
}
