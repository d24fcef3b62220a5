package skm_test

import (
	"math"
	"math/big"
	"testing"

	"github.com/predikat-id/predikat/services/assessment/internal/skm"
)

// krejcieMorgan is Table 1 of Krejcie & Morgan (1970), "Determining sample
// size for research activities": population N -> sample S.
var krejcieMorgan = []struct{ n, s int64 }{
	{10, 10}, {15, 14}, {20, 19}, {25, 24}, {30, 28}, {35, 32}, {40, 36}, {45, 40}, {50, 44},
	{55, 48}, {60, 52}, {65, 56}, {70, 59}, {75, 63}, {80, 66}, {85, 70}, {90, 73}, {95, 76},
	{100, 80}, {110, 86}, {120, 92}, {130, 97}, {140, 103}, {150, 108}, {160, 113}, {170, 118},
	{180, 123}, {190, 127}, {200, 132}, {210, 136}, {220, 140}, {230, 144}, {240, 148},
	{250, 152}, {260, 155}, {270, 159}, {280, 162}, {290, 165}, {300, 169}, {320, 175},
	{340, 181}, {360, 186}, {380, 191}, {400, 196}, {420, 201}, {440, 205}, {460, 210},
	{480, 214}, {500, 217}, {550, 226}, {600, 234}, {650, 242}, {700, 248}, {750, 254},
	{800, 260}, {850, 265}, {900, 269}, {950, 274}, {1000, 278}, {1100, 285}, {1200, 291},
	{1300, 297}, {1400, 302}, {1500, 306}, {1600, 310}, {1700, 313}, {1800, 317}, {1900, 320},
	{2000, 322}, {2200, 327}, {2400, 331}, {2600, 335}, {2800, 338}, {3000, 341}, {3500, 346},
	{4000, 351}, {4500, 354}, {5000, 357}, {6000, 361}, {7000, 364}, {8000, 367}, {9000, 368},
	{10000, 370}, {15000, 375}, {20000, 377}, {30000, 379}, {40000, 380}, {50000, 381},
	{75000, 382}, {1000000, 384},
}

// exact returns 3841·N / (10·N + 3831), the formula with X² = 3.841,
// P = 0.5, d = 0.05 multiplied through by 4000.
func exact(n int64) *big.Rat { return big.NewRat(3841*n, 10*n+3831) }

func TestRequiredSampleReproducesTheTable(t *testing.T) {
	if len(krejcieMorgan) != 90 {
		t.Fatalf("the table has 90 entries, not %d", len(krejcieMorgan))
	}
	roundingUpWouldDiffer := 0
	for _, e := range krejcieMorgan {
		if got := skm.RequiredSample(e.n); got != e.s {
			t.Errorf("RequiredSample(%d) = %d, the table says %d (exact %s)", e.n, got, e.s, exact(e.n).FloatString(3))
		}
		if x := exact(e.n); !x.IsInt() && new(big.Int).Quo(x.Num(), x.Denom()).Int64()+1 != e.s {
			roundingUpWouldDiffer++
		}
	}
	// Why the table's rounding and not rounding up: rounding up would
	// contradict half of the table's entries, each by one.
	if roundingUpWouldDiffer != 45 {
		t.Errorf("rounding up would differ from %d of the 90 entries; the documentation says 45", roundingUpWouldDiffer)
	}
}

func TestRequiredSamplePoints(t *testing.T) {
	tests := []struct{ n, want int64 }{
		// Exact values (3841·N / (10·N + 3831)) worked out by hand:
		{10, 10},       // 38410/3931 = 9.771
		{50, 44},       // 192050/4331 = 44.343 (rounding up: 45)
		{100, 80},      // 384100/4831 = 79.507
		{500, 217},     // 1920500/8831 = 217.473 (rounding up: 218)
		{1000, 278},    // 3841000/13831 = 277.710
		{5000, 357},    // 19205000/53831 = 356.765
		{10000, 370},   // 38410000/103831 = 369.928
		{100000, 383},  // 384100000/1003831 = 382.634: not a row of the table, which goes from 75000 (382) to 1000000 (384)
		{1000000, 384}, // 3841000000/10003831 = 383.953
		{1, 1},         // 3841/3841
		{2, 2},         // 7682/3851 = 1.995
		// The value tends to 384.1 and passes 384 above N = 1,471,104
		// (3841·N > 384·(10·N + 3831) ⇔ N > 1,471,104): rounding up would
		// ask for 385 there; the table's rounding stays at 384.
		{1471104, 384},
		{1471105, 384},
		{math.MaxInt64, 384},
		{0, 0},  // unknown population
		{-5, 0}, // unknown population
	}
	for _, tt := range tests {
		if got := skm.RequiredSample(tt.n); got != tt.want {
			t.Errorf("RequiredSample(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
	// Never more than the population, and never less for a larger one.
	prev := int64(0)
	for n := int64(1); n <= 20000; n++ {
		s := skm.RequiredSample(n)
		if s > n || s < prev {
			t.Fatalf("RequiredSample(%d) = %d after %d", n, s, prev)
		}
		prev = s
	}
}

func TestSampleShort(t *testing.T) {
	tests := []struct {
		population, respondents int64
		short                   bool
		required                int64
	}{
		{0, 1, false, 0},  // population unknown: no flag
		{-1, 0, false, 0}, // same
		{50, 44, false, 44},
		{50, 43, true, 44},
		{500, 217, false, 217},
		{500, 216, true, 217},
		{1000000, 383, true, 384},
		{1000000, 1000, false, 384},
		{10, 10, false, 10},
	}
	for _, tt := range tests {
		short, required := skm.SampleShort(tt.population, tt.respondents)
		if short != tt.short || required != tt.required {
			t.Errorf("SampleShort(%d, %d) = %v, %d; want %v, %d",
				tt.population, tt.respondents, short, required, tt.short, tt.required)
		}
	}
}
