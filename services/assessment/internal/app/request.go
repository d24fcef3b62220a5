package app

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"slices"
	"strconv"
	"strings"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

// A request id names one request: sent again with the same request it gets
// the first answer, sent with a different one it is refused, since answering
// the first result would tell the caller its new request was done when it was
// not. Requests are compared by a digest of the fields that define them (the
// request id and the caller left out), stored beside the request id.

// digest builds a request's fingerprint: every field as its name and its
// length-prefixed values, so no two different requests encode alike.
type digest struct{ h hash.Hash }

func newDigest(method string) digest {
	d := digest{h: sha256.New()}
	d.add("method", method)
	return d
}

func (d digest) add(name string, values ...string) {
	d.h.Write([]byte(name + "=" + strconv.Itoa(len(values))))
	for _, v := range values {
		d.h.Write([]byte(";" + strconv.Itoa(len(v)) + ":" + v))
	}
	d.h.Write([]byte{'\n'})
}

func (d digest) num(name string, n int64) { d.add(name, strconv.FormatInt(n, 10)) }

func (d digest) source(name string, s *model.Source) {
	if s == nil {
		d.add(name)
		return
	}
	d.add(name, s.Title, s.Publisher, s.URL, s.PublishedDate, s.Note)
}

func (d digest) sum() string { return "sha256:" + hex.EncodeToString(d.h.Sum(nil)) }

// fingerprint of a RecordAssessment or, after publication, a
// CorrectPublishedAssessment request: the method counts, since the two do
// different things with the same figures.
func (c RecordAssessment) fingerprint(afterPublication bool) string {
	d := newDigest("RecordAssessment")
	if afterPublication {
		d = newDigest("CorrectPublishedAssessment")
	}
	d.add("round_id", c.RoundID)
	d.add("institution_id", c.InstitutionID)
	d.add("corrects_revision", strconv.FormatUint(c.CorrectsRevision, 10))
	d.add("reason", c.Reason)
	in := c.Input
	// Dimension scores are a set, sent in any order.
	scores := slices.Clone(in.DimensionScores)
	slices.SortFunc(scores, func(a, b model.DimensionScore) int { return strings.Compare(a.Code, b.Code) })
	d.add("input.has_scores", strconv.FormatBool(in.HasScores))
	for _, s := range scores {
		d.add("input.dimension_scores", s.Code, s.Score)
	}
	d.add("input.reported_total", in.ReportedTotal)
	d.add("input.reported_band", in.ReportedBand)
	for _, a := range in.Adjustments {
		d.add("input.adjustments", a.Code, a.Amount, a.Reason)
	}
	d.num("input.respondents", int64(in.Respondents))
	d.add("input.notes", in.Notes)
	d.source("input.source", in.Source)
	// Only when set, so the digests of requests stored before objections
	// existed stay what they were.
	if c.ObjectionID != "" {
		d.add("objection_id", c.ObjectionID)
	}
	if in.Synthetic {
		d.add("input.synthetic", "true")
	}
	// The report card, likewise only when given. Notes count in order,
	// since the order gives their ids; follow-ups are a set by note id.
	for _, n := range in.ImprovementNotes {
		d.add("input.improvement_notes", n.DimensionCode, n.Note)
	}
	followUps := slices.Clone(in.FollowUps)
	slices.SortFunc(followUps, func(a, b model.NoteFollowUp) int { return strings.Compare(a.NoteID, b.NoteID) })
	for _, f := range followUps {
		d.add("input.follow_ups", f.NoteID, strconv.FormatBool(f.Addressed), f.Comment)
	}
	return d.sum()
}

// fingerprint of a GrantAward request.
func (c GrantAward) fingerprint() string {
	d := newDigest("GrantAward")
	d.add("institution_id", c.InstitutionID)
	d.add("title", c.Title)
	if c.Ceremony != nil {
		d.add("ceremony", c.Ceremony.Name, c.Ceremony.Place, c.Ceremony.Date)
	} else {
		d.add("ceremony")
	}
	if c.PresentedBy != nil {
		d.add("presented_by", c.PresentedBy.Name, c.PresentedBy.Office)
	} else {
		d.add("presented_by")
	}
	d.add("scheme_id", c.SchemeID)
	d.num("year", int64(c.Year))
	d.add("score", c.Score)
	d.add("band_code", c.BandCode)
	d.num("rank", int64(c.Rank))
	d.add("peer_group", c.PeerGroup)
	d.add("scope", c.Scope)
	d.add("notes", c.Notes)
	d.source("source", c.Source)
	return d.sum()
}

// sameRequest refuses a request id already used for a different request. A
// stored answer without a fingerprint was stored before fingerprints were
// kept: nothing to compare, so it counts as the same request, as it did then.
func sameRequest(requestID, stored, current string) error {
	if stored == "" || stored == current {
		return nil
	}
	return fault.Existsf("request id %s was already used for a different request: use a new request id to make a new one", requestID)
}
