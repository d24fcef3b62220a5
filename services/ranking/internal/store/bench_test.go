package store_test

import (
	"fmt"
	"testing"

	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// BenchmarkApply is the board update of one assessment event (a new entry
// on its national and provincial boards, with statistics), one event per
// Redis call as the consumer does for a lone event, and in batches of 100
// as it does while catching up. Against a real redis-server.
func BenchmarkApply(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s, _ := newStoreB(b)
			recs := make([]board.Record, batch)
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				for j := range recs {
					recs[j] = rec(fmt.Sprintf("inst-%d", i+j), 1, int64(5000+(i+j)%5000), "A", computed)
				}
				if _, err := s.Apply(b.Context(), recs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
