package events

import (
	"fmt"
	"strconv"
	"strings"

	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
)

// Subjects. Each template (T suffix, fmt verbs) sits beside the wildcard
// filter that matches every subject it makes; the *All filters are what the
// streams capture.
const (
	AssessmentAll = "predikat.assessment.>"

	// AssessmentRecordedT is where every revision of one institution's
	// assessment in one (scheme, year) goes; the last message is the
	// latest revision. scheme, year, institution.
	AssessmentRecordedT = "predikat.assessment.recorded.%s.%d.%s"
	// AssessmentRecordedAll matches every recorded assessment.
	AssessmentRecordedAll = "predikat.assessment.recorded.>"
	// AssessmentRecordedOfT matches one (scheme, year); "*" widens a token.
	AssessmentRecordedOfT = "predikat.assessment.recorded.%s.%s.*"

	RoundAll = "predikat.round.>"

	// RoundChangedT carries a round's state change (opened, closed,
	// reopened). scheme, year.
	RoundChangedT   = "predikat.round.changed.%s.%d"
	RoundChangedAll = "predikat.round.changed.>"
	// RoundPublishedT carries the publication of a round. scheme, year.
	RoundPublishedT   = "predikat.round.published.%s.%d"
	RoundPublishedAll = "predikat.round.published.>"
	// RoundCorrectedT carries a correction of a published result.
	// scheme, year, institution.
	RoundCorrectedT   = "predikat.round.corrected.%s.%d.%s"
	RoundCorrectedAll = "predikat.round.corrected.>"
	// RoundObjectionT is the one subject of one objection: ObjectionFiled
	// first (expected subject sequence 0), ObjectionDecided last, so its
	// last message is its state. scheme, year, institution, objection id.
	RoundObjectionT   = "predikat.round.objection.%s.%d.%s.%s"
	RoundObjectionAll = "predikat.round.objection.>"

	AwardAll = "predikat.award.>"

	// AwardGrantedT is the one subject of one award; publishing with an
	// expected last subject sequence of 0 makes a second grant impossible.
	// scheme, year, province, kind token, institution, award id.
	AwardGrantedT   = "predikat.award.granted.%s.%d.%s.%s.%s.%s"
	AwardGrantedAll = "predikat.award.granted.>"
	// AwardRevokedT mirrors AwardGrantedT for a revocation.
	AwardRevokedT   = "predikat.award.revoked.%s.%d.%s.%s.%s.%s"
	AwardRevokedAll = "predikat.award.revoked.>"
	// awardFilterT is the award filter over the tokens after the verb:
	// verb, scheme, year, province, kind, institution; award id any.
	awardFilterT = "predikat.award.%s.%s.%s.%s.%s.%s.*"

	CeremonyAll = "predikat.ceremony.>"

	// CeremonyHeldT is the one subject of one ceremony's CeremonyHeld,
	// published expecting it empty, so a ceremony is announced held once.
	// province ("00" national), ceremony id.
	CeremonyHeldT   = "predikat.ceremony.held.%s.%s"
	CeremonyHeldAll = "predikat.ceremony.held.>"

	SurveyAll = "predikat.survey.>"

	// SurveyUnitT is the one subject of one unit's survey in one round:
	// its own survey first if it states one (UnitSurveyDefined), then its
	// responses (SurveyResponsesStored), each published expecting the
	// subject's last sequence. scheme, year, unit.
	SurveyUnitT = "predikat.survey.unit.%s.%d.%s"
	// SurveyIntakeT carries the round's intake markers
	// (SurveyIntakeChanged). scheme, year.
	SurveyIntakeT = "predikat.survey.intake.%s.%d"
	// SurveyBatchT carries the end of every batch of responses
	// (SurveyBatchStored). scheme, year.
	SurveyBatchT = "predikat.survey.batch.%s.%d"

	SurveyProfileAll = "predikat.surveyprofile.>"
	// SurveyProfileT carries the respondent profiles of one unit's
	// responses, in SURVEY_PROFILES. scheme, year, unit.
	SurveyProfileT = "predikat.surveyprofile.%s.%d.%s"
)

// SurveyUnitSubject is where one unit's survey and responses in a round go.
func SurveyUnitSubject(scheme string, year int32, unitID string) string {
	return fmt.Sprintf(SurveyUnitT, scheme, year, unitID)
}

// SurveyIntakeSubject is where a round's intake markers go.
func SurveyIntakeSubject(scheme string, year int32) string {
	return fmt.Sprintf(SurveyIntakeT, scheme, year)
}

// SurveyBatchSubject is where the end of each batch of a round's responses
// goes.
func SurveyBatchSubject(scheme string, year int32) string {
	return fmt.Sprintf(SurveyBatchT, scheme, year)
}

// SurveyProfileSubject is where the profiles of a unit's responses go.
func SurveyProfileSubject(scheme string, year int32, unitID string) string {
	return fmt.Sprintf(SurveyProfileT, scheme, year, unitID)
}

// Subject tokens.
const (
	// National is the scope and province token of national bodies and
	// national boards: it keeps every region code two-digit-prefixed and
	// sorts before every province.
	National = "00"
	// NoScheme is the scheme token of a manual award that names none.
	NoScheme = "none"
	// Any is the wildcard token of a filter.
	Any = "*"
)

// AssessmentSubject is where every revision of one institution's assessment
// in one (scheme, year) goes.
func AssessmentSubject(scheme string, year int32, institutionID string) string {
	return fmt.Sprintf(AssessmentRecordedT, scheme, year, institutionID)
}

// AssessmentFilter matches every assessment of a (scheme, year); empty or
// zero widens a token.
func AssessmentFilter(scheme string, year int32) string {
	return fmt.Sprintf(AssessmentRecordedOfT, orAny(scheme), yearToken(year))
}

// AssessmentKey is what an assessment subject names.
type AssessmentKey struct {
	Scheme        string
	Year          int32
	InstitutionID string
}

// ParseAssessmentSubject reads an AssessmentSubject back.
func ParseAssessmentSubject(subject string) (AssessmentKey, error) {
	t, err := tokens(subject, "predikat.assessment.recorded.", 3)
	if err != nil {
		return AssessmentKey{}, err
	}
	y, err := parseYear(t[1])
	if err != nil {
		return AssessmentKey{}, fmt.Errorf("assessment subject %q: %w", subject, err)
	}
	return AssessmentKey{Scheme: t[0], Year: y, InstitutionID: t[2]}, nil
}

// RoundVerb says which round event a round subject carries.
type RoundVerb string

// Round verbs.
const (
	RoundChanged   RoundVerb = "changed"
	RoundPublished RoundVerb = "published"
	RoundCorrected RoundVerb = "corrected"
)

// RoundChangedSubject is where a round's state changes go.
func RoundChangedSubject(scheme string, year int32) string {
	return fmt.Sprintf(RoundChangedT, scheme, year)
}

// RoundPublishedSubject is where a round's publication goes.
func RoundPublishedSubject(scheme string, year int32) string {
	return fmt.Sprintf(RoundPublishedT, scheme, year)
}

// RoundCorrectedSubject is where a correction of one published result goes.
func RoundCorrectedSubject(scheme string, year int32, institutionID string) string {
	return fmt.Sprintf(RoundCorrectedT, scheme, year, institutionID)
}

// RoundObjectionSubject is where one objection's filing and decision go.
func RoundObjectionSubject(scheme string, year int32, institutionID, objectionID string) string {
	return fmt.Sprintf(RoundObjectionT, scheme, year, institutionID, objectionID)
}

// RoundObjectionFilter matches the objections of one round, or of one
// institution in it (institutionID non-empty).
func RoundObjectionFilter(scheme string, year int32, institutionID string) string {
	return "predikat.round.objection." + scheme + "." + yearToken(year) + "." + orAny(institutionID) + ".*"
}

// RoundStateFilters match the changes and publications of one round; empty
// or zero widens a token. Corrections are left out: they are announcements,
// the corrected record itself arrives on its assessment subject.
func RoundStateFilters(scheme string, year int32) []string {
	s, y := orAny(scheme), yearToken(year)
	return []string{
		"predikat.round." + string(RoundChanged) + "." + s + "." + y,
		"predikat.round." + string(RoundPublished) + "." + s + "." + y,
	}
}

// RoundKey is what a round subject names.
type RoundKey struct {
	Verb   RoundVerb
	Scheme string
	Year   int32
	// InstitutionID is set on a correction only.
	InstitutionID string
}

// ParseRoundSubject reads a round subject back.
func ParseRoundSubject(subject string) (RoundKey, error) {
	rest, ok := strings.CutPrefix(subject, "predikat.round.")
	if !ok {
		return RoundKey{}, fmt.Errorf("%q is not a round subject", subject)
	}
	t := strings.Split(rest, ".")
	want := 3
	if RoundVerb(t[0]) == RoundCorrected {
		want = 4
	}
	if len(t) != want || (t[0] != string(RoundChanged) && t[0] != string(RoundPublished) && t[0] != string(RoundCorrected)) {
		return RoundKey{}, fmt.Errorf("%q is not a round subject", subject)
	}
	y, err := parseYear(t[2])
	if err != nil {
		return RoundKey{}, fmt.Errorf("round subject %q: %w", subject, err)
	}
	k := RoundKey{Verb: RoundVerb(t[0]), Scheme: t[1], Year: y}
	if want == 4 {
		k.InstitutionID = t[3]
	}
	return k, nil
}

// AwardVerb says whether an award subject carries a grant or a revocation.
type AwardVerb string

// Award verbs.
const (
	Granted AwardVerb = "granted"
	Revoked AwardVerb = "revoked"
)

// AwardKey is what an award subject names.
type AwardKey struct {
	Verb AwardVerb
	// Scheme is NoScheme for a manual award that names none.
	Scheme string
	Year   int32
	// Province is National for national bodies.
	Province      string
	Kind          string
	InstitutionID string
	AwardID       string
}

// AwardSubject is the one subject of one award event.
func AwardSubject(verb AwardVerb, scheme string, year int32, province string, kind registryv1.InstitutionKind, institutionID, awardID string) string {
	if scheme == "" {
		scheme = NoScheme
	}
	if province == "" {
		province = National
	}
	t := AwardGrantedT
	if verb == Revoked {
		t = AwardRevokedT
	}
	return fmt.Sprintf(t, scheme, year, province, KindToken(kind), institutionID, awardID)
}

// ParseAwardSubject reads an award subject back.
func ParseAwardSubject(subject string) (AwardKey, error) {
	t, err := tokens(subject, "predikat.award.", 7)
	if err != nil {
		return AwardKey{}, err
	}
	if t[0] != string(Granted) && t[0] != string(Revoked) {
		return AwardKey{}, fmt.Errorf("%q is not an award subject", subject)
	}
	y, err := parseYear(t[2])
	if err != nil {
		return AwardKey{}, fmt.Errorf("award subject %q: %w", subject, err)
	}
	return AwardKey{Verb: AwardVerb(t[0]), Scheme: t[1], Year: y, Province: t[3], Kind: t[4], InstitutionID: t[5], AwardID: t[6]}, nil
}

// AwardFilter selects award subjects; empty fields match everything.
type AwardFilter struct {
	SchemeID      string
	Year          int32
	ProvinceCode  string
	Kind          string // a kind token, see KindToken
	InstitutionID string
	// IncludeRevoked adds the revocations to the grants.
	IncludeRevoked bool
}

// Subjects returns the NATS subject filters of f.
func (f AwardFilter) Subjects() []string {
	one := func(v AwardVerb) string {
		return fmt.Sprintf(awardFilterT, v, orAny(f.SchemeID), yearToken(f.Year), orAny(f.ProvinceCode), orAny(f.Kind), orAny(f.InstitutionID))
	}
	out := []string{one(Granted)}
	if f.IncludeRevoked {
		out = append(out, one(Revoked))
	}
	return out
}

var kindTokens = map[registryv1.InstitutionKind]string{
	registryv1.InstitutionKind_INSTITUTION_KIND_PROVINCIAL_GOVERNMENT: "pemprov",
	registryv1.InstitutionKind_INSTITUTION_KIND_REGENCY_GOVERNMENT:    "pemkab",
	registryv1.InstitutionKind_INSTITUTION_KIND_CITY_GOVERNMENT:       "pemkot",
	registryv1.InstitutionKind_INSTITUTION_KIND_MINISTRY:              "kementerian",
	registryv1.InstitutionKind_INSTITUTION_KIND_AGENCY:                "lembaga",
	registryv1.InstitutionKind_INSTITUTION_KIND_POLICE_RESORT:         "polres",
	registryv1.InstitutionKind_INSTITUTION_KIND_LAND_OFFICE:           "kantah",
	registryv1.InstitutionKind_INSTITUTION_KIND_PUBLIC_SERVICE_MALL:   "mpp",
	// Added after the first release, so it follows the rule for later kinds
	// (the enum name, lower case, no underscores) rather than a short word.
	registryv1.InstitutionKind_INSTITUTION_KIND_SERVICE_UNIT: "serviceunit",
}

// KindToken is the short token of an institution kind, the one spelling used
// in subjects, file formats, the CLI and Redis keys. A kind added to the API
// later without a token here gets its enum name, lower case, no underscores.
func KindToken(k registryv1.InstitutionKind) string {
	if t, ok := kindTokens[k]; ok {
		return t
	}
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(k.String(), "INSTITUTION_KIND_")), "_", "")
}

// KindTokens lists the tokens of every known kind, in enum order.
func KindTokens() []string {
	out := make([]string, 0, len(kindTokens))
	for _, v := range registryv1.InstitutionKind_value {
		k := registryv1.InstitutionKind(v)
		if k != registryv1.InstitutionKind_INSTITUTION_KIND_UNSPECIFIED {
			out = append(out, KindToken(k))
		}
	}
	sortByKind(out)
	return out
}

// ParseKindToken is KindToken backwards; it also accepts the enum name with
// or without its INSTITUTION_KIND_ prefix, in any case.
func ParseKindToken(s string) (registryv1.InstitutionKind, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, v := range registryv1.InstitutionKind_value {
		k := registryv1.InstitutionKind(v)
		if k == registryv1.InstitutionKind_INSTITUTION_KIND_UNSPECIFIED {
			continue
		}
		name := strings.ToLower(k.String())
		if s == KindToken(k) || s == name || s == strings.TrimPrefix(name, "institution_kind_") {
			return k, true
		}
	}
	return registryv1.InstitutionKind_INSTITUTION_KIND_UNSPECIFIED, false
}

func sortByKind(toks []string) {
	num := func(t string) int32 {
		k, _ := ParseKindToken(t)
		return int32(k)
	}
	for i := 1; i < len(toks); i++ {
		for j := i; j > 0 && num(toks[j]) < num(toks[j-1]); j-- {
			toks[j], toks[j-1] = toks[j-1], toks[j]
		}
	}
}

func tokens(subject, prefix string, n int) ([]string, error) {
	rest, ok := strings.CutPrefix(subject, prefix)
	if !ok {
		return nil, fmt.Errorf("%q does not start with %q", subject, prefix)
	}
	t := strings.Split(rest, ".")
	if len(t) != n {
		return nil, fmt.Errorf("%q: %d tokens after %q, want %d", subject, len(t), prefix, n)
	}
	return t, nil
}

func parseYear(s string) (int32, error) {
	y, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("year token %q is not a number", s)
	}
	return int32(y), nil
}

func orAny(s string) string {
	if s == "" {
		return Any
	}
	return s
}

func yearToken(y int32) string {
	if y == 0 {
		return Any
	}
	return strconv.Itoa(int(y))
}

// CeremonyHeldSubject is where the hold of one ceremony is announced.
func CeremonyHeldSubject(provinceCode, ceremonyID string) string {
	if provinceCode == "" {
		provinceCode = National
	}
	return fmt.Sprintf(CeremonyHeldT, provinceCode, ceremonyID)
}

// CeremonyHeldFilter matches the ceremonies held in one province ("00":
// national ones); empty matches every province.
func CeremonyHeldFilter(provinceCode string) string {
	return "predikat.ceremony.held." + orAny(provinceCode) + ".*"
}
