package skm_test

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/predikat-id/predikat/pkg/platform/fault"
	"github.com/predikat-id/predikat/services/assessment/internal/skm"
)

// randomResponses returns n valid responses to s from a fixed seed.
func randomResponses(s skm.Survey, n int, seed uint64) []skm.Response {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	out := make([]skm.Response, n)
	for i := range out {
		r := skm.Response{ID: "r" + string(rune('a'+i%26)), Answers: map[string]int8{}}
		for _, c := range s.Codes() {
			r.Answers[c] = int8(1 + rng.IntN(4))
		}
		out[i] = r
	}
	return out
}

func tallyOf(t *testing.T, s skm.Survey, rs []skm.Response) *skm.Tally {
	t.Helper()
	tally := skm.NewTally(s)
	for i, r := range rs {
		if err := tally.Add(r); err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
	}
	return tally
}

func TestTallyCounts(t *testing.T) {
	s := skm.Standard2017()
	tally := tallyOf(t, s, []skm.Response{
		answers9("r1", 4, 4, 4, 4, 4, 4, 4, 4, 4),
		answers9("r2", 1, 2, 3, 4, 1, 2, 3, 4, 1),
		answers9("r3", 4, 3, 3, 3, 3, 3, 3, 3, 1),
	})
	if tally.Respondents() != 3 {
		t.Errorf("respondents = %d, want 3", tally.Respondents())
	}
	want := map[int][4]int64{
		0: {1, 0, 0, 2}, // persyaratan: 4, 1, 4
		1: {0, 1, 1, 1}, // prosedur: 4, 2, 3
		8: {2, 0, 0, 1}, // pengaduan: 4, 1, 1
	}
	for i, w := range want {
		if got := tally.Counts(i); got != w {
			t.Errorf("element %d counts = %v, want %v", i, got, w)
		}
	}
}

// Merging partial tallies, in any split and any order, gives exactly the
// tally of all the responses: what batches and replicas rely on.
func TestMergeEqualsWholeTally(t *testing.T) {
	s := skm.Standard2017()
	rs := randomResponses(s, 1000, 17)
	whole := tallyOf(t, s, rs)
	for _, cut := range []int{0, 1, 333, 999, 1000} {
		a, b := tallyOf(t, s, rs[:cut]), tallyOf(t, s, rs[cut:])
		ab := a.Clone()
		if err := ab.Merge(b); err != nil {
			t.Fatal(err)
		}
		ba := b.Clone()
		if err := ba.Merge(a); err != nil {
			t.Fatal(err)
		}
		if !ab.Equal(whole) || !ba.Equal(whole) {
			t.Errorf("cut at %d: a+b %v, b+a %v; want the whole tally", cut, ab.Equal(whole), ba.Equal(whole))
		}
		if a.Respondents() != int64(cut) {
			t.Errorf("cut at %d: Merge changed its argument or Clone shares counts", cut)
		}
	}
	// Three-way, as replicas would: ((x+y)+z) == whole.
	x, y, z := tallyOf(t, s, rs[:100]), tallyOf(t, s, rs[100:700]), tallyOf(t, s, rs[700:])
	if err := x.Merge(y); err != nil {
		t.Fatal(err)
	}
	if err := x.Merge(z); err != nil {
		t.Fatal(err)
	}
	if !x.Equal(whole) {
		t.Error("three partial tallies do not merge into the whole tally")
	}
}

func TestMergeRefusesOtherSurvey(t *testing.T) {
	a := skm.NewTally(skm.Standard2017())
	ten := skm.Standard2017()
	ten.Elements = append(ten.Elements, skm.Element{Code: "kebersihan", Weight: skm.MustWeight("0.1")})
	b := skm.NewTally(ten)
	if err := b.Add(randomResponses(ten, 1, 1)[0]); err != nil {
		t.Fatal(err)
	}
	if err := a.Merge(b); err == nil || !fault.Is(err, fault.Invalid) {
		t.Errorf("Merge of different surveys = %v, want a fault.Invalid", err)
	}
	if a.Respondents() != 0 {
		t.Error("a refused Merge changed the tally")
	}
}

func TestTallyJSONAndRestore(t *testing.T) {
	s := skm.Standard2017()
	tally := tallyOf(t, s, randomResponses(s, 50, 3))
	b, err := json.Marshal(tally)
	if err != nil {
		t.Fatal(err)
	}
	var back skm.Tally
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Equal(tally) {
		t.Errorf("JSON round trip changed the tally: %s", b)
	}
	if !strings.HasPrefix(string(b), `{"elements":["persyaratan",`) {
		t.Errorf("JSON = %s", b)
	}

	codes := []string{"a", "b"}
	bad := []struct {
		name   string
		codes  []string
		n      int64
		counts [][4]int64
		want   string
	}{
		{"row short of respondents", codes, 3, [][4]int64{{1, 1, 1, 0}, {1, 1, 0, 0}}, `"b": counts sum to 2, not the 3`},
		{"row past respondents", codes, 3, [][4]int64{{1, 1, 1, 1}, {3, 0, 0, 0}}, `"a": counts exceed the 3`},
		{"negative count", codes, 0, [][4]int64{{0, -1, 1, 0}, {0, 0, 0, 0}}, `"a": count of answer 2 is negative`},
		{"huge count", codes, 3, [][4]int64{{3, 0, 0, 0}, {2, 9223372036854775807, 0, 0}}, `"b": counts exceed`},
		{"rows for elements", codes, 0, [][4]int64{{0, 0, 0, 0}}, "1 rows of counts for 2 elements"},
		{"repeated code", []string{"a", "a"}, 0, [][4]int64{{}, {}}, `code "a" is empty or repeated`},
		{"no elements", nil, 0, nil, "no elements"},
		{"negative respondents", codes, -1, [][4]int64{{}, {}}, "respondents -1 outside"},
	}
	for _, tt := range bad {
		if _, err := skm.RestoreTally(tt.codes, tt.n, tt.counts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: RestoreTally = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
	if _, err := skm.RestoreTally(codes, 3, [][4]int64{{0, 0, 1, 2}, {3, 0, 0, 0}}); err != nil {
		t.Errorf("a consistent tally was refused: %v", err)
	}
}
