package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
)

// CreateInstitution registers a new, active institution.
type CreateInstitution struct {
	// ID names the institution; empty: one is generated.
	ID          string
	Name        string
	Kind        institution.Kind
	RegionCode  string // empty for a national body
	ParentID    string
	Head        *institution.Head
	Aliases     []string
	ExternalIDs map[string]string
	// YearlyServiceUsers is a service unit's population; 0 when unknown.
	// Left out of the fingerprint when 0, so requests recorded before it
	// existed still match their retries.
	YearlyServiceUsers int64 `json:",omitempty"`
	// RequestID, when set, makes the call safe to retry: a retry with the
	// same request returns the institution the first call created, and the
	// same id with a different request is refused.
	RequestID string
	// Actor is the authenticated principal making the call. Not part of the
	// request's fingerprint: a retry is the same request whoever sends it.
	Actor string `json:"-"`
}

// fingerprint identifies what cmd asks for, without its request id: a
// retry must ask for exactly the same thing to count as the same request.
// JSON sorts map keys, so equal commands hash equally.
func (cmd CreateInstitution) fingerprint() (string, error) {
	cmd.RequestID = ""
	b, err := json.Marshal(cmd)
	if err != nil {
		return "", fmt.Errorf("fingerprint create request: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// CreateInstitutionHandler runs CreateInstitution.
type CreateInstitutionHandler struct {
	institutions InstitutionStore
	requests     RequestStore
	refs         references
	clock        Clock
	newID        func() string
}

// Handle returns the stored institution with its revision.
func (h CreateInstitutionHandler) Handle(ctx context.Context, cmd CreateInstitution) (*institution.Institution, error) {
	if err := checkNewText(cmd); err != nil {
		return nil, err
	}
	in := &institution.Institution{
		ID: cmd.ID, Kind: cmd.Kind, ParentID: cmd.ParentID, Head: cmd.Head,
		Aliases: cmd.Aliases, ExternalIDs: cmd.ExternalIDs, YearlyServiceUsers: cmd.YearlyServiceUsers,
		Status:     institution.StatusActive,
		RegionCode: institution.NormalizeRegion(cmd.Kind, cmd.RegionCode),
		CreatedBy:  cmd.Actor, UpdatedBy: cmd.Actor,
	}
	var err error
	if in.Name, err = institution.CleanName(cmd.Name); err != nil {
		return nil, err
	}
	if in.ID == "" {
		in.ID = h.newID()
	}
	now := h.clock.Now()
	in.CreateTime, in.UpdateTime = now, now
	if cmd.RequestID == "" {
		if err := h.refs.check(ctx, in); err != nil {
			return nil, err
		}
		return h.institutions.CreateInstitution(ctx, in)
	}
	return h.createOnce(ctx, cmd, in)
}

// createOnce creates in under cmd's request id. The request is recorded
// first with in's id and creation time; a retry adopts the recorded ones,
// so every attempt of one request writes the same record and at most one
// of them lands. An attempt that finds the record's institution already
// there (its own earlier write, whose answer was lost) returns it.
func (h CreateInstitutionHandler) createOnce(ctx context.Context, cmd CreateInstitution, in *institution.Institution) (*institution.Institution, error) {
	fp, err := cmd.fingerprint()
	if err != nil {
		return nil, err
	}
	want := institution.CreateRequest{RequestID: cmd.RequestID, Fingerprint: fp, InstitutionID: in.ID, CreateTime: in.CreateTime}
	got, err := h.requests.ReserveCreate(ctx, want)
	if err != nil {
		return nil, err
	}
	if got.RequestID != want.RequestID || got.Fingerprint != want.Fingerprint {
		return nil, fault.Existsf("request_id %q was already used for a different CreateInstitution request (institution %q): use a new request id for a new request",
			cmd.RequestID, got.InstitutionID)
	}
	if got.InstitutionID != want.InstitutionID || !got.CreateTime.Equal(want.CreateTime) {
		// A retry: answer with what the first attempt created, before the
		// references are checked again (they may have changed since).
		if made, ok := h.made(ctx, got); ok {
			return made, nil
		}
		in.ID, in.CreateTime, in.UpdateTime = got.InstitutionID, got.CreateTime, got.CreateTime
	}
	if err := h.refs.check(ctx, in); err != nil {
		return nil, err
	}
	created, err := h.institutions.CreateInstitution(ctx, in)
	if err != nil && fault.Is(err, fault.Exists) {
		// A concurrent attempt of the same request may have landed first.
		if made, ok := h.made(ctx, got); ok {
			return made, nil
		}
	}
	return created, err
}

// made returns the institution req created, if it exists.
func (h CreateInstitutionHandler) made(ctx context.Context, req institution.CreateRequest) (*institution.Institution, bool) {
	cur, err := h.institutions.Load(ctx, req.InstitutionID)
	if err != nil || !req.Made(cur) {
		return nil, false
	}
	return cur, true
}
