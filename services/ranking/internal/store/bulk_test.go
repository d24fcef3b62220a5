package store

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/predikat-id/predikat/pkg/platform/testenv/redistest"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// exactSum adds exactly, whatever the terms: the big.Int it replaces is
// the reference.
func TestExactSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	extremes := []int64{0, 1, -1, board.MaxUnscaled, -board.MaxUnscaled, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1}
	for round := range 20 {
		var s, sq exactSum
		var ws, wsq big.Int
		n := 1 + rng.IntN(5000)
		for i := range n {
			var v int64
			switch round % 4 {
			case 0:
				v = extremes[rng.IntN(len(extremes))]
			case 1:
				v = math.MaxInt64 - int64(rng.IntN(3)) // drives the accumulator to its fold point
			default:
				v = rng.Int64N(2*board.MaxUnscaled+1) - board.MaxUnscaled
			}
			if i%7 == 0 && round%2 == 1 {
				v = -v
			}
			s.add(v)
			sq.addSquare(v)
			ws.Add(&ws, big.NewInt(v))
			x := big.NewInt(v)
			wsq.Add(&wsq, x.Mul(x, x))
		}
		if s.String() != ws.String() || sq.String() != wsq.String() {
			t.Fatalf("round %d: sum %s, want %s; sum of squares %s, want %s", round, s.String(), ws.String(), sq.String(), wsq.String())
		}
	}
	var z exactSum
	if z.String() != "0" {
		t.Fatalf("empty sum %q", z.String())
	}
}

func TestAppendEntryIsEncodeEntry(t *testing.T) {
	for _, e := range []board.Entry{
		{Revision: 1, Scored: true, Score: -310, Band: "E", Basis: board.BasisComputed, Boards: []string{"a:00"}, Seq: 3, TimeMs: -5},
		{Revision: 1, Scored: true, Score: board.MaxUnscaled, Band: "A\nB", Name: "x\ry", RegionName: "t\tt"},
		{Revision: 9, Band: "C", Basis: board.BasisReportedBand},
	} {
		if got, want := string(AppendEntry([]byte("prefix"), &e)), "prefix"+EncodeEntry(e); got != want {
			t.Fatalf("AppendEntry %q, want %q", got, want)
		}
	}
	if appendSquare(nil, math.MinInt64) == nil || string(appendSquare(nil, -3)) != "9" {
		t.Fatal("appendSquare")
	}
}

// bulkRec is a record of the bulk tests: institution i of a round, on the
// national board of its group and its province's.
func bulkRec(scheme string, i int, band string, scored bool) board.Record {
	prov := fmt.Sprintf("%02d", 11+i%5)
	e := board.Entry{Revision: 1 + uint64(i%3), Band: band, Basis: board.BasisComputed, Seq: uint64(100 + i), TimeMs: int64(1000 + i%977),
		Name: "Institution " + strconv.Itoa(i), Kind: 4, RegionCode: prov + ".01", RegionName: "R", ProvinceCode: prov,
		Boards: []string{"pemda:00", "pemda:" + prov}}
	if scored {
		e.Scored, e.Score = true, int64((i*7919)%20001-10000) // negative scores too, many ties
	} else {
		e.Basis = board.BasisReportedBand
	}
	r := board.Record{Scheme: scheme, Year: 2024, RoundID: scheme + "-2024", SchemeVersion: "v1", Precision: 2,
		Institution: fmt.Sprintf("inst-%06d", i), Entry: e,
		BandInfo: board.Band{Code: band, Label: "own " + band, Zone: board.ZoneGreen},
		Groups:   []board.Group{{Code: "pemda", Name: "Pemerintah Daerah", Scopes: []board.Scope{board.ScopeNational, board.ScopeProvince}}}}
	if i%2 == 0 {
		// Half the records carry the band table (it wins over their own
		// band), from the middle on with other labels.
		label := "table"
		if i > 20000 {
			label = "table2"
		}
		for k, c := range []string{"A", "B", "C"} {
			r.Bands = append(r.Bands, board.Band{Code: c, Label: label + " " + c, Zone: board.ZoneYellow, Order: k + 1})
		}
	}
	return r
}

// newBulk is a store on a Redis of its own and a bulk write on it.
func newBulk(t *testing.T) (*redis.Client, *Bulk) {
	t.Helper()
	rdb := redistest.Start(t).Client(t)
	return rdb, New(rdb).NewBulk()
}

// A bulk write of more records than one batch holds leaves in Redis what
// writing every record in turn would: every entry, every member with its
// exact score, exact totals and band counts, the groups and bands the last
// record naming them says (the band table winning over a record's own
// band), the best score per band.
func TestBulkWritesWhatEveryRecordSays(t *testing.T) {
	rdb, bulk := newBulk(t)
	ctx := t.Context()
	const n = 2*bulkFlushRecords + 123
	type total struct {
		n, rn, syn int64
		sum, sumsq big.Int
		bands, rep map[string]int64
		t          int64
		members    map[string]int64
	}
	totals := map[string]*total{}
	entries := map[string]string{}
	bands := map[string]string{}
	bandmax := map[string]int64{}
	for i := range n {
		band := []string{"A", "B", "C", "D"}[i%4]
		r := bulkRec("bulk", i, band, i%11 != 5)
		r.Entry.Synthetic = i%7 == 3
		if err := bulk.Add(ctx, r); err != nil {
			t.Fatal(err)
		}
		// What the writer before this one did, record by record.
		entries[r.Institution] = EncodeEntry(r.Entry)
		bands[r.BandInfo.Code] = EncodeBand(r.BandInfo)
		for _, b := range r.Bands {
			bands[b.Code] = EncodeBand(b)
		}
		for _, id := range r.Entry.Boards {
			tt := totals[id]
			if tt == nil {
				tt = &total{bands: map[string]int64{}, rep: map[string]int64{}, members: map[string]int64{}}
				totals[id] = tt
			}
			if r.Entry.Scored {
				tt.n++
				tt.sum.Add(&tt.sum, big.NewInt(r.Entry.Score))
				tt.sumsq.Add(&tt.sumsq, big.NewInt(r.Entry.Score*r.Entry.Score))
				tt.members[r.Institution] = r.Entry.Score
			}
			tt.bands[band]++
			if r.Entry.Basis == board.BasisReportedBand {
				tt.rep[band]++
				tt.rn++
			}
			tt.t = max(tt.t, r.Entry.TimeMs)
			if r.Entry.Synthetic && r.Entry.Scored {
				tt.syn++
			}
		}
		if r.Entry.Scored {
			if m, ok := bandmax[band]; !ok || r.Entry.Score > m {
				bandmax[band] = r.Entry.Score
			}
		}
	}
	swaps, err := bulk.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(swaps) != 1 || swaps[0].Precision != 2 || swaps[0].Version != "v1" || swaps[0].RoundID != "bulk-2024" {
		t.Fatalf("swaps %+v", swaps)
	}
	prefix := GenPrefix(Tag("bulk", 2024), swaps[0].Gen)
	gotEntries, err := rdb.HGetAll(ctx, prefix+genEntries).Result()
	if err != nil || len(gotEntries) != n {
		t.Fatalf("%d entries, %v", len(gotEntries), err)
	}
	for k, v := range entries {
		if gotEntries[k] != v {
			t.Fatalf("entry %s = %q, want %q", k, gotEntries[k], v)
		}
	}
	if bulk.Boards() != len(totals) || bulk.Records != n {
		t.Fatalf("boards %d records %d", bulk.Boards(), bulk.Records)
	}
	for id, tt := range totals {
		zs, err := rdb.ZRangeWithScores(ctx, prefix+genZ+id, 0, -1).Result()
		if err != nil || len(zs) != len(tt.members) {
			t.Fatalf("board %s: %d members, want %d (%v)", id, len(zs), len(tt.members), err)
		}
		for _, z := range zs {
			if want := tt.members[z.Member.(string)]; z.Score != float64(want) {
				t.Fatalf("board %s: %s scores %v, want %d", id, z.Member, z.Score, want)
			}
		}
		pop, err := rdb.HGetAll(ctx, prefix+genPop+id).Result()
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{popN: strconv.FormatInt(tt.n, 10), popSum: tt.sum.String(), popSumSq: tt.sumsq.String(),
			popReportedN: strconv.FormatInt(tt.rn, 10), popTime: strconv.FormatInt(tt.t, 10)}
		for c, k := range tt.bands {
			want[popBand+c] = strconv.FormatInt(k, 10)
		}
		for c, k := range tt.rep {
			want[popReported+c] = strconv.FormatInt(k, 10)
		}
		if tt.syn > 0 {
			want[popSynthetic] = strconv.FormatInt(tt.syn, 10)
		}
		if fmt.Sprint(pop) != fmt.Sprint(want) {
			t.Fatalf("board %s totals\n got %v\nwant %v", id, pop, want)
		}
	}
	gotBands, _ := rdb.HGetAll(ctx, prefix+genBands).Result()
	if fmt.Sprint(gotBands) != fmt.Sprint(bands) {
		t.Fatalf("bands\n got %v\nwant %v", gotBands, bands)
	}
	gotMax, _ := rdb.HGetAll(ctx, prefix+genBandMax).Result()
	for b, m := range bandmax {
		if gotMax[b] != strconv.FormatInt(m, 10) {
			t.Fatalf("bandmax %v, want %v", gotMax, bandmax)
		}
	}
	if g, _ := rdb.HGet(ctx, prefix+genGroups, "pemda").Result(); g != EncodeGroup(bulkRec("bulk", 0, "A", true).Groups[0]) {
		t.Fatalf("group %q", g)
	}
	if ok, _ := rdb.SIsMember(ctx, Base+keyPending, Tag("bulk", 2024)+"|"+swaps[0].Gen).Result(); !ok {
		t.Fatal("the generation is not recorded as pending")
	}
}

// Add keeps nothing of the record it is given: a caller may reuse the
// memory its strings view.
func TestBulkAddCopiesWhatItKeeps(t *testing.T) {
	rdb, bulk := newBulk(t)
	ctx := t.Context()
	buf := []byte("inst-xAx:00")
	view := func(b []byte) string { return unsafeString(b) }
	r := bulkRec("copy", 1, "A", true)
	r.Institution, r.Entry.Band, r.BandInfo.Code = view(buf[:6]), view(buf[6:7]), view(buf[6:7])
	r.Groups = []board.Group{{Code: view(buf[7:8]), Name: "n", Scopes: []board.Scope{board.ScopeNational}}}
	r.Entry.Boards = []string{view(buf[7:])}
	r.Bands = nil
	if err := bulk.Add(ctx, r); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXXXXXXXX")
	swaps, err := bulk.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	prefix := GenPrefix(Tag("copy", 2024), swaps[0].Gen)
	if ok, _ := rdb.HExists(ctx, prefix+genEntries, "inst-x").Result(); !ok {
		t.Fatal("entry written under a reused buffer's new contents")
	}
	if v, _ := rdb.HGet(ctx, prefix+genBands, "A").Result(); v == "" {
		t.Fatalf("bands %v", rdb.HGetAll(ctx, prefix+genBands).Val())
	}
	if _, err := rdb.HGet(ctx, prefix+genPop+"x:00", popBand+"A").Result(); err != nil {
		t.Fatalf("band count of a reused buffer's band: %v (%v)", err, rdb.Keys(ctx, prefix+"*").Val())
	}
	if err := rdb.ZScore(ctx, prefix+genZ+"x:00", "inst-x").Err(); err != nil {
		t.Fatal(err)
	}
	if v, _ := rdb.HGet(ctx, prefix+genGroups, "x").Result(); v == "" {
		t.Fatal("group of a reused buffer's code missing")
	}
}
