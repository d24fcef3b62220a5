package app

import (
	"github.com/predikat-id/predikat/services/assessment/internal/scheme"
)

// App holds every use case of the service, wired to the same ports.
type App struct {
	RecordAssessment  RecordAssessmentHandler
	BatchRecord       BatchRecordHandler
	CorrectAssessment CorrectAssessmentHandler
	CreateRound       CreateRoundHandler
	CloseRound        CloseRoundHandler
	ReopenRound       ReopenRoundHandler
	PublishRound      PublishRoundHandler
	// FinishPublications runs when the service starts.
	FinishPublications FinishPublicationsHandler
	GrantAward         GrantAwardHandler
	RevokeAward        RevokeAwardHandler
	RegisterScheme     RegisterSchemeHandler
	Queries            Queries
}

// New wires the use cases.
func New(cat *scheme.Catalog, st Store, reg Registry, clock Clock) *App {
	rules := ruleAwards{catalog: cat, store: st, registry: reg}
	rec := recorder{catalog: cat, store: st, registry: reg}
	return &App{
		RecordAssessment:   RecordAssessmentHandler{rec: rec},
		BatchRecord:        BatchRecordHandler{rec: rec},
		CorrectAssessment:  CorrectAssessmentHandler{rec: rec, store: st, rules: rules},
		CreateRound:        CreateRoundHandler{catalog: cat, store: st},
		CloseRound:         CloseRoundHandler{store: st, clock: clock},
		ReopenRound:        ReopenRoundHandler{store: st},
		PublishRound:       PublishRoundHandler{store: st, clock: clock, rules: rules},
		FinishPublications: FinishPublicationsHandler{store: st, rules: rules},
		GrantAward:         GrantAwardHandler{catalog: cat, store: st, registry: reg},
		RevokeAward:        RevokeAwardHandler{store: st},
		RegisterScheme:     RegisterSchemeHandler{catalog: cat, store: st},
		Queries:            Queries{catalog: cat, store: st},
	}
}

// InterruptPublications makes PublishRound call f after each award it grants
// and stop with f's error, as if the service were killed there; only tests
// of an interrupted publication use it. The start-up completion
// (FinishPublications) is never interrupted.
func (a *App) InterruptPublications(f func(granted int32) error) {
	a.PublishRound.rules.afterGrant = f
}
