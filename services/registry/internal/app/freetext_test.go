package app

import (
	"context"
	"strings"
	"testing"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/registry/internal/institution"
)

func tanahLaut() CreateInstitution {
	return CreateInstitution{
		ID: "kantah-tala", Name: "Kantor Pertanahan Kabupaten Tanah Laut", Kind: institution.KindLandOffice,
		RegionCode: "63.01", Aliases: []string{"Kantah Tala"},
		Head: &institution.Head{Name: "Budi Santoso", Title: "Kepala Kantor", TermStart: "2024-01-01"},
	}
}

// wantRefused checks err is an InvalidArgument naming field and code point,
// and that the store holds no more writes than before.
func wantRefused(t *testing.T, a *testApp, revBefore uint64, err error, field, codePoint string) {
	t.Helper()
	if !fault.Is(err, fault.Invalid) {
		t.Fatalf("want Invalid for %s, got %v", field, err)
	}
	if msg := err.Error(); !strings.Contains(msg, field+":") || !strings.Contains(msg, codePoint) {
		t.Errorf("error %q should name %s and %s", msg, field, codePoint)
	}
	if a.store.rev != revBefore {
		t.Errorf("a refused request wrote: revision %d, was %d", a.store.rev, revBefore)
	}
}

func TestCreateRefusesHiddenCharacters(t *testing.T) {
	cases := map[string]struct {
		edit             func(*CreateInstitution)
		field, codePoint string
	}{
		"zero width space in the name": {func(c *CreateInstitution) { c.Name = "Kantor Pertanahan Kabupaten Ta\u200bnah Laut" }, "institution.name", "U+200B"},
		"right-to-left override":       {func(c *CreateInstitution) { c.Name = "Kantor \u202ePertanahan" }, "institution.name", "U+202E"},
		"tab that trimming would hide": {func(c *CreateInstitution) { c.Name += "\t" }, "institution.name", "U+0009"},
		"second alias":                 {func(c *CreateInstitution) { c.Aliases = append(c.Aliases, "Kantah\u00adTala") }, "institution.aliases[1]", "U+00AD"},
		"head name":                    {func(c *CreateInstitution) { c.Head.Name = "Budi\u200dSantoso" }, "institution.head.name", "U+200D"},
		"head title":                   {func(c *CreateInstitution) { c.Head.Title = "Kepala\nKantor" }, "institution.head.title", "U+000A"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a := newTestApp()
			cmd := tanahLaut()
			tc.edit(&cmd)
			_, err := a.CreateInstitution.Handle(context.Background(), cmd)
			wantRefused(t, a, 0, err, tc.field, tc.codePoint)
		})
	}
}

func TestUpdateAndRetireRefuseHiddenCharacters(t *testing.T) {
	a := newTestApp()
	in := mustCreate(t, a, tanahLaut())
	ctx := context.Background()
	for field, upd := range map[string]UpdateInstitution{
		"institution.name":       {Changes: &institution.Institution{ID: in.ID, Name: "Kantah \u2066Tala"}, Paths: []string{"name"}},
		"institution.aliases[0]": {Changes: &institution.Institution{ID: in.ID, Aliases: []string{"\ufeffTala"}}, Paths: []string{"aliases"}},
		"institution.head.title": {Changes: &institution.Institution{ID: in.ID, Head: &institution.Head{Name: "Ani", Title: "Kepala\u200e"}}, Paths: []string{"head"}},
	} {
		upd.ExpectedRevision = in.Revision
		_, err := a.UpdateInstitution.Handle(ctx, upd)
		wantRefused(t, a, in.Revision, err, field, "U+")
	}
	// A field the mask does not name is not the caller's to fix.
	upd := UpdateInstitution{Changes: &institution.Institution{ID: in.ID, Name: "Ta\u200bnah", Aliases: []string{"Kantah Tala"}},
		Paths: []string{"aliases"}, ExpectedRevision: in.Revision}
	if _, err := a.UpdateInstitution.Handle(ctx, upd); err != nil {
		t.Fatalf("an unmasked field should not be checked: %v", err)
	}
	before := a.store.rev
	_, err := a.RetireInstitution.Handle(ctx, RetireInstitution{ID: in.ID, Reason: "digabung\u202e"})
	wantRefused(t, a, before, err, "reason", "U+202E")
}

func TestLookAlikeNamesAreTaken(t *testing.T) {
	for name, look := range map[string]string{
		"Cyrillic a":          "Kantor Pertanahan Kabupaten T\u0430nah Laut",
		"Cyrillic capital Te": "Kantor Pertanahan Kabupaten \u0422anah Laut",
		"Greek omicron":       "Kant\u03bfr Pertanahan Kabupaten Tanah Laut",
		"full-width":          "\uff2b\uff41\uff4e\uff54\uff4f\uff52 Pertanahan Kabupaten Tanah Laut",
		"case and spacing":    " KANTOR  pertanahan kabupaten tanah-laut ",
	} {
		t.Run(name, func(t *testing.T) {
			a := newTestApp()
			mustCreate(t, a, tanahLaut())
			cmd := tanahLaut()
			cmd.ID, cmd.Name = "look-alike", look
			if _, err := a.CreateInstitution.Handle(context.Background(), cmd); !fault.Is(err, fault.Exists) {
				t.Fatalf("create %q: want Exists, got %v", look, err)
			}
		})
	}
	a := newTestApp()
	mustCreate(t, a, tanahLaut())
	other := tanahLaut()
	other.ID, other.Name = "kantah-tabu", "Kantor Pertanahan Kabupaten Tanah Bumbu"
	mustCreate(t, a, other)
}
