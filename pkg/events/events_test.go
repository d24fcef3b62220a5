package events

import (
	"slices"
	"testing"

	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	registryv1 "github.com/predikat-id/predikat/pkg/gen/predikat/registry/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestSubjects(t *testing.T) {
	if got := AssessmentSubject("ombudsman", 2024, "pemkab-hss"); got != "predikat.assessment.recorded.ombudsman.2024.pemkab-hss" {
		t.Errorf("AssessmentSubject = %s", got)
	}
	got := AwardSubject(Granted, "ombudsman", 2024, "63", registryv1.InstitutionKind_INSTITUTION_KIND_LAND_OFFICE, "kantah-tanah-laut", "aw-x")
	if got != "predikat.award.granted.ombudsman.2024.63.kantah.kantah-tanah-laut.aw-x" {
		t.Errorf("AwardSubject = %s", got)
	}
	if got := AwardSubject(Granted, "", 0, "", registryv1.InstitutionKind_INSTITUTION_KIND_MINISTRY, "kemenpanrb", "aw-y"); got != "predikat.award.granted.none.0.00.kementerian.kemenpanrb.aw-y" {
		t.Errorf("manual award subject = %s", got)
	}
	if got := AwardSubject(Revoked, "sakip", 2023, "63", registryv1.InstitutionKind_INSTITUTION_KIND_CITY_GOVERNMENT, "pemkot-bjm", "aw-z"); got != "predikat.award.revoked.sakip.2023.63.pemkot.pemkot-bjm.aw-z" {
		t.Errorf("revocation subject = %s", got)
	}
	for got, want := range map[string]string{
		RoundChangedSubject("rb", 2024):                     "predikat.round.changed.rb.2024",
		RoundPublishedSubject("rb", 2024):                   "predikat.round.published.rb.2024",
		RoundCorrectedSubject("rb", 2024, "pemprov-kalsel"): "predikat.round.corrected.rb.2024.pemprov-kalsel",
		AssessmentFilter("", 0):                             "predikat.assessment.recorded.*.*.*",
		AssessmentFilter("sakip", 2023):                     "predikat.assessment.recorded.sakip.2023.*",
	} {
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

// Every subject a template makes is matched by its wildcard filter, the
// stream captures it, and the parser reads back what went in.
func TestSubjectsRoundTrip(t *testing.T) {
	a := AssessmentSubject("ombudsman", 2024, "pemkab-hss")
	if !matches(AssessmentRecordedAll, a) || !matches(AssessmentAll, a) || !matches(AssessmentFilter("ombudsman", 2024), a) || matches(AssessmentFilter("ombudsman", 2023), a) {
		t.Errorf("filters do not match %s as they should", a)
	}
	if k, err := ParseAssessmentSubject(a); err != nil || k != (AssessmentKey{"ombudsman", 2024, "pemkab-hss"}) {
		t.Errorf("ParseAssessmentSubject(%s) = %+v, %v", a, k, err)
	}
	for subj, want := range map[string]RoundKey{
		RoundChangedSubject("rb", 2024):               {Verb: RoundChanged, Scheme: "rb", Year: 2024},
		RoundPublishedSubject("rb", 2024):             {Verb: RoundPublished, Scheme: "rb", Year: 2024},
		RoundCorrectedSubject("rb", 2024, "pemkot-x"): {Verb: RoundCorrected, Scheme: "rb", Year: 2024, InstitutionID: "pemkot-x"},
	} {
		if k, err := ParseRoundSubject(subj); err != nil || k != want {
			t.Errorf("ParseRoundSubject(%s) = %+v, %v", subj, k, err)
		}
		if !matches(RoundAll, subj) {
			t.Errorf("ROUNDS does not capture %s", subj)
		}
	}
	state := RoundStateFilters("", 0)
	if !matches(state[0], RoundChangedSubject("rb", 2024)) || !matches(state[1], RoundPublishedSubject("rb", 2024)) || matches(state[0], RoundCorrectedSubject("rb", 2024, "x")) || matches(state[1], RoundCorrectedSubject("rb", 2024, "x")) {
		t.Errorf("RoundStateFilters = %v", state)
	}
	aw := AwardSubject(Revoked, "sakip", 2023, "63", registryv1.InstitutionKind_INSTITUTION_KIND_CITY_GOVERNMENT, "pemkot-bjm", "aw-z")
	k, err := ParseAwardSubject(aw)
	if err != nil || k != (AwardKey{Verb: Revoked, Scheme: "sakip", Year: 2023, Province: "63", Kind: "pemkot", InstitutionID: "pemkot-bjm", AwardID: "aw-z"}) {
		t.Errorf("ParseAwardSubject(%s) = %+v, %v", aw, k, err)
	}
	f := AwardFilter{SchemeID: "sakip", Kind: "pemkot", IncludeRevoked: true}
	if s := f.Subjects(); len(s) != 2 || matches(s[0], aw) || !matches(s[1], aw) || !matches(AwardRevokedAll, aw) {
		t.Errorf("AwardFilter subjects %v against %s", s, aw)
	}
	for _, bad := range []string{"predikat.round.closed.rb.2024", "predikat.round.changed.rb", "predikat.round.changed.rb.x", "predikat.award.granted.a.2024", "predikat.assessment.recorded.a.b.c"} {
		_, e1 := ParseRoundSubject(bad)
		_, e2 := ParseAwardSubject(bad)
		_, e3 := ParseAssessmentSubject(bad)
		if e1 == nil || e2 == nil || e3 == nil {
			t.Errorf("%s parsed: %v %v %v", bad, e1, e2, e3)
		}
	}
}

func TestKindTokens(t *testing.T) {
	toks := KindTokens()
	if len(toks) != len(registryv1.InstitutionKind_value)-1 || toks[0] != "pemprov" {
		t.Fatalf("KindTokens = %v", toks)
	}
	for _, tok := range toks {
		k, ok := ParseKindToken(tok)
		if !ok || KindToken(k) != tok {
			t.Errorf("token %s does not round-trip: %v %v", tok, k, ok)
		}
	}
	for _, s := range []string{"INSTITUTION_KIND_LAND_OFFICE", "land_office", "KANTAH"} {
		if k, ok := ParseKindToken(s); !ok || k != registryv1.InstitutionKind_INSTITUTION_KIND_LAND_OFFICE {
			t.Errorf("ParseKindToken(%s) = %v %v", s, k, ok)
		}
	}
	if got := KindToken(registryv1.InstitutionKind_INSTITUTION_KIND_SERVICE_UNIT); got != "serviceunit" || toks[len(toks)-1] != got {
		t.Errorf("service unit token = %q, last of %v", got, toks)
	}
	for _, s := range []string{"serviceunit", "SERVICE_UNIT", "institution_kind_service_unit"} {
		if k, ok := ParseKindToken(s); !ok || k != registryv1.InstitutionKind_INSTITUTION_KIND_SERVICE_UNIT {
			t.Errorf("ParseKindToken(%s) = %v %v", s, k, ok)
		}
	}
	if _, ok := ParseKindToken("kabupaten"); ok {
		t.Error("an unknown token parsed")
	}
}

func TestNewMsgHeadersAndDecode(t *testing.T) {
	ev := &eventsv1.AwardGranted{EventId: "aw-x", EventTime: timestamppb.Now()}
	m, err := NewMsg("predikat.award.granted.x", SourceAssessment, "pemkab-hss", ev)
	if err != nil {
		t.Fatal(err)
	}
	for h, want := range map[string]string{HeaderSpecVersion: "1.0", HeaderID: "aw-x", HeaderType: TypeAwardGranted,
		HeaderContentType: "application/protobuf", "Nats-Msg-Id": "aw-x", HeaderSubject: "pemkab-hss"} {
		if got := m.Header.Get(h); got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
	back, err := Decode(m.Subject, m.Header, m.Data)
	if err != nil || !proto.Equal(back, ev) {
		t.Fatalf("Decode = %v, %v", back, err)
	}
	// A message without headers is typed by its subject.
	aw := AwardSubject(Granted, "x", 2024, "63", registryv1.InstitutionKind_INSTITUTION_KIND_MINISTRY, "k", "aw-x")
	if back, err := Decode(aw, nil, m.Data); err != nil || !proto.Equal(back, ev) {
		t.Fatalf("Decode without headers = %v, %v", back, err)
	}
	if _, err := Decode("predikat.award.granted.x", nil, m.Data); err == nil {
		t.Fatal("a message with neither a type nor a known subject decoded")
	}
	m.Header.Set(HeaderType, TypeRoundPublished)
	if _, err := Decode(m.Subject, m.Header, []byte{0xff, 0xff}); err == nil {
		t.Fatal("garbage decoded")
	}
}

// Every CloudEvents type constant names a real message, so a renamed
// message fails here rather than on a subscriber.
func TestTypesAreMessages(t *testing.T) {
	for _, ty := range []string{TypeAssessmentRecorded, TypeRoundChanged, TypeRoundPublished, TypeRoundCorrected, TypeObjectionFiled, TypeObjectionDecided, TypeAwardGranted, TypeAwardRevoked, TypeInstitutionChanged, TypeCeremonyHeld} {
		ev, ok := newEvent(ty)
		if !ok || TypeOf(ev) != ty {
			t.Errorf("type %s: %v", ty, ev)
		}
	}
}

// matches is NATS subject matching: "*" one token, ">" the rest.
func matches(filter, subject string) bool {
	f, s := split(filter), split(subject)
	for i, tok := range f {
		if tok == ">" {
			return len(s) > i
		}
		if i >= len(s) || (tok != "*" && tok != s[i]) {
			return false
		}
	}
	return len(f) == len(s)
}

func split(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// An objection's subject is inside the ROUNDS stream, matched by its
// round's and its institution's filters and by no other round's, and
// outside the filters the ranking consumes.
func TestObjectionSubject(t *testing.T) {
	subj := RoundObjectionSubject("ombudsman", 2024, "pemkab-hss", "obj-abcdefghijklmnop")
	if !matches(RoundAll, subj) || !matches(RoundObjectionAll, subj) {
		t.Fatalf("%s outside ROUNDS", subj)
	}
	for _, f := range []string{RoundObjectionFilter("ombudsman", 2024, ""), RoundObjectionFilter("ombudsman", 2024, "pemkab-hss")} {
		if !matches(f, subj) {
			t.Errorf("%s does not match %s", f, subj)
		}
	}
	for _, f := range []string{RoundObjectionFilter("ombudsman", 2025, ""), RoundObjectionFilter("sakip", 2024, ""), RoundObjectionFilter("ombudsman", 2024, "pemkab-tapin")} {
		if matches(f, subj) {
			t.Errorf("%s matches %s", f, subj)
		}
	}
	for _, f := range RoundStateFilters("", 0) {
		if matches(f, subj) {
			t.Errorf("state filter %s matches an objection", f)
		}
	}
}

func TestCeremonySubject(t *testing.T) {
	subj := CeremonyHeldSubject("63", "cer-abcdefghijklmnop")
	if !matches(CeremonyAll, subj) || !matches(CeremonyHeldAll, subj) {
		t.Fatalf("%s outside CEREMONIES", subj)
	}
	for _, f := range []string{CeremonyHeldFilter(""), CeremonyHeldFilter("63")} {
		if !matches(f, subj) {
			t.Errorf("%s does not match %s", f, subj)
		}
	}
	if matches(CeremonyHeldFilter("64"), subj) {
		t.Errorf("province filter 64 matches %s", subj)
	}
	if got := CeremonyHeldSubject("", "cer-abcdefghijklmnop"); !matches(CeremonyHeldFilter(National), got) {
		t.Errorf("a ceremony without a province is not national: %s", got)
	}
	if !slices.Contains(StreamNames(), Ceremonies) || StreamConfig(Ceremonies, 1).Subjects[0] != CeremonyAll {
		t.Errorf("CEREMONIES is not a stream of %s", CeremonyAll)
	}
	if c := StreamConfig(Ceremonies, 1); !c.DenyDelete || !c.DenyPurge {
		t.Errorf("CEREMONIES is not an audit log: %+v", c)
	}
}
