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
	FileObjection      FileObjectionHandler
	DecideObjection    DecideObjectionHandler
	ObjectionQueries   ObjectionQueries
	CreateCeremony     CreateCeremonyHandler
	HoldCeremony       HoldCeremonyHandler
	CeremonyQueries    CeremonyQueries
	Certificates       CertificateHandler
	// FinishRollups runs when the service starts.
	FinishRollups FinishRollupsHandler
	// Surveys is nil until EnableSurveys.
	Surveys *Surveys

	rollups *rollups
}

// New wires the use cases.
func New(cat *scheme.Catalog, st Store, reg Registry, clock Clock, windows Windows) *App {
	rules := ruleAwards{catalog: cat, store: st, registry: reg}
	ro := &rollups{catalog: cat, store: st, registry: reg, by: "predikat/assessment"}
	rec := recorder{catalog: cat, store: st, registry: reg, rollups: ro}
	correct := CorrectAssessmentHandler{rec: rec, store: st, rules: rules}
	ro.correct = &correct
	return &App{
		RecordAssessment:   RecordAssessmentHandler{rec: rec},
		BatchRecord:        BatchRecordHandler{rec: rec},
		CorrectAssessment:  correct,
		CreateRound:        CreateRoundHandler{catalog: cat, store: st},
		CloseRound:         CloseRoundHandler{store: st, clock: clock},
		ReopenRound:        ReopenRoundHandler{store: st, clock: clock},
		PublishRound:       PublishRoundHandler{store: st, clock: clock, rules: rules, catalog: cat, windows: windows},
		FinishPublications: FinishPublicationsHandler{store: st, rules: rules},
		GrantAward:         GrantAwardHandler{catalog: cat, store: st, registry: reg},
		RevokeAward:        RevokeAwardHandler{store: st},
		RegisterScheme:     RegisterSchemeHandler{catalog: cat, store: st},
		Queries:            Queries{catalog: cat, store: st},
		FileObjection:      FileObjectionHandler{catalog: cat, store: st, windows: windows, clock: clock},
		DecideObjection:    DecideObjectionHandler{store: st, clock: clock, rec: rec, correct: correct},
		ObjectionQueries:   ObjectionQueries{catalog: cat, store: st, windows: windows},
		CreateCeremony:     CreateCeremonyHandler{store: st, clock: clock},
		HoldCeremony:       HoldCeremonyHandler{store: st, clock: clock},
		CeremonyQueries:    CeremonyQueries{store: st},
		Certificates:       CertificateHandler{catalog: cat, store: st},
		FinishRollups:      FinishRollupsHandler{rollups: ro},
		rollups:            ro,
	}
}

// InterruptPublications makes PublishRound call f after each award it grants
// and stop with f's error, as if the service were killed there; only tests
// of an interrupted publication use it. The start-up completion
// (FinishPublications) is never interrupted.
func (a *App) InterruptPublications(f func(granted int32) error) {
	a.PublishRound.rules.afterGrant = f
}
