package app

import (
	"fmt"
	"slices"

	"github.com/predikat-id/predikat/pkg/platform/text"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
)

// The free text of an institution is checked as the caller sent it, before
// any trimming: a tab or line feed that trimming would hide is refused like
// any other control character, and nothing is read or written for a refused
// request. Field names are the API's, so a caller finds what to fix.

// checkNewText checks the free text of a new institution.
func checkNewText(cmd CreateInstitution) error {
	if err := text.CheckFree("institution.name", cmd.Name); err != nil {
		return err
	}
	if err := checkAliases(cmd.Aliases); err != nil {
		return err
	}
	return checkHead(cmd.Head)
}

// checkChangedText checks the free text an update sets: only the fields its
// mask names, so text stored before the check existed never blocks an
// unrelated change (it is escaped on output instead).
func checkChangedText(upd *institution.Institution, paths []string) error {
	if slices.Contains(paths, "name") {
		if err := text.CheckFree("institution.name", upd.Name); err != nil {
			return err
		}
	}
	if slices.Contains(paths, "aliases") {
		if err := checkAliases(upd.Aliases); err != nil {
			return err
		}
	}
	if slices.Contains(paths, "head") {
		return checkHead(upd.Head)
	}
	return nil
}

func checkAliases(aliases []string) error {
	for i, a := range aliases {
		if err := text.CheckFree(fmt.Sprintf("institution.aliases[%d]", i), a); err != nil {
			return err
		}
	}
	return nil
}

func checkHead(h *institution.Head) error {
	if h == nil {
		return nil
	}
	if err := text.CheckFree("institution.head.name", h.Name); err != nil {
		return err
	}
	return text.CheckFree("institution.head.title", h.Title)
}
