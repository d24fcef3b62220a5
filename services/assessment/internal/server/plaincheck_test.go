package server

import (
	"math/rand/v2"
	"strings"
	"testing"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
)

// text is a random string of up to max bytes drawn from alphabet, or one
// of the ordinary values half of the time.
func text(rnd *rand.Rand, alphabet string, max int, ordinary ...string) string {
	if len(ordinary) > 0 && rnd.IntN(2) == 0 {
		return ordinary[rnd.IntN(len(ordinary))]
	}
	b := make([]byte, rnd.IntN(max+1))
	for i := range b {
		b[i] = alphabet[rnd.IntN(len(alphabet))]
	}
	return string(b)
}

const nasty = "az09-_.:,+AZ #é\x00\n/"

// ordinaryInput is a valid input of the common shape: a total, a band or
// dimension scores, with notes.
func ordinaryInput(rnd *rand.Rand) *assessmentv1.AssessmentInput {
	in := &assessmentv1.AssessmentInput{Respondents: int32(rnd.IntN(1000)), Notes: "catatan é"}
	switch rnd.IntN(3) {
	case 0:
		in.Result = &assessmentv1.AssessmentInput_ReportedTotal{ReportedTotal: "96,52"}
	case 1:
		in.Result = &assessmentv1.AssessmentInput_ReportedBand{ReportedBand: "Zona+Hijau"}
	default:
		in.Result = &assessmentv1.AssessmentInput_DimensionScores{DimensionScores: &assessmentv1.DimensionScores{Scores: []*assessmentv1.DimensionScore{
			{Code: "proses", Score: "71.5"}, {Code: "kepatuhan_2", Score: "999999.999999"}}}}
	}
	return in
}

func randomInput(rnd *rand.Rand) *assessmentv1.AssessmentInput {
	if rnd.IntN(3) == 0 {
		return ordinaryInput(rnd)
	}
	if rnd.IntN(20) == 0 {
		return nil
	}
	in := &assessmentv1.AssessmentInput{Respondents: int32(rnd.IntN(3)-1) * int32(rnd.IntN(200_000_000)),
		Notes: strings.Repeat("catatan é ", rnd.IntN(2)*rnd.IntN(300)), Synthetic: rnd.IntN(2) == 0}
	decimal := func() string {
		return text(rnd, "0123456789.,-a ", 16, "96.52", "96,5", "100", "0.000001", "999999.999999", "1234567", "96.", ".5", "1.1234567")
	}
	switch rnd.IntN(4) {
	case 0:
		in.Result = &assessmentv1.AssessmentInput_ReportedTotal{ReportedTotal: decimal()}
	case 1:
		in.Result = &assessmentv1.AssessmentInput_ReportedBand{ReportedBand: text(rnd, "ABab09_+-. é", 20, "BB", "a", "Zona+Hijau", "-A")}
	case 2:
		ds := &assessmentv1.DimensionScores{}
		for range rnd.IntN(70) {
			ds.Scores = append(ds.Scores, &assessmentv1.DimensionScore{Code: text(rnd, nasty, 40, "proses", "a", "kepatuhan_2", "x-y"), Score: decimal()})
		}
		if rnd.IntN(10) == 0 {
			ds = nil
		}
		in.Result = &assessmentv1.AssessmentInput_DimensionScores{DimensionScores: ds}
	}
	if rnd.IntN(8) == 0 {
		in.Adjustments = []*assessmentv1.Adjustment{{}}
	}
	if rnd.IntN(8) == 0 {
		in.Source = &assessmentv1.Source{}
	}
	if rnd.IntN(8) == 0 {
		in.ImprovementNotes = []*assessmentv1.ImprovementNote{{Note: "x"}}
	}
	if rnd.IntN(8) == 0 {
		in.FollowUps = []*assessmentv1.NoteFollowUp{{}}
	}
	return in
}

func randomIDs(rnd *rand.Rand) (round, inst, request string) {
	round = text(rnd, "az09-", 40, "ombudsman-2024", "a-2025", "sakip-2023", "x1-y-2024", "ombudsman--2024", "-2024", "ombudsman-24", "o-2024-2024", "ombudsman-2024x")
	inst = text(rnd, nasty, 70, "kab-banjar", "a", "0", "kab-", "-kab", strings.Repeat("a", 63), strings.Repeat("a", 64))
	request = text(rnd, nasty, 140, "req-1", "objection:1", "rollup:x", "a.b:c_d-e", strings.Repeat("r", 128), strings.Repeat("r", 129))
	return round, inst, request
}

// Each plain check is never looser than the contract: every request it
// passes, protovalidate passes; and it passes the ordinary valid ones
// (else the fast path would be dead code).
func TestPrecheckedAgreesWithTheContract(t *testing.T) {
	v, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	passed := map[string]int{}
	for range 30000 {
		round, inst, request := randomIDs(rnd)
		if rnd.IntN(2) == 0 {
			round, inst, request = "ombudsman-2024", "kab-banjar", "req-1"
		}
		rec := &assessmentv1.RecordAssessmentRequest{RoundId: round, InstitutionId: inst, Input: randomInput(rnd), RequestId: request,
			CorrectsRevision: uint64(rnd.IntN(3)), Reason: text(rnd, "ab é", 1100, "", "erratum")}
		batch := &assessmentv1.BatchRecordAssessmentsRequest{RoundId: round}
		for range rnd.IntN(4) {
			_, inst, request := randomIDs(rnd)
			if rnd.IntN(3) != 0 {
				inst, request = "kab-tapin", "req-2"
			}
			batch.Records = append(batch.Records, &assessmentv1.BatchRecord{InstitutionId: inst, Input: randomInput(rnd), RequestId: request})
		}
		if rnd.IntN(50) == 0 {
			batch.Records = make([]*assessmentv1.BatchRecord, 1001)
			for i := range batch.Records {
				batch.Records[i] = &assessmentv1.BatchRecord{InstitutionId: "kab-a", RequestId: "r", Input: &assessmentv1.AssessmentInput{
					Result: &assessmentv1.AssessmentInput_ReportedTotal{ReportedTotal: "1"}}}
			}
		}
		for method, req := range map[string]any{
			assessmentv1.AssessmentService_RecordAssessment_FullMethodName:       rec,
			assessmentv1.AssessmentService_BatchRecordAssessments_FullMethodName: batch,
		} {
			if !Prechecked[method](req) {
				continue
			}
			passed[method]++
			if err := v.Validate(req.(proto.Message)); err != nil {
				t.Fatalf("%s: passes the plain check but not the contract (%v): %v", method, err, req)
			}
		}
	}
	for method := range Prechecked {
		if passed[method] < 300 {
			t.Fatalf("%s: the plain check passed only %d requests", method, passed[method])
		}
	}
}
