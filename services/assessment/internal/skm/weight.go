package skm

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/predikat-id/predikat/pkg/decimal"
	"github.com/predikat-id/predikat/pkg/platform/fault"
)

// Weight is an element's weight: an exact positive rational num/den, kept in
// lowest terms with a positive denominator, so == compares values (1/9 built
// as 2/18 equals 1/9). The zero Weight is "no weight" and is refused by
// Validate; every constructor returns a positive weight or an error.
//
// A weight written as a decimal ("0.111") is the fraction 111/1000 exactly;
// one written as a fraction ("1/9") has no decimal form and needs none.
type Weight struct {
	num, den int64
}

// NewWeight returns the weight num/den reduced to lowest terms. Both must be
// positive.
func NewWeight(num, den int64) (Weight, error) {
	if num <= 0 || den <= 0 {
		return Weight{}, fault.Invalidf("weight %d/%d: numerator and denominator must be positive", num, den)
	}
	g := gcd(num, den)
	return Weight{num: num / g, den: den / g}, nil
}

// WeightFromDecimal returns the decimal d as an exact weight: 0.111 is
// 111/1000. d must be positive.
func WeightFromDecimal(d decimal.Decimal) (Weight, error) {
	if d.Sign() <= 0 {
		return Weight{}, fault.Invalidf("weight %s: must be positive", d)
	}
	return NewWeight(d.Unscaled(), pow10(d.Scale()))
}

// ParseWeight reads a weight written as a fraction of two positive integers
// ("1/9", "2/18") or as a positive decimal ("0.111", "0,111", "1").
func ParseWeight(s string) (Weight, error) {
	t := strings.TrimSpace(s)
	if n, d, ok := strings.Cut(t, "/"); ok {
		num, err1 := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
		den, err2 := strconv.ParseInt(strings.TrimSpace(d), 10, 64)
		if err1 != nil || err2 != nil {
			return Weight{}, fault.Invalidf("weight %q: a fraction needs two whole numbers, as in 1/9", s)
		}
		return NewWeight(num, den)
	}
	d, err := decimal.Parse(t)
	if err != nil {
		return Weight{}, fault.Invalidf("weight %q: neither a fraction (1/9) nor a decimal (0.111): %v", s, err)
	}
	return WeightFromDecimal(d)
}

// MustWeight is ParseWeight for constants and tests: it panics on error.
func MustWeight(s string) Weight {
	w, err := ParseWeight(s)
	if err != nil {
		panic(err)
	}
	return w
}

// Num returns the numerator in lowest terms (0 for the zero Weight).
func (w Weight) Num() int64 { return w.num }

// Den returns the denominator in lowest terms (0 for the zero Weight).
func (w Weight) Den() int64 { return w.den }

// IsPositive reports whether w is a weight (not the zero Weight).
func (w Weight) IsPositive() bool { return w.num > 0 && w.den > 0 }

// Rat returns w as a new big.Rat (0 for the zero Weight).
func (w Weight) Rat() *big.Rat {
	if !w.IsPositive() {
		return new(big.Rat)
	}
	return big.NewRat(w.num, w.den)
}

// String returns w as a decimal when it has an exact one of at most
// decimal.MaxScale digits ("0.111", "0.1", "1") and as a fraction otherwise
// ("1/9"). ParseWeight reads it back to the same weight. The zero Weight is
// "0".
func (w Weight) String() string {
	if !w.IsPositive() {
		return "0"
	}
	for scale := 0; scale <= decimal.MaxScale; scale++ {
		p := pow10(scale)
		if p%w.den != 0 {
			continue
		}
		if f := p / w.den; w.num <= math.MaxInt64/f {
			return decimal.New(w.num*f, scale).String()
		}
		break
	}
	return fmt.Sprintf("%d/%d", w.num, w.den)
}

// MarshalText returns String() (encoding.TextMarshaler), so that survey
// definitions can be stored as text or JSON without losing exactness.
func (w Weight) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// UnmarshalText reads a weight with ParseWeight (encoding.TextUnmarshaler).
func (w *Weight) UnmarshalText(text []byte) error {
	v, err := ParseWeight(string(text))
	if err != nil {
		return err
	}
	*w = v
	return nil
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// pow10 returns 10^n for 0 <= n <= decimal.MaxScale.
func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}
