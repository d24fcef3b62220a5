package store_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// BenchmarkApply is the board update of one assessment event (a new entry
// on its national and provincial boards, with statistics and its scheme's
// band table), one event per call as the consumer applies a lone event,
// and in batches of 32 and 100 as it applies a burst (a group commit, a
// BatchRecordAssessments) or catches up. Against a real redis-server,
// whose CPU per event it reports (redis-µs/op): the cost the batch saves
// is Redis's, which every reader of the boards shares.
//
//	go test -run '^$' -bench Apply -benchtime 20000x ./services/ranking/internal/store
func BenchmarkApply(b *testing.B) {
	table := []board.Band{{Code: "A", Label: "Sangat baik", Zone: board.ZoneGreen},
		{Code: "B", Label: "Baik", Zone: board.ZoneYellow}, {Code: "C", Label: "Cukup", Zone: board.ZoneRed}}
	for _, batch := range []int{1, 32, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s, srv := newStoreB(b)
			rdb := srv.Client(b)
			recs := make([]board.Record, batch)
			cpu := redisCPU(b, rdb)
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				for j := range recs {
					recs[j] = rec(fmt.Sprintf("inst-%d", i+j), 1, int64(5000+(i+j)%5000), "A", computed)
					recs[j].Bands = table
				}
				if _, err := s.Apply(b.Context(), recs); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(redisCPU(b, rdb)-cpu)/float64(b.N)/1e3, "redis-µs/op")
		})
	}
}

// redisCPU is the CPU time redis-server has used so far.
func redisCPU(tb testing.TB, rdb *redis.Client) time.Duration {
	tb.Helper()
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		tb.Fatal(err)
	}
	var d time.Duration
	for line := range strings.SplitSeq(info, "\r\n") {
		if k, v, _ := strings.Cut(line, ":"); k == "used_cpu_user" || k == "used_cpu_sys" {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				tb.Fatalf("redis INFO cpu %s: %v", line, err)
			}
			d += time.Duration(x * float64(time.Second))
		}
	}
	return d
}
