package app

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
	"github.com/predikat-id/predikat/services/assessment/internal/round"
)

// BatchRecord records new records of one OPEN round together: every record
// is stored or none is. Each carries its own request id, as a
// RecordAssessment would (the same fingerprint): a record stored before
// under its id, by a batch or alone, is answered as stored.
type BatchRecord struct {
	RoundID string
	Records []RecordAssessment
}

// BatchRecordHandler is the BatchRecordAssessments use case.
type BatchRecordHandler struct{ rec recorder }

// Handle records the batch and answers every record in its order.
func (h BatchRecordHandler) Handle(ctx context.Context, cmd BatchRecord) ([]Recorded, error) {
	seen := map[string]int{}
	for i, c := range cmd.Records {
		if err := c.checkText(); err != nil {
			return nil, fmt.Errorf("records[%d] (%s): %w", i, c.InstitutionID, err)
		}
		if j, dup := seen[c.InstitutionID]; dup {
			return nil, fault.Invalidf("records[%d]: institution %s is already records[%d]: one record per institution in a batch", i, c.InstitutionID, j)
		}
		seen[c.InstitutionID] = i
	}
	fresh := false
	for range maxFenceRetries {
		out, err := h.try(ctx, cmd, fresh)
		// The round, or a record, moved while the batch was decided or
		// stored: decide again on what is stored now (a batch that did
		// commit is then answered from its records), read from the
		// stream, since this replica's view may be what was behind.
		if !errors.Is(err, ErrRoundMoved) && !errors.Is(err, ErrBatchMoved) {
			if err != nil {
				return out, err
			}
			// Once per roll-up the batch's records count in, retries too.
			written := make([]*model.Assessment, len(out))
			by := ""
			for i, r := range out {
				written[i] = r.Assessment
				by = cmd.Records[i].By
			}
			return out, h.rec.afterWrite(ctx, cmd.RoundID, written, by)
		}
		fresh = fresh || errors.Is(err, ErrBatchMoved)
	}
	return nil, fault.Conflictf("round %s or its records are changing concurrently; send the batch again (records stored meanwhile are answered, not stored twice)", cmd.RoundID)
}

// try decides every record on the round as it is now, then stores the new
// ones in one batch.
func (h BatchRecordHandler) try(ctx context.Context, cmd BatchRecord, fresh bool) ([]Recorded, error) {
	r, err := h.rec.round(ctx, cmd.RoundID, round.CheckRecordable)
	if err != nil {
		return nil, err
	}
	out := make([]Recorded, len(cmd.Records))
	decided := make([]*Append, len(cmd.Records))
	errs := make([]error, len(cmd.Records))
	// Each record is decided on its own (its tip, the registry's word on
	// its institution, its result): in parallel, so a batch waits for the
	// slowest lookups, not their sum. The first failure in the batch's
	// order is the answer, whatever finished first.
	sem := make(chan struct{}, decideParallel)
	var wg sync.WaitGroup
	for i := range cmd.Records {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			decided[i], out[i], errs[i] = h.decide(ctx, r, cmd, i, fresh)
		}()
	}
	wg.Wait()
	if err := firstError(errs); err != nil {
		return nil, err
	}
	var todo []Append
	var at []int
	for i, a := range decided {
		if a != nil {
			todo = append(todo, *a)
			at = append(at, i)
		}
	}
	if len(todo) == 0 {
		return out, nil
	}
	stored, err := h.rec.store.AppendBatch(ctx, todo, r)
	if err != nil {
		return nil, err
	}
	for j, a := range stored {
		out[at[j]] = Recorded{Assessment: a, Created: true}
	}
	return out, nil
}

// decideParallel bounds the records of a batch decided at once: enough to
// overlap the registry lookups, few enough not to flood the registry.
const decideParallel = 16

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// decide decides record i of the batch on round r: the answer of a record
// stored before under its request id (out), or the new record to store.
func (h BatchRecordHandler) decide(ctx context.Context, r model.Round, cmd BatchRecord, i int, fresh bool) (*Append, Recorded, error) {
	rc := h.rec
	c := cmd.Records[i]
	c.RoundID = cmd.RoundID
	fp := c.fingerprint(false)
	key := RecordKey{SchemeID: r.SchemeID, Year: r.Year, InstitutionID: c.InstitutionID}
	tip, err := rc.store.Tip(ctx, key, r, c.RequestID, fresh)
	if err != nil {
		return nil, Recorded{}, err
	}
	if tip.Same != nil {
		done, _, err := replayed(tip.Same, c.RequestID, fp)
		return nil, Recorded{Assessment: done}, err
	}
	if tip.Revision > 0 {
		// Stored before: a retry is answered, anything else is a
		// correction, which goes one by one with its reason.
		done, _, err := rc.replayOr(ctx, key, c.RequestID, fp, fault.Conflictf(
			"records[%d]: %s already has a record (revision %d) from another request: a correction goes one by one (RecordAssessment with corrects_revision and a reason)",
			i, c.InstitutionID, tip.Revision))
		return nil, Recorded{Assessment: done}, err
	}
	if err := round.CheckRecordable(r); err != nil {
		return nil, Recorded{}, err
	}
	a, err := rc.compose(ctx, r, c, false, tip)
	if err != nil {
		return nil, Recorded{}, fmt.Errorf("records[%d] (%s): %w", i, c.InstitutionID, err)
	}
	a.RequestFingerprint = fp
	return &Append{Assessment: a, Tip: tip, Fence: r}, Recorded{}, nil
}
