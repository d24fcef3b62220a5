package board

import (
	"math/big"

	"github.com/predikat-id/predikat/pkg/decimal"
)

// Stats are the running totals of a board's scored entries, as unscaled
// integers at the round's precision. The figures derived from them are
// exact until one final half-up rounding to the precision.
type Stats struct {
	N     int64
	Sum   *big.Int // Σ unscaled
	SumSq *big.Int // Σ unscaled²
}

// Mean is Σx/n rounded half-up; "" when there are no entries.
func (s Stats) Mean(precision int) string {
	if s.N == 0 {
		return ""
	}
	return format(roundDiv(s.Sum, big.NewInt(s.N)), precision)
}

// Stddev is the population standard deviation sqrt(Σx²/n - (Σx/n)²),
// rounded half-up; "" when there are no entries.
func (s Stats) Stddev(precision int) string {
	if s.N == 0 {
		return ""
	}
	// variance = A / B with A = nΣx² - (Σx)², B = n², in unscaled² units.
	n := big.NewInt(s.N)
	a := new(big.Int).Mul(n, s.SumSq)
	a.Sub(a, new(big.Int).Mul(s.Sum, s.Sum))
	if a.Sign() < 0 { // cannot happen with consistent totals
		a.SetInt64(0)
	}
	b := new(big.Int).Mul(n, n)
	// k = floor(sqrt(A/B)) = isqrt(floor(A/B)); round up when
	// sqrt(A/B) >= k + 1/2, i.e. 4A >= (2k+1)² B.
	k := new(big.Int).Sqrt(new(big.Int).Quo(a, b))
	t := new(big.Int).Lsh(k, 1)
	t.Add(t, big.NewInt(1))
	t.Mul(t, t).Mul(t, b)
	if new(big.Int).Lsh(a, 2).Cmp(t) >= 0 {
		k.Add(k, big.NewInt(1))
	}
	return format(k, precision)
}

// Median of a sorted board: the middle score, or the mean of the two middle
// scores rounded half-up when the count is even.
func Median(lowMid, highMid int64, precision int) string {
	sum := big.NewInt(lowMid)
	sum.Add(sum, big.NewInt(highMid))
	return format(roundDiv(sum, big.NewInt(2)), precision)
}

// roundDiv is num/den rounded half away from zero (den > 0).
func roundDiv(num, den *big.Int) *big.Int {
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	if new(big.Int).Lsh(new(big.Int).Abs(r), 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(int64(num.Sign())))
	}
	return q
}

func format(unscaled *big.Int, precision int) string {
	if !unscaled.IsInt64() {
		return "" // beyond any scale a board holds (MaxUnscaled)
	}
	return decimal.New(unscaled.Int64(), precision).String()
}
