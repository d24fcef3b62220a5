package events

import (
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Stream names.
const (
	Assessments = "ASSESSMENTS"
	Rounds      = "ROUNDS"
	Awards      = "AWARDS"
	// Ceremonies holds CeremonyHeld: one message per ceremony held.
	Ceremonies = "CEREMONIES"
	// Surveys holds survey responses (SurveyResponsesStored, one subject
	// per unit and round), units' own surveys and the intake markers.
	Surveys = "SURVEYS"
	// SurveyProfiles holds the optional respondent profiles, apart from
	// the answers: personal data, removed by the stream's maximum age.
	SurveyProfiles = "SURVEY_PROFILES"
)

// ProfileRetention is how long respondent profiles are kept (UU 27/2022:
// no longer than their purpose, the unit's report on its survey year and
// the following year's review); JetStream removes older ones.
const ProfileRetention = 2 * 366 * 24 * time.Hour

// DedupWindow is how long JetStream remembers a Nats-Msg-Id. Services also
// look up the stored record on a retry, so idempotency does not end with the
// window; the window only makes the common, quick retry free.
const DedupWindow = 24 * time.Hour

// streamSubjects is what each stream captures.
var streamSubjects = map[string]string{
	Assessments:    AssessmentAll,
	Rounds:         RoundAll,
	Awards:         AwardAll,
	Ceremonies:     CeremonyAll,
	Surveys:        SurveyAll,
	SurveyProfiles: SurveyProfileAll,
}

// StreamNames lists every stream, in the order services create them.
func StreamNames() []string {
	return []string{Assessments, Rounds, Awards, Ceremonies, Surveys, SurveyProfiles}
}

// StreamConfig returns the settings of a stream. Every stream is an audit
// log: nothing is ever deleted or purged. Direct get stays off: on a
// replicated stream a follower may answer it from behind the leader, and the
// services read the last message of a subject to decide compare-and-set
// writes, which must see the latest.
func StreamConfig(name string, replicas int) jetstream.StreamConfig {
	if replicas < 1 {
		replicas = 1
	}
	if name == SurveyProfiles {
		// Not an audit log: personal data, kept for ProfileRetention and
		// never deleted or purged otherwise.
		return jetstream.StreamConfig{
			Name: name, Subjects: []string{streamSubjects[name]}, Storage: jetstream.FileStorage, Replicas: replicas,
			Retention: jetstream.LimitsPolicy, Discard: jetstream.DiscardOld, MaxAge: ProfileRetention,
			Duplicates: DedupWindow, DenyDelete: true, DenyPurge: true,
		}
	}
	return jetstream.StreamConfig{
		Name: name, Subjects: []string{streamSubjects[name]}, Storage: jetstream.FileStorage, Replicas: replicas,
		Retention: jetstream.LimitsPolicy, Discard: jetstream.DiscardOld,
		Duplicates: DedupWindow, DenyDelete: true, DenyPurge: true,
		// Records of a table arrive as atomic batches (all stored, or
		// none): BatchRecordAssessments. Streams created before are
		// updated to it when the assessment service starts.
		// Survey responses arrive as atomic batches too: every unit's
		// messages of a batch and the intake check stand or fall together.
		AllowAtomicPublish: name == Assessments || name == Surveys,
	}
}
