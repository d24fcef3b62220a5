package server

import (
	"math/rand/v2"
	"testing"

	"buf.build/go/protovalidate"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
)

// The plain check is never looser than the contract: every response it
// passes, protovalidate passes; and it passes the ordinary valid ones.
func TestPlainlyValidAgreesWithTheContract(t *testing.T) {
	v, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	idBytes := []byte("Aaz09._:/-#é \x00")
	dates := []string{"2026-03-02", "2026-3-02", "2026/03/02", "20260-3-02", "2026-03-0x", "", "2026-13-45", "1999-01-01"}
	pick := func(n int) []uint32 {
		out := make([]uint32, n)
		for i := range out {
			out[i] = uint32(rnd.IntN(6))
		}
		return out
	}
	passed := 0
	for i := range 20000 {
		id := make([]byte, rnd.IntN(70))
		for j := range id {
			id[j] = idBytes[rnd.IntN(len(idBytes))]
		}
		r := &assessmentv1.SurveyResponse{ResponseId: string(id), CollectionDate: dates[rnd.IntN(len(dates))], Answers: pick(rnd.IntN(70))}
		if rnd.IntN(3) == 0 {
			r.Profile = &assessmentv1.RespondentProfile{AgeBand: assessmentv1.AgeBand(rnd.IntN(9)), Sex: assessmentv1.Sex(rnd.IntN(4)),
				Education: assessmentv1.Education(rnd.IntN(8)), Occupation: assessmentv1.Occupation(rnd.IntN(8))}
		}
		if i%2 == 0 { // half of them ordinary valid ones
			r.ResponseId, r.CollectionDate, r.Answers = "r-"+string(rune('a'+rnd.IntN(26))), "2026-03-02", []uint32{4, 4, 3, 4, 2, 4, 4, 1, 4}
		}
		plain, full := plainlyValid(r), v.Validate(r) == nil
		if plain && !full {
			t.Fatalf("passes the plain check but not the contract: %v", r)
		}
		if plain {
			passed++
		}
	}
	if passed < 5000 {
		t.Fatalf("the plain check passed only %d valid-looking responses", passed)
	}
}
