// Package decimal provides exact fixed-point decimal numbers for scores,
// weights and band boundaries.
//
// Why not float64: scores are published with two decimals and band edges sit
// exactly on them ("A 88.00-100, B 78.00-87.99"). Numbers such as 0.1 or 87.99
// have no exact binary form, so a float total can come out as 87.99999999999
// and drop a band, and rounding 1.005 half-up gives 1.00. A Decimal is an
// int64 count of units of 10^-scale: 88.00 is exactly 8800 hundredths, every
// time, on every machine.
//
// Rules:
//   - The scale (number of fractional digits) is 0..MaxScale and is kept as
//     written: "88.00" has scale 2 and prints back as "88.00". Equal and Cmp
//     compare numbers, not representations (88.0 equals 88.00); the ==
//     operator compares representations and is rarely what you want.
//   - Arithmetic is exact or fails with an error wrapping ErrRange. Nothing
//     wraps around and nothing is rounded silently.
//   - Rounding is half-up, with halves going away from zero (2.5 -> 3,
//     -2.5 -> -3), as in published tables. Weighted totals round once, at the
//     end (see WeightedMean).
//   - The unscaled value never is math.MinInt64, so Neg and Abs cannot
//     overflow: the range is symmetric, ±9223372036854775807 units.
//
// The zero value is 0 (scale 0) and is ready to use. Sort with
// slices.SortFunc(xs, Decimal.Cmp).
package decimal

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxScale is the largest number of fractional digits a Decimal keeps.
// Nine digits is far more than any scheme publishes (two, sometimes three)
// and still leaves about 9.2e9 for the integer part.
const MaxScale = 9

// Sentinel errors; test with errors.Is.
var (
	// ErrSyntax: the text is not a decimal number this package accepts.
	ErrSyntax = errors.New("invalid syntax")
	// ErrRange: the exact result does not fit: too large for int64, more than
	// MaxScale fractional digits, or digits a rescale would have to drop.
	ErrRange = errors.New("value out of range")
	// ErrInvalid: an argument is unusable, such as a scale outside
	// 0..MaxScale or weights WeightedMean cannot use.
	ErrInvalid = errors.New("invalid argument")
)

// Decimal is an exact decimal number: unscaled × 10^-scale.
type Decimal struct {
	unscaled int64
	scale    uint8
}

// pow10[i] = 10^i for every scale difference that can occur.
var pow10 = func() (p [MaxScale + 1]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// New returns unscaled × 10^-scale, e.g. New(9652, 2) is 96.52.
// It panics if scale is outside 0..MaxScale or unscaled is math.MinInt64:
// both are programming errors, not input errors (use Parse for input).
func New(unscaled int64, scale int) Decimal {
	if scale < 0 || scale > MaxScale {
		panic(fmt.Sprintf("decimal.New: scale %d outside 0..%d", scale, MaxScale))
	}
	if unscaled == math.MinInt64 {
		panic("decimal.New: math.MinInt64 is not representable (the range is symmetric)")
	}
	return Decimal{unscaled: unscaled, scale: uint8(scale)}
}

// FromInt returns the integer i with scale 0. It panics on math.MinInt64.
func FromInt(i int64) Decimal { return New(i, 0) }

// Unscaled returns the integer n such that d = n × 10^-Scale().
func (d Decimal) Unscaled() int64 { return d.unscaled }

// Scale returns the number of fractional digits d keeps.
func (d Decimal) Scale() int { return int(d.scale) }

// ParseError describes text Parse rejected, in words a user can act on.
type ParseError struct {
	Input  string // the text as given
	Reason string // what is wrong, e.g. "unexpected character 'x' at position 2"
	Err    error  // ErrSyntax or ErrRange
}

func (e *ParseError) Error() string {
	what := "is not a decimal number"
	if e.Err == ErrRange {
		what = "is out of range"
	}
	in := strconv.Quote(e.Input)
	if r := []rune(e.Input); len(r) > 40 {
		in = strconv.Quote(string(r[:40])) + "..."
	}
	return fmt.Sprintf("decimal: %s %s: %s", in, what, e.Reason)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Parse reads a decimal number such as "96.52", "96,52" (Indonesian decimal
// comma), "100", "-1.5", "+3" or "0.125". Surrounding white space is ignored
// and the scale is kept as written ("88.00" has scale 2).
//
// Parse is strict, because a misread score changes a grade:
//   - a digit is required on both sides of the separator ("0.5", not ".5";
//     "1", not "1.");
//   - a single '.' or ',' is always the decimal separator; text with both, or
//     with one of them twice ("1.234,56", "1.234.567"), is rejected: thousands
//     separators are ambiguous, so the caller must remove them;
//   - no exponents, NaN, infinities, underscores or non-ASCII digits;
//   - at most MaxScale fractional digits, even if they are zeros (ErrRange);
//   - magnitudes beyond int64 are rejected (ErrRange).
//
// Errors are *ParseError values wrapping ErrSyntax or ErrRange; positions in
// messages count characters from 1 in the text as given.
func Parse(s string) (Decimal, error) {
	t := strings.TrimSpace(s)
	body, neg, reason := splitSign(t)
	if reason != "" {
		return Decimal{}, &ParseError{Input: s, Reason: reason, Err: ErrSyntax}
	}
	// start is the byte offset of body in s, for error positions.
	start := len(s) - len(strings.TrimLeftFunc(s, unicode.IsSpace)) + len(t) - len(body)
	sc := scanner{s: s, t: t, body: body, start: start}
	if err := sc.scan(); err != nil {
		return Decimal{}, err
	}
	v := int64(sc.u)
	if neg {
		v = -v
	}
	return Decimal{unscaled: v, scale: uint8(sc.fracDigits)}, nil
}

// splitSign takes the sign off t and refuses what cannot be a number whatever
// its digits: the empty text, a lone sign, NaN and infinities, and more than
// one separator. reason is empty when t may be a number.
func splitSign(t string) (body string, neg bool, reason string) {
	if t == "" {
		return "", false, "empty"
	}
	body = t
	if body[0] == '+' || body[0] == '-' {
		body, neg = body[1:], body[0] == '-'
	}
	if body == "" {
		return "", false, "a sign without digits"
	}
	switch strings.ToLower(body) {
	case "nan", "inf", "infinity":
		return "", false, "not a finite number"
	}
	dots, commas := strings.Count(body, "."), strings.Count(body, ",")
	switch {
	case dots > 0 && commas > 0:
		return "", false, "both '.' and ',' found: remove thousands separators and keep one decimal separator"
	case dots > 1:
		return "", false, "more than one '.': remove thousands separators"
	case commas > 1:
		return "", false, "more than one ',': remove thousands separators"
	}
	return body, neg, ""
}

// scanner reads the digits of an unsigned body with at most one separator.
type scanner struct {
	s, t, body string // as given, trimmed, unsigned
	start      int    // byte offset of body in s
	u          uint64
	intDigits  int
	fracDigits int
	sep        byte
}

func (sc *scanner) fail(err error, format string, args ...any) error {
	return &ParseError{Input: sc.s, Reason: fmt.Sprintf(format, args...), Err: err}
}

func (sc *scanner) scan() error {
	for i := 0; i < len(sc.body); i++ {
		if err := sc.char(i); err != nil {
			return err
		}
	}
	if sc.sep != 0 && sc.fracDigits == 0 {
		return sc.fail(ErrSyntax, "no digit after %q", sc.sep)
	}
	return nil
}

func (sc *scanner) char(i int) error {
	switch c := sc.body[i]; {
	case '0' <= c && c <= '9':
		return sc.digit(c)
	case c == '.' || c == ',':
		if sc.intDigits == 0 {
			return sc.fail(ErrSyntax, "no digit before %q (write %q)", c, sc.t[:len(sc.t)-len(sc.body)]+"0"+sc.body)
		}
		sc.sep = c
	case (c == 'e' || c == 'E') && sc.intDigits > 0:
		return sc.fail(ErrSyntax, "exponent notation is not accepted")
	default:
		r, _ := utf8.DecodeRuneInString(sc.body[i:])
		position := utf8.RuneCountInString(sc.s[:sc.start+i]) + 1
		return sc.fail(ErrSyntax, "unexpected character %q at position %d", r, position)
	}
	return nil
}

func (sc *scanner) digit(c byte) error {
	if sc.sep == 0 {
		sc.intDigits++
	} else {
		sc.fracDigits++
	}
	if sc.fracDigits > MaxScale {
		return sc.fail(ErrRange, "more than %d digits after the decimal separator", MaxScale)
	}
	d := uint64(c - '0')
	if sc.u > (math.MaxInt64-d)/10 {
		return sc.fail(ErrRange, "too many digits (18 significant digits always fit)")
	}
	sc.u = sc.u*10 + d
	return nil
}

// MustParse is Parse for constants and tests: it panics on error.
func MustParse(s string) Decimal {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// String returns d with '.' and exactly Scale() fractional digits: "88.00",
// "-0.5", "100". Parse(d.String()) returns d again.
func (d Decimal) String() string { return string(d.appendTo(nil, '.')) }

// FormatID returns d as Indonesian texts write it, with a decimal comma:
// "96,52". There is no thousands separator.
func (d Decimal) FormatID() string { return string(d.appendTo(nil, ',')) }

// StringFixed returns d with exactly scale fractional digits, rounding half
// away from zero when it has more ("1.005" -> "1.01") and padding zeros when
// it has fewer. A negative scale counts as 0. It never fails: padding is done
// on the text, so it works even where Round would overflow.
func (d Decimal) StringFixed(scale int) string {
	scale = max(scale, 0)
	if scale < int(d.scale) {
		return d.roundDown(scale).String()
	}
	b := d.appendTo(nil, '.')
	if d.scale == 0 && scale > 0 {
		b = append(b, '.')
	}
	for range scale - int(d.scale) {
		b = append(b, '0')
	}
	return string(b)
}

func (d Decimal) appendTo(b []byte, sep byte) []byte {
	if d.unscaled < 0 {
		b = append(b, '-')
	}
	digits := strconv.FormatUint(absU(d.unscaled), 10)
	if s := int(d.scale); len(digits) <= s {
		digits = strings.Repeat("0", s-len(digits)+1) + digits
	}
	point := len(digits) - int(d.scale)
	b = append(b, digits[:point]...)
	if d.scale > 0 {
		b = append(append(b, sep), digits[point:]...)
	}
	return b
}

// Cmp returns -1, 0 or +1 as d is less than, equal to or greater than e,
// whatever their scales. It never overflows.
func (d Decimal) Cmp(e Decimal) int {
	// Compare integer parts, then the fractions at the common scale; a
	// fraction is below 10^scale <= 10^MaxScale, so scaling it cannot overflow.
	di, df := d.split()
	ei, ef := e.split()
	if c := cmp.Compare(di, ei); c != 0 {
		return c
	}
	s := max(d.scale, e.scale)
	return cmp.Compare(df*pow10[s-d.scale], ef*pow10[s-e.scale])
}

func (d Decimal) split() (integer, fraction int64) {
	p := pow10[d.scale]
	return d.unscaled / p, d.unscaled % p
}

// Equal reports whether d and e are the same number: 88.0 equals 88.00.
func (d Decimal) Equal(e Decimal) bool { return d.Cmp(e) == 0 }

// Sign returns -1, 0 or +1.
func (d Decimal) Sign() int { return cmp.Compare(d.unscaled, 0) }

// IsZero reports whether d is 0, at any scale.
func (d Decimal) IsZero() bool { return d.unscaled == 0 }

// Neg returns -d, with the same scale.
func (d Decimal) Neg() Decimal { return Decimal{unscaled: -d.unscaled, scale: d.scale} }

// Abs returns |d|, with the same scale.
func (d Decimal) Abs() Decimal {
	if d.unscaled < 0 {
		return d.Neg()
	}
	return d
}

// Add returns d + e exactly, at the larger of the two scales.
func (d Decimal) Add(e Decimal) (Decimal, error) { return d.add(e, e, "+") }

// Sub returns d - e exactly, at the larger of the two scales.
func (d Decimal) Sub(e Decimal) (Decimal, error) { return d.add(e.Neg(), e, "-") }

func (d Decimal) add(e, shown Decimal, op string) (Decimal, error) {
	s := max(d.scale, e.scale)
	a, ok1 := mul64(d.unscaled, pow10[s-d.scale])
	b, ok2 := mul64(e.unscaled, pow10[s-e.scale])
	if ok1 && ok2 {
		if sum, ok := add64(a, b); ok {
			return Decimal{unscaled: sum, scale: s}, nil
		}
	}
	return Decimal{}, fmt.Errorf("decimal: %s %s %s: %w", d, op, shown, ErrRange)
}

// Mul returns d × e exactly. The result's scale is the sum of the scales;
// if that exceeds MaxScale, trailing zeros are dropped to fit, and if the
// product still needs more than MaxScale fractional digits Mul fails with
// ErrRange (round an operand first) rather than round silently.
func (d Decimal) Mul(e Decimal) (Decimal, error) {
	p, ok := mul64(d.unscaled, e.unscaled)
	if !ok {
		return Decimal{}, fmt.Errorf("decimal: %s * %s: %w", d, e, ErrRange)
	}
	s := int(d.scale) + int(e.scale)
	for s > MaxScale && p%10 == 0 {
		p, s = p/10, s-1
	}
	if s > MaxScale {
		return Decimal{}, fmt.Errorf("decimal: %s * %s needs %d fractional digits, more than %d: %w",
			d, e, s, MaxScale, ErrRange)
	}
	return Decimal{unscaled: p, scale: uint8(s)}, nil
}

// Round returns d with exactly scale fractional digits, rounding half away
// from zero: 1.005 -> 1.01, -1.005 -> -1.01, 87.995 -> 88.00. A larger scale
// than d's pads zeros, which can overflow (ErrRange). A scale outside
// 0..MaxScale is ErrInvalid.
func (d Decimal) Round(scale int) (Decimal, error) {
	if err := checkScale(scale); err != nil {
		return Decimal{}, err
	}
	if scale >= int(d.scale) {
		return d.Rescale(scale)
	}
	return d.roundDown(scale), nil
}

// roundDown rounds half away from zero to a scale below d's; it cannot
// overflow because dividing by 10 or more leaves room for the carry.
func (d Decimal) roundDown(scale int) Decimal {
	p := pow10[int(d.scale)-scale]
	q, r := d.unscaled/p, d.unscaled%p
	if 2*absU(r) >= uint64(p) {
		q += int64(d.Sign())
	}
	return Decimal{unscaled: q, scale: uint8(scale)}
}

// Rescale returns d with exactly scale fractional digits without rounding:
// 1.50 -> 1.5 or 1.500. It fails with ErrRange if that would drop a non-zero
// digit (1.55 to scale 1) or overflow, and with ErrInvalid if scale is
// outside 0..MaxScale.
func (d Decimal) Rescale(scale int) (Decimal, error) {
	if err := checkScale(scale); err != nil {
		return Decimal{}, err
	}
	if scale >= int(d.scale) {
		u, ok := mul64(d.unscaled, pow10[scale-int(d.scale)])
		if !ok {
			return Decimal{}, fmt.Errorf("decimal: %s at scale %d: %w", d, scale, ErrRange)
		}
		return Decimal{unscaled: u, scale: uint8(scale)}, nil
	}
	p := pow10[int(d.scale)-scale]
	if d.unscaled%p != 0 {
		return Decimal{}, fmt.Errorf("decimal: %s at scale %d would lose digits (use Round): %w", d, scale, ErrRange)
	}
	return Decimal{unscaled: d.unscaled / p, scale: uint8(scale)}, nil
}

// Sum returns the exact sum of values at their largest scale (0 for none).
// Only the total has to fit: intermediate sums never overflow.
func Sum(values []Decimal) (Decimal, error) {
	s := maxScale(values)
	var total big.Int
	for _, v := range values {
		total.Add(&total, widen(v, s))
	}
	if !fits(&total) {
		return Decimal{}, fmt.Errorf("decimal: sum of %d values: %w", len(values), ErrRange)
	}
	return Decimal{unscaled: total.Int64(), scale: s}, nil
}

// WeightedMean returns Σ(values[i] × weights[i]) / Σ(weights[i]) with scale
// fractional digits. The sums and the division are exact (math/big); the
// result is rounded half away from zero once, at the end, so the order of
// dimensions and the scales of the inputs never change the answer.
//
// Weights need not sum to 1 or 100: they are normalised by their total. It
// fails with ErrInvalid if the slices differ in length or are empty, a weight
// is negative, the weights total zero, or scale is outside 0..MaxScale; and
// with ErrRange if the result does not fit at that scale.
func WeightedMean(values, weights []Decimal, scale int) (Decimal, error) {
	if err := checkScale(scale); err != nil {
		return Decimal{}, err
	}
	switch {
	case len(values) != len(weights):
		return Decimal{}, fmt.Errorf("decimal: weighted mean of %d values with %d weights: %w",
			len(values), len(weights), ErrInvalid)
	case len(values) == 0:
		return Decimal{}, fmt.Errorf("decimal: weighted mean of no values: %w", ErrInvalid)
	}
	vs, ws := maxScale(values), maxScale(weights)
	var num, den, term big.Int // num has scale vs+ws, den has scale ws
	for i, w := range weights {
		if w.Sign() < 0 {
			return Decimal{}, fmt.Errorf("decimal: weight %d is negative (%s): %w", i+1, w, ErrInvalid)
		}
		wi := widen(w, ws)
		den.Add(&den, wi)
		num.Add(&num, term.Mul(widen(values[i], vs), wi))
	}
	if den.Sign() == 0 {
		return Decimal{}, fmt.Errorf("decimal: weights total zero: %w", ErrInvalid)
	}
	// result unscaled = num × 10^scale / (den × 10^vs), rounded half away from zero.
	num.Mul(&num, big.NewInt(pow10[scale]))
	den.Mul(&den, big.NewInt(pow10[vs]))
	q, r := new(big.Int).QuoRem(&num, &den, new(big.Int))
	if r.Abs(r).Lsh(r, 1).Cmp(&den) >= 0 {
		q.Add(q, big.NewInt(int64(num.Sign())))
	}
	if !fits(q) {
		return Decimal{}, fmt.Errorf("decimal: weighted mean at scale %d: %w", scale, ErrRange)
	}
	return Decimal{unscaled: q.Int64(), scale: uint8(scale)}, nil
}

// AppendText appends String() to b (encoding.TextAppender).
func (d Decimal) AppendText(b []byte) ([]byte, error) { return d.appendTo(b, '.'), nil }

// MarshalText returns String() (encoding.TextMarshaler).
func (d Decimal) MarshalText() ([]byte, error) { return d.appendTo(nil, '.'), nil }

// UnmarshalText parses text with Parse (encoding.TextUnmarshaler).
func (d *Decimal) UnmarshalText(text []byte) error {
	v, err := Parse(string(text))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalJSON writes d as a JSON string, "96.52", so that no JSON reader
// turns it into a float and the scale survives.
func (d Decimal) MarshalJSON() ([]byte, error) {
	return append(d.appendTo([]byte{'"'}, '.'), '"'), nil
}

// UnmarshalJSON accepts a JSON string ("96.52", or "96,52") or a bare JSON
// number (96.52), which is parsed from its text and never through float64.
// Exponents are rejected as in Parse. null leaves d unchanged.
func (d *Decimal) UnmarshalJSON(data []byte) error {
	text := string(data)
	switch {
	case text == "null":
		return nil
	case strings.HasPrefix(text, `"`):
		if err := json.Unmarshal(data, &text); err != nil {
			return fmt.Errorf("decimal: %w", err)
		}
	}
	return d.UnmarshalText([]byte(text))
}

func checkScale(scale int) error {
	if scale < 0 || scale > MaxScale {
		return fmt.Errorf("decimal: scale %d outside 0..%d: %w", scale, MaxScale, ErrInvalid)
	}
	return nil
}

func maxScale(ds []Decimal) uint8 {
	var s uint8
	for _, d := range ds {
		s = max(s, d.scale)
	}
	return s
}

// widen returns d's unscaled value at scale s >= d.scale as a big.Int.
func widen(d Decimal, s uint8) *big.Int {
	v := big.NewInt(d.unscaled)
	return v.Mul(v, big.NewInt(pow10[s-d.scale]))
}

// fits reports whether v is a valid unscaled value (int64, not MinInt64).
func fits(v *big.Int) bool { return v.IsInt64() && v.Int64() != math.MinInt64 }

func absU(x int64) uint64 {
	if x < 0 {
		return uint64(-x) // correct for MinInt64 too: 1<<63
	}
	return uint64(x)
}

// mul64 returns a×b and whether it fits (MinInt64 never counts as fitting).
func mul64(a, b int64) (int64, bool) {
	hi, lo := bits.Mul64(absU(a), absU(b))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	if (a < 0) != (b < 0) {
		return -int64(lo), true
	}
	return int64(lo), true
}

// add64 returns a+b and whether it fits (MinInt64 never counts as fitting).
func add64(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) || s == math.MinInt64 {
		return 0, false
	}
	return s, true
}
