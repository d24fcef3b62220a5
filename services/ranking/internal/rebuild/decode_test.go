package rebuild

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/predikat-id/predikat/pkg/gen/predikat/assessment/v1"
	eventsv1 "github.com/predikat-id/predikat/pkg/gen/predikat/events/v1"
	rt "github.com/predikat-id/predikat/pkg/platform/testenv/eventtest"
	"github.com/predikat-id/predikat/services/ranking/internal/board"
)

// slowDecode is what a rebuild did before the fast decoder, and still does
// when it declines.
func slowDecode(data []byte, seq uint64) (board.Record, bool) {
	var ev eventsv1.AssessmentRecorded
	if err := proto.Unmarshal(data, &ev); err != nil {
		return board.Record{}, false
	}
	r, err := board.FromEvent(&ev, seq)
	return r, err == nil
}

// sampleEvents are events of every shape the decoder meets: the test
// producer's, the bench's (dimension scores, no band table), band-only,
// without scale, times, revision, round id or groups, corrections, and
// fields of a newer producer.
func sampleEvents() []*eventsv1.AssessmentRecorded {
	ts := timestamppb.New(time.Date(2024, 11, 1, 10, 0, 0, 123456789, time.UTC))
	base := func(i int) *eventsv1.AssessmentRecorded {
		kinds := []rt.Inst{{Kind: rt.Pemkab}, {Kind: rt.Pemkot}, {Kind: rt.Polres}, {Kind: rt.Kantah}, {Kind: rt.Menteri}}
		in := kinds[i%len(kinds)]
		in.ID, in.Name = "inst-"+string(rune('a'+i%26)), "Institution\twith a tab "+string(rune('A'+i%26))
		if in.Kind != rt.Menteri {
			in.Region = []string{"63.03", "11.71", "00.00", "9", ""}[i%5]
		}
		a := &assessmentv1.Assessment{
			RoundId: "ombudsman-2024", SchemeId: "ombudsman", SchemeVersion: "2022", Year: 2024, InstitutionId: in.ID,
			Institution: in.Snapshot(), Basis: assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_COMPUTED,
			WeightedTotal: "87.25", Total: []string{"87.25", "90", "12.5", "-3.10", "100.00"}[i%5], BandCode: "B", BandLabel: "Kualitas Tinggi",
			BandZone: assessmentv1.BandZone_BAND_ZONE_GREEN, Revision: uint64(i % 3), RequestId: "req", RecordedBy: "test", RecordTime: ts,
			Synthetic: i%4 == 1,
		}
		for _, d := range []string{"a", "b", "c"} {
			a.DimensionScores = append(a.DimensionScores, &assessmentv1.DimensionScore{Code: d, Score: "87.25"})
		}
		return &eventsv1.AssessmentRecorded{EventId: "e", EventTime: ts, Assessment: a, PeerGroups: rt.GroupsFor(in.Kind),
			Scale: &assessmentv1.Scale{Min: "0.00", Max: "100.00", Precision: 2}, Bands: rt.OmbudsmanBands(), RoundRevision: uint64(i % 4)}
	}
	var out []*eventsv1.AssessmentRecorded
	for i := range 40 {
		ev := base(i)
		switch i % 10 {
		case 1:
			ev.Bands = nil
		case 2:
			ev.Scale = nil
		case 3:
			ev.GetAssessment().Basis = assessmentv1.AssessmentBasis_ASSESSMENT_BASIS_REPORTED_BAND
			ev.GetAssessment().Total = ""
		case 4:
			ev.EventTime = nil
		case 5:
			ev.EventTime, ev.GetAssessment().RecordTime = nil, nil
		case 6:
			ev.GetAssessment().RoundId = ""
		case 7:
			ev.PeerGroups = nil
		case 8:
			ev.Scale = &assessmentv1.Scale{} // present, precision 0
			ev.GetAssessment().Total = "90"
		case 9:
			ev.GetAssessment().BandCode = "Z" // not in the table
		}
		out = append(out, ev)
	}
	// Events FromEvent refuses: the slow path must decide them.
	bad := []func(*eventsv1.AssessmentRecorded){
		func(ev *eventsv1.AssessmentRecorded) { ev.GetAssessment().SchemeId = "" },
		func(ev *eventsv1.AssessmentRecorded) { ev.GetAssessment().Year = 0 },
		func(ev *eventsv1.AssessmentRecorded) { ev.GetAssessment().InstitutionId = "" },
		func(ev *eventsv1.AssessmentRecorded) { ev.GetAssessment().Total = "" },
		func(ev *eventsv1.AssessmentRecorded) { ev.GetAssessment().Total = "12.345" },
		func(ev *eventsv1.AssessmentRecorded) { ev.GetAssessment().Total = "99999999999" },
		func(ev *eventsv1.AssessmentRecorded) { ev.GetAssessment().BandCode = "" },
		func(ev *eventsv1.AssessmentRecorded) { ev.Assessment = nil },
	}
	for i, f := range bad {
		ev := base(i)
		f(ev)
		out = append(out, ev)
	}
	return out
}

func marshal(t testing.TB, ev proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkSame fails when the fast decoder accepts what the slow path refuses
// or makes another record of it.
func checkSame(t testing.TB, d *fastDecoder, data []byte, seq uint64) (fast bool) {
	t.Helper()
	want, wantOK := slowDecode(data, seq)
	got, ok := d.decode(data, seq)
	if ok && !wantOK {
		t.Fatalf("fast decoder accepted what the slow path refuses: %x\n%+v", data, got)
	}
	if ok && !reflect.DeepEqual(got, want) {
		t.Fatalf("fast decoder's record differs:\n got %+v\nwant %+v\nbody %x", got, want, data)
	}
	return ok
}

// The fast decoder makes the same record as proto.Unmarshal and
// board.FromEvent of every sample, and declines every event FromEvent
// refuses.
func TestFastDecoderMatchesFromEvent(t *testing.T) {
	d := &fastDecoder{}
	accepted := 0
	evs := sampleEvents()
	for i, ev := range evs {
		data := marshal(t, ev)
		if checkSame(t, d, data, uint64(1000+i)) {
			accepted++
		}
	}
	if accepted < 40 {
		t.Fatalf("fast decoder took %d of the 40 good samples", accepted)
	}
	// Unknown fields (a newer producer), a field sent with another wire
	// type, and a message field sent twice (proto merges them).
	ev := evs[0]
	data := marshal(t, ev)
	withUnknown := protowire.AppendTag(append([]byte{}, data...), 99, protowire.BytesType)
	withUnknown = protowire.AppendString(withUnknown, "future")
	if !checkSame(t, d, withUnknown, 7) {
		t.Fatal("an unknown field made the fast decoder decline")
	}
	wrongType := protowire.AppendTag(append([]byte{}, data...), evRoundRevision, protowire.BytesType)
	checkSame(t, d, protowire.AppendString(wrongType, "x"), 7)
	twice := protowire.AppendTag(append([]byte{}, data...), evAssessment, protowire.BytesType)
	twice = protowire.AppendBytes(twice, marshal(t, &eventsv1.AssessmentRecorded{Assessment: &assessmentv1.Assessment{Total: "1.00"}})[2:])
	if checkSame(t, d, twice, 7) {
		t.Fatal("a repeated assessment field was not left to the slow path")
	}
	// Invalid UTF-8 anywhere, even in a field the boards do not use, makes
	// proto refuse the event: so must the fast decoder.
	withA := func(extra func([]byte) []byte) []byte {
		rest := proto.Clone(ev).(*eventsv1.AssessmentRecorded)
		rest.Assessment = nil
		b := marshal(t, rest)
		b = protowire.AppendTag(b, evAssessment, protowire.BytesType)
		return protowire.AppendBytes(b, extra(marshal(t, ev.GetAssessment())))
	}
	if !checkSame(t, d, withA(func(a []byte) []byte { return a }), 7) {
		t.Fatal("a rebuilt body was declined")
	}
	for name, body := range map[string][]byte{
		"notes": withA(func(a []byte) []byte {
			return protowire.AppendString(protowire.AppendTag(a, 16, protowire.BytesType), "\xff")
		}),
		"a dimension score's code": withA(func(a []byte) []byte {
			ds := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "\xc3")
			return protowire.AppendBytes(protowire.AppendTag(a, 8, protowire.BytesType), ds)
		}),
		"the institution id": withA(func(a []byte) []byte {
			return protowire.AppendString(protowire.AppendTag(a, asInstitutionID, protowire.BytesType), "x\xff")
		}),
		"the event id": protowire.AppendString(protowire.AppendTag(append([]byte{}, data...), 1, protowire.BytesType), "\xff"),
	} {
		if checkSame(t, d, body, 7) {
			t.Fatalf("invalid UTF-8 in %s accepted", name)
		}
	}
}

// Damaged bodies: whatever the fast decoder accepts, the slow path accepts
// the same way.
func TestFastDecoderOnDamagedBodies(t *testing.T) {
	d := &fastDecoder{}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, ev := range sampleEvents() {
		data := marshal(t, ev)
		for range 300 {
			b := append([]byte{}, data...)
			switch rng.IntN(4) {
			case 0:
				b[rng.IntN(len(b))] = byte(rng.IntN(256))
			case 1:
				b = b[:rng.IntN(len(b))]
			case 2:
				i := rng.IntN(len(b))
				b = append(b[:i], append([]byte{byte(rng.IntN(256))}, b[i:]...)...)
			case 3:
				b[rng.IntN(len(b))] ^= 0x80
			}
			checkSame(t, d, b, 5)
		}
	}
}

func FuzzFastDecoder(f *testing.F) {
	for _, ev := range sampleEvents() {
		f.Add(marshal(f, ev))
	}
	d := &fastDecoder{}
	f.Fuzz(func(t *testing.T, data []byte) { checkSame(t, d, data, 3) })
}

// BenchmarkDecode is one bench-like record through each path.
func BenchmarkDecode(b *testing.B) {
	data := marshal(b, sampleEvents()[0])
	b.Run("fast", func(b *testing.B) {
		d := &fastDecoder{}
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := d.decode(data, 7); !ok {
				b.Fatal("declined")
			}
		}
	})
	b.Run("proto+FromEvent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := slowDecode(data, 7); !ok {
				b.Fatal("refused")
			}
		}
	})
}
