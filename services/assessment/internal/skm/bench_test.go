package skm_test

import (
	"testing"

	"github.com/predikat-id/predikat/services/assessment/internal/skm"
)

// BenchmarkTallyAdd measures checking and counting one response of the 2017
// survey: the per-response work of ingestion once a response is decoded.
func BenchmarkTallyAdd(b *testing.B) {
	s := skm.Standard2017()
	rs := randomResponses(s, 1024, 5)
	tally := skm.NewTally(s)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := tally.Add(rs[i%len(rs)]); err != nil {
			b.Fatal(err)
		}
	}
}
