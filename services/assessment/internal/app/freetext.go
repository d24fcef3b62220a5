package app

import (
	"fmt"

	"github.com/predikat-id/predikat/pkg/platform/text"
	"github.com/predikat-id/predikat/services/assessment/internal/model"
)

// Free text a caller sends is stored and shown to others (portals, the CLI,
// award feeds), so it is checked before anything is written: a control,
// format or bidirectional character could hide or reorder what a reader
// sees. Fields are named by their path in the request, as the caller wrote
// them.

// field is one free-text field of a request: its path and its value.
type field struct{ path, value string }

func checkFree(fields ...field) error {
	for _, f := range fields {
		if err := text.CheckFree(f.path, f.value); err != nil {
			return err
		}
	}
	return nil
}

func sourceFields(prefix string, s *model.Source) []field {
	if s == nil {
		return nil
	}
	return []field{
		{prefix + ".title", s.Title}, {prefix + ".publisher", s.Publisher}, {prefix + ".url", s.URL},
		{prefix + ".published_date", s.PublishedDate}, {prefix + ".note", s.Note},
	}
}

func ceremonyFields(prefix string, c *model.Ceremony) []field {
	if c == nil {
		return nil
	}
	return []field{{prefix + ".name", c.Name}, {prefix + ".place", c.Place}, {prefix + ".date", c.Date}}
}

func presenterFields(prefix string, p *model.PresentedBy) []field {
	if p == nil {
		return nil
	}
	return []field{{prefix + ".name", p.Name}, {prefix + ".office", p.Office}}
}

func (c RecordAssessment) checkText() error {
	fs := []field{{"reason", c.Reason}, {"input.notes", c.Input.Notes}}
	for i, a := range c.Input.Adjustments {
		fs = append(fs, field{fmt.Sprintf("input.adjustments[%d].reason", i), a.Reason})
	}
	for i, n := range c.Input.ImprovementNotes {
		fs = append(fs, field{fmt.Sprintf("input.improvement_notes[%d].note", i), n.Note})
	}
	for i, f := range c.Input.FollowUps {
		fs = append(fs, field{fmt.Sprintf("input.follow_ups[%d].comment", i), f.Comment})
	}
	return checkFree(append(fs, sourceFields("input.source", c.Input.Source)...)...)
}

func (c GrantAward) checkText() error {
	fs := []field{{"title", c.Title}, {"notes", c.Notes}}
	fs = append(fs, ceremonyFields("ceremony", c.Ceremony)...)
	fs = append(fs, presenterFields("presented_by", c.PresentedBy)...)
	return checkFree(append(fs, sourceFields("source", c.Source)...)...)
}

func (c PublishRound) checkText() error {
	fs := append(ceremonyFields("ceremony", c.Ceremony), presenterFields("presented_by", c.PresentedBy)...)
	return checkFree(append(fs, field{"force_reason", c.ForceReason})...)
}
