package decimal

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		in       string
		unscaled int64
		scale    int
		str      string
	}{
		{"96.52", 9652, 2, "96.52"},
		{"96,52", 9652, 2, "96.52"}, // Indonesian decimal comma
		{"100", 100, 0, "100"},
		{"-1.5", -15, 1, "-1.5"},
		{"+3", 3, 0, "3"},
		{"0.125", 125, 3, "0.125"},
		{"88.00", 8800, 2, "88.00"},
		{"  88,00\t\n", 8800, 2, "88.00"},
		{"0", 0, 0, "0"},
		{"-0", 0, 0, "0"},
		{"-0.00", 0, 2, "0.00"},
		{"007.50", 750, 2, "7.50"},
		{"-0,05", -5, 2, "-0.05"},
		{"0.000000001", 1, 9, "0.000000001"},
		{"0.000000000", 0, 9, "0.000000000"},
		{"9223372036854775807", math.MaxInt64, 0, "9223372036854775807"},
		{"-9223372036854775807", -math.MaxInt64, 0, "-9223372036854775807"},
		{"9223372036.854775807", math.MaxInt64, 9, "9223372036.854775807"},
		{"-9223372036,854775807", -math.MaxInt64, 9, "-9223372036.854775807"},
	}
	for _, tt := range tests {
		d, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if d.Unscaled() != tt.unscaled || d.Scale() != tt.scale {
			t.Errorf("Parse(%q) = (%d, scale %d), want (%d, scale %d)", tt.in, d.Unscaled(), d.Scale(), tt.unscaled, tt.scale)
		}
		if got := d.String(); got != tt.str {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.str)
		}
		if got, want := d.FormatID(), strings.ReplaceAll(tt.str, ".", ","); got != want {
			t.Errorf("Parse(%q).FormatID() = %q, want %q", tt.in, got, want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		in     string
		err    error
		reason string // substring of the message
	}{
		{"", ErrSyntax, "empty"},
		{"   ", ErrSyntax, "empty"},
		{"-", ErrSyntax, "a sign without digits"},
		{"+", ErrSyntax, "a sign without digits"},
		{"1.", ErrSyntax, `no digit after '.'`},
		{"1,", ErrSyntax, `no digit after ','`},
		{".5", ErrSyntax, `no digit before '.' (write "0.5")`},
		{"-,5", ErrSyntax, `no digit before ',' (write "-0,5")`},
		{"1.2.3", ErrSyntax, "more than one '.': remove thousands separators"},
		{"1,234,567", ErrSyntax, "more than one ','"},
		{"1.234,56", ErrSyntax, "remove thousands separators"},
		{"1,234.56", ErrSyntax, "both '.' and ','"},
		{"1e5", ErrSyntax, "exponent"},
		{"1.5E-3", ErrSyntax, "exponent"},
		{"e5", ErrSyntax, "unexpected character 'e' at position 1"},
		{"NaN", ErrSyntax, "not a finite number"},
		{"inf", ErrSyntax, "not a finite number"},
		{"-Infinity", ErrSyntax, "not a finite number"},
		{"9x", ErrSyntax, "unexpected character 'x' at position 2"},
		{"  9x", ErrSyntax, "unexpected character 'x' at position 4"},
		{"1 000", ErrSyntax, "unexpected character ' ' at position 2"},
		{"1_000", ErrSyntax, "unexpected character '_'"},
		{"0x10", ErrSyntax, "unexpected character 'x'"},
		{"--1", ErrSyntax, "unexpected character '-' at position 2"},
		{"+-1", ErrSyntax, "unexpected character '-' at position 2"},
		{"1-", ErrSyntax, "unexpected character '-' at position 2"},
		{"½", ErrSyntax, "unexpected character '½' at position 1"},
		{"é9x", ErrSyntax, "unexpected character 'é' at position 1"},
		{"9é", ErrSyntax, "unexpected character 'é' at position 2"},
		{"٩٥", ErrSyntax, "unexpected character"}, // Arabic-Indic digits
		{"96.52%", ErrSyntax, "unexpected character '%' at position 6"},
		{"0.1234567890", ErrRange, "more than 9 digits after the decimal separator"},
		{"1.0000000000", ErrRange, "more than 9 digits"},
		{"9223372036854775808", ErrRange, "too many digits"},
		{"-9223372036854775808", ErrRange, "too many digits"}, // the range is symmetric
		{"99999999999999999999", ErrRange, "too many digits"},
		{"9223372036.854775808", ErrRange, "too many digits"},
	}
	for _, tt := range tests {
		d, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) = %v, want error", tt.in, d)
			continue
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("Parse(%q) error %v, want errors.Is %v", tt.in, err, tt.err)
		}
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Input != tt.in {
			t.Errorf("Parse(%q) error %#v, want *ParseError with the input", tt.in, err)
		}
		if !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("Parse(%q) error %q, want it to mention %q", tt.in, err, tt.reason)
		}
	}
}

func TestParseErrorMessages(t *testing.T) {
	tests := map[string]string{
		"9x":                          `decimal: "9x" is not a decimal number: unexpected character 'x' at position 2`,
		"1.234,56":                    `decimal: "1.234,56" is not a decimal number: both '.' and ',' found: remove thousands separators and keep one decimal separator`,
		"0.1234567890":                `decimal: "0.1234567890" is out of range: more than 9 digits after the decimal separator`,
		strings.Repeat("7", 50) + "x": `decimal: "7777777777777777777777777777777777777777"... is out of range: too many digits (18 significant digits always fit)`,
	}
	for in, want := range tests {
		_, err := Parse(in)
		if err == nil || err.Error() != want {
			t.Errorf("Parse(%q) error\n got %v\nwant %s", in, err, want)
		}
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParse(\"x\") did not panic")
		}
	}()
	MustParse("x")
}

func TestNew(t *testing.T) {
	if d := New(9652, 2); d.String() != "96.52" || d.Unscaled() != 9652 || d.Scale() != 2 {
		t.Errorf("New(9652, 2) = %v", d)
	}
	if d := FromInt(-7); d.String() != "-7" || d.Scale() != 0 {
		t.Errorf("FromInt(-7) = %v", d)
	}
	for _, bad := range []func(){
		func() { New(1, -1) },
		func() { New(1, MaxScale+1) },
		func() { New(math.MinInt64, 0) },
		func() { FromInt(math.MinInt64) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("New with an invalid argument did not panic")
				}
			}()
			bad()
		}()
	}
}

func TestZeroValue(t *testing.T) {
	var z Decimal
	if z.String() != "0" || !z.IsZero() || z.Sign() != 0 || !z.Equal(MustParse("0.00")) {
		t.Errorf("zero value = %q", z)
	}
	if s, err := z.Add(MustParse("1.5")); err != nil || s.String() != "1.5" {
		t.Errorf("0 + 1.5 = %v, %v", s, err)
	}
}

func TestCmpEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"88.00", "88", 0},
		{"88.0", "88.00", 0},
		{"88.00", "87.99", 1},
		{"87.99", "88", -1},
		{"87.999999999", "88", -1},
		{"88.000000001", "88", 1},
		{"-0.5", "0", -1},
		{"-0.00", "0", 0},
		{"-1.5", "-1", -1},
		{"-1.50", "-1.5", 0},
		{"-1.49", "-1.5", 1},
		{"0.1", "0.099999999", 1},
		{"9223372036854775807", "9223372036.854775807", 1},
		{"-9223372036854775807", "-9223372036.854775807", -1},
		{"9223372036.854775807", "9223372036.854775807", 0},
	}
	for _, tt := range tests {
		a, b := MustParse(tt.a), MustParse(tt.b)
		if got := a.Cmp(b); got != tt.want {
			t.Errorf("Cmp(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := b.Cmp(a); got != -tt.want {
			t.Errorf("Cmp(%s, %s) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
		if got := a.Equal(b); got != (tt.want == 0) {
			t.Errorf("Equal(%s, %s) = %v", tt.a, tt.b, got)
		}
	}
}

func TestSignNegAbs(t *testing.T) {
	tests := []struct {
		in       string
		sign     int
		neg, abs string
	}{
		{"1.50", 1, "-1.50", "1.50"},
		{"-0.01", -1, "0.01", "0.01"},
		{"0.00", 0, "0.00", "0.00"},
		{"-9223372036854775807", -1, "9223372036854775807", "9223372036854775807"},
	}
	for _, tt := range tests {
		d := MustParse(tt.in)
		if d.Sign() != tt.sign || d.IsZero() != (tt.sign == 0) || d.Neg().String() != tt.neg || d.Abs().String() != tt.abs {
			t.Errorf("%s: Sign %d IsZero %v Neg %s Abs %s", tt.in, d.Sign(), d.IsZero(), d.Neg(), d.Abs())
		}
	}
}

func TestArithmetic(t *testing.T) {
	tests := []struct {
		a, op, b, want string
	}{
		{"0.1", "+", "0.2", "0.3"}, // 0.30000000000000004 in float64
		{"88.00", "-", "0.01", "87.99"},
		{"1.5", "+", "2.25", "3.75"},
		{"1", "-", "1.00", "0.00"},
		{"-3", "+", "1.5", "-1.5"},
		{"95.50", "*", "32.37", "3091.3350"},
		{"-1.5", "*", "2", "-3.0"},
		{"-1.5", "*", "-0.2", "0.30"},
		{"0.10", "*", "0.000000010", "0.000000001"}, // scale 11 reduced to 9
		{"0.000000001", "*", "0", "0.000000000"},
		{"9223372036854775807", "-", "9223372036854775807", "0"},
		{"4611686018427387903", "*", "2", "9223372036854775806"},
	}
	for _, tt := range tests {
		a, b := MustParse(tt.a), MustParse(tt.b)
		var got Decimal
		var err error
		switch tt.op {
		case "+":
			got, err = a.Add(b)
		case "-":
			got, err = a.Sub(b)
		case "*":
			got, err = a.Mul(b)
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("%s %s %s = %v, %v; want %s", tt.a, tt.op, tt.b, got, err, tt.want)
		}
	}
}

func TestOverflow(t *testing.T) {
	maxD := New(math.MaxInt64, 0)
	tests := []struct {
		name string
		f    func() (Decimal, error)
	}{
		{"max + 1", func() (Decimal, error) { return maxD.Add(FromInt(1)) }},
		{"-max - 1", func() (Decimal, error) { return maxD.Neg().Sub(FromInt(1)) }},
		{"max - (-1)", func() (Decimal, error) { return maxD.Sub(FromInt(-1)) }},
		{"max + 0.1 (alignment)", func() (Decimal, error) { return maxD.Add(MustParse("0.1")) }},
		{"max * 2", func() (Decimal, error) { return maxD.Mul(FromInt(2)) }},
		{"max * -2", func() (Decimal, error) { return maxD.Mul(FromInt(-2)) }},
		{"2^32 * 2^32", func() (Decimal, error) { return FromInt(1 << 32).Mul(FromInt(1 << 32)) }},
		{"4611686018427387904 * -2 (would be MinInt64)", func() (Decimal, error) {
			return FromInt(4611686018427387904).Mul(FromInt(-2))
		}},
		{"scale 10 product", func() (Decimal, error) { return MustParse("0.000000001").Mul(MustParse("0.1")) }},
		{"Round widening", func() (Decimal, error) { return maxD.Round(1) }},
		{"Rescale widening", func() (Decimal, error) { return maxD.Rescale(2) }},
		{"Rescale losing digits", func() (Decimal, error) { return MustParse("1.55").Rescale(1) }},
		{"Sum", func() (Decimal, error) { return Sum([]Decimal{maxD, FromInt(1)}) }},
	}
	for _, tt := range tests {
		d, err := tt.f()
		if !errors.Is(err, ErrRange) {
			t.Errorf("%s = %v, %v; want ErrRange", tt.name, d, err)
		}
	}
	// The message names the operation.
	if _, err := maxD.Add(FromInt(1)); err.Error() != "decimal: 9223372036854775807 + 1: value out of range" {
		t.Errorf("message %q", err)
	}
}

func TestRound(t *testing.T) {
	tests := []struct {
		in    string
		scale int
		want  string
	}{
		{"1.005", 2, "1.01"}, // 1.00 with float64
		{"-1.005", 2, "-1.01"},
		{"1.004", 2, "1.00"},
		{"-1.004", 2, "-1.00"},
		{"87.995", 2, "88.00"}, // crosses the Ombudsman A edge: exact matters
		{"-87.995", 2, "-88.00"},
		{"93.51015", 4, "93.5102"},
		{"93.51015", 2, "93.51"},
		{"2.5", 0, "3"},
		{"-2.5", 0, "-3"},
		{"2.4999", 0, "2"},
		{"0.5", 0, "1"},
		{"-0.4", 0, "0"},
		{"0.999999999", 2, "1.00"},
		{"9223372036.854775807", 0, "9223372037"},
		{"-9223372036.854775807", 8, "-9223372036.85477581"},
		{"1.5", 3, "1.500"},
		{"1.50", 2, "1.50"},
	}
	for _, tt := range tests {
		got, err := MustParse(tt.in).Round(tt.scale)
		if err != nil || got.String() != tt.want {
			t.Errorf("Round(%s, %d) = %v, %v; want %s", tt.in, tt.scale, got, err, tt.want)
		}
		if got := MustParse(tt.in).StringFixed(tt.scale); got != tt.want {
			t.Errorf("StringFixed(%s, %d) = %s, want %s", tt.in, tt.scale, got, tt.want)
		}
	}
	for _, scale := range []int{-1, MaxScale + 1} {
		if _, err := MustParse("1").Round(scale); !errors.Is(err, ErrInvalid) {
			t.Errorf("Round(1, %d) error %v, want ErrInvalid", scale, err)
		}
		if _, err := MustParse("1").Rescale(scale); !errors.Is(err, ErrInvalid) {
			t.Errorf("Rescale(1, %d) error %v, want ErrInvalid", scale, err)
		}
	}
}

func TestStringFixed(t *testing.T) {
	tests := []struct {
		in    string
		scale int
		want  string
	}{
		{"96.5", 2, "96.50"},
		{"100", 2, "100.00"},
		{"-0.5", 0, "-1"},
		{"1.25", -1, "1"},
		{"9223372036854775807", 2, "9223372036854775807.00"}, // padding cannot overflow
		{"1", 12, "1.000000000000"},
	}
	for _, tt := range tests {
		if got := MustParse(tt.in).StringFixed(tt.scale); got != tt.want {
			t.Errorf("StringFixed(%s, %d) = %s, want %s", tt.in, tt.scale, got, tt.want)
		}
	}
}

func TestRescale(t *testing.T) {
	tests := []struct {
		in    string
		scale int
		want  string
	}{
		{"1.50", 1, "1.5"},
		{"1.50", 0, ""},
		{"88.00", 0, "88"},
		{"1", 3, "1.000"},
		{"-0.10", 1, "-0.1"},
	}
	for _, tt := range tests {
		got, err := MustParse(tt.in).Rescale(tt.scale)
		if tt.want == "" {
			if !errors.Is(err, ErrRange) {
				t.Errorf("Rescale(%s, %d) = %v, %v; want ErrRange", tt.in, tt.scale, got, err)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("Rescale(%s, %d) = %v, %v; want %s", tt.in, tt.scale, got, err, tt.want)
		}
	}
}

func parseAll(t testing.TB, ss ...string) []Decimal {
	t.Helper()
	ds := make([]Decimal, len(ss))
	for i, s := range ss {
		ds[i] = MustParse(s)
	}
	return ds
}

// Ombudsman 2023 instrument weights: input, proses, output, pengaduan.
var ombudsman2023 = []string{"21.85", "32.37", "24.24", "21.54"}

func TestSum(t *testing.T) {
	if got, err := Sum(parseAll(t, ombudsman2023...)); err != nil || got.String() != "100.00" {
		t.Errorf("Sum(weights) = %v, %v; want 100.00", got, err)
	}
	if got, err := Sum(nil); err != nil || got.String() != "0" {
		t.Errorf("Sum(nil) = %v, %v", got, err)
	}
	if got, err := Sum(parseAll(t, "0.1", "0.2", "-0.30")); err != nil || got.String() != "0.00" {
		t.Errorf("Sum = %v, %v; want 0.00", got, err)
	}
	// Only the total has to fit, not the running sum.
	if got, err := Sum(parseAll(t, "9223372036854775807", "1", "-2")); err != nil || got.String() != "9223372036854775806" {
		t.Errorf("Sum = %v, %v", got, err)
	}
}

func TestWeightedMean(t *testing.T) {
	// By hand:
	//   90.00 × 21.85 = 1966.5000
	//   95.50 × 32.37 = 3091.3350
	//   88.25 × 24.24 = 2139.1800
	//  100.00 × 21.54 = 2154.0000
	//              sum = 9351.0150, / 100.00 = 93.51015 exactly.
	scores := parseAll(t, "90.00", "95.50", "88.25", "100.00")
	weights := parseAll(t, ombudsman2023...)
	for scale, want := range map[int]string{
		0: "94",
		2: "93.51",
		4: "93.5102", // ...15 rounds half-up
		5: "93.51015",
		6: "93.510150",
	} {
		got, err := WeightedMean(scores, weights, scale)
		if err != nil || got.String() != want {
			t.Errorf("WeightedMean(Ombudsman 2023, scale %d) = %v, %v; want %s", scale, got, err, want)
		}
	}

	tests := []struct {
		name            string
		values, weights []string
		scale           int
		want            string
	}{
		// The mean is exactly 87.995: half-up lands on the band A edge.
		{"exactly .005", []string{"88.00", "87.99"}, []string{"1", "1"}, 2, "88.00"},
		{"exactly -.005", []string{"-88.00", "-87.99"}, []string{"0.5", "0.50"}, 2, "-88.00"},
		{"just below .005", []string{"88.00", "87.99"}, []string{"1", "1.000000001"}, 2, "87.99"},
		{"weights need not sum to 100", []string{"4", "2"}, []string{"3", "1"}, 2, "3.50"},
		{"zero weight ignores a value", []string{"10", "99"}, []string{"1", "0"}, 1, "10.0"},
		{"rounds once: 1/3", []string{"1", "0", "0"}, []string{"1", "1", "1"}, 9, "0.333333333"},
		{"rounds once: 2/3", []string{"1", "1", "0"}, []string{"1", "1", "1"}, 2, "0.67"},
		{"mixed scales", []string{"1.5", "2.25", "3"}, []string{"0.2", "0.3", "0.5"}, 3, "2.475"},
		{"large values", []string{"9223372036854775807", "9223372036854775807"}, []string{"5", "7"}, 0, "9223372036854775807"},
	}
	for _, tt := range tests {
		got, err := WeightedMean(parseAll(t, tt.values...), parseAll(t, tt.weights...), tt.scale)
		if err != nil || got.String() != tt.want {
			t.Errorf("%s: WeightedMean = %v, %v; want %s", tt.name, got, err, tt.want)
		}
	}
	// The rounded .005 total is band A: equal to the edge, above 87.99.
	got, _ := WeightedMean(parseAll(t, "88.00", "87.99"), parseAll(t, "1", "1"), 2)
	if !got.Equal(MustParse("88")) || got.Cmp(MustParse("87.99")) <= 0 {
		t.Errorf("87.995 rounded = %v, want equal to 88 and above 87.99", got)
	}
}

func TestWeightedMeanErrors(t *testing.T) {
	tests := []struct {
		name            string
		values, weights []string
		scale           int
		err             error
	}{
		{"mismatched lengths", []string{"1", "2"}, []string{"1"}, 2, ErrInvalid},
		{"empty", nil, nil, 2, ErrInvalid},
		{"zero total weight", []string{"1", "2"}, []string{"0", "0.00"}, 2, ErrInvalid},
		{"negative weight", []string{"1", "2"}, []string{"2", "-1"}, 2, ErrInvalid},
		{"scale too large", []string{"1"}, []string{"1"}, MaxScale + 1, ErrInvalid},
		{"negative scale", []string{"1"}, []string{"1"}, -1, ErrInvalid},
		{"result does not fit", []string{"9223372036854775807"}, []string{"1"}, 1, ErrRange},
	}
	for _, tt := range tests {
		got, err := WeightedMean(parseAll(t, tt.values...), parseAll(t, tt.weights...), tt.scale)
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: WeightedMean = %v, %v; want %v", tt.name, got, err, tt.err)
		}
	}
}

func TestText(t *testing.T) {
	for _, s := range []string{"96.52", "88.00", "-0.5", "100", "0.000000001"} {
		b, err := MustParse(s).MarshalText()
		if err != nil || string(b) != s {
			t.Errorf("MarshalText(%s) = %s, %v", s, b, err)
		}
		var d Decimal
		if err := d.UnmarshalText(b); err != nil || d != MustParse(s) {
			t.Errorf("UnmarshalText(%s) = %v, %v", b, d, err)
		}
		if b, _ := MustParse(s).AppendText([]byte("x=")); string(b) != "x="+s {
			t.Errorf("AppendText = %s", b)
		}
	}
	var d Decimal
	if err := d.UnmarshalText([]byte("1.2.3")); !errors.Is(err, ErrSyntax) {
		t.Errorf("UnmarshalText(1.2.3) error %v", err)
	}
}

func TestJSON(t *testing.T) {
	type row struct {
		Score Decimal `json:"score"`
	}
	b, err := json.Marshal(row{MustParse("96.50")})
	if err != nil || string(b) != `{"score":"96.50"}` {
		t.Errorf("Marshal = %s, %v", b, err)
	}

	tests := []struct {
		in   string
		want string // "" means an error
	}{
		{`{"score":"96.52"}`, "96.52"},
		{`{"score":"96,52"}`, "96.52"},
		{`{"score":"88.00"}`, "88.00"},
		{`{"score":96.52}`, "96.52"},
		{`{"score":0.1}`, "0.1"},
		{`{"score":-3}`, "-3"},
		{`{"score":12345678901234567.89}`, "12345678901234567.89"}, // float64: 12345678901234568
		{`{"score":99999999999999999999}`, ""},                     // too large: an error, not a float
		{`{"score":1e2}`, ""},
		{`{"score":"x"}`, ""},
		{`{"score":""}`, ""},
		{`{"score":true}`, ""},
		{`{"score":"9\u0036"}`, "96"},
	}
	for _, tt := range tests {
		var r row
		err := json.Unmarshal([]byte(tt.in), &r)
		if tt.want == "" {
			if err == nil {
				t.Errorf("Unmarshal(%s) = %v, want error", tt.in, r.Score)
			}
			continue
		}
		if err != nil || r.Score.String() != tt.want {
			t.Errorf("Unmarshal(%s) = %v, %v; want %s", tt.in, r.Score, err, tt.want)
		}
	}

	r := row{MustParse("1.5")}
	if err := json.Unmarshal([]byte(`{"score":null}`), &r); err != nil || r.Score.String() != "1.5" {
		t.Errorf("null: %v, %v; want unchanged", r.Score, err)
	}
	var d Decimal
	if err := d.UnmarshalJSON([]byte(`"9x"`)); !errors.Is(err, ErrSyntax) {
		t.Errorf("UnmarshalJSON(\"9x\") error %v, want ErrSyntax", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"96.52", "96,52", "100", "-1.5", "+3", "0.125", " 88.00 ", ".5", "1.", "1.234,56",
		"1e5", "NaN", "9x", "-", "", "9223372036854775807", "-9223372036.854775807",
		"0.1234567890", "99999999999999999999", "½", "\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrRange) {
				t.Fatalf("Parse(%q) error %v is neither ErrSyntax nor ErrRange", s, err)
			}
			_ = err.Error()
			return
		}
		for _, text := range []string{d.String(), d.FormatID()} {
			back, err := Parse(text)
			if err != nil || !back.Equal(d) || back.Scale() != d.Scale() {
				t.Fatalf("Parse(%q) = %v; re-parsing %q gave %v, %v", s, d, text, back, err)
			}
		}
		b, _ := d.MarshalJSON()
		var back Decimal
		if err := json.Unmarshal(b, &back); err != nil || back != d {
			t.Fatalf("JSON round trip of %v via %s gave %v, %v", d, b, back, err)
		}
	})
}

func FuzzWeightedMean(f *testing.F) {
	f.Add(int64(9000), int64(9550), int64(8825), uint8(2), int64(2185), int64(3237), int64(2424), uint8(2), uint8(2))
	f.Add(int64(8800), int64(8799), int64(0), uint8(2), int64(1), int64(1), int64(0), uint8(0), uint8(2))
	f.Add(int64(math.MaxInt64), int64(-math.MaxInt64), int64(1), uint8(9), int64(1), int64(math.MaxInt64), int64(3), uint8(9), uint8(9))
	f.Add(int64(5), int64(-5), int64(5), uint8(1), int64(0), int64(-1), int64(0), uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, v1, v2, v3 int64, vs uint8, w1, w2, w3 int64, ws, scale uint8) {
		raw := []int64{v1, v2, v3, w1, w2, w3}
		for _, x := range raw {
			if x == math.MinInt64 {
				t.Skip()
			}
		}
		values := []Decimal{New(v1, int(vs%10)), New(v2, int(vs/10%10)), New(v3, int(vs%10))}
		weights := []Decimal{New(w1, int(ws%10)), New(w2, int(ws/10%10)), New(w3, int(ws%10))}
		sc := int(scale % 10)

		got, err := WeightedMean(values, weights, sc)
		negative := w1 < 0 || w2 < 0 || w3 < 0
		if negative || (w1 == 0 && w2 == 0 && w3 == 0) {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("weights %v: got %v, %v; want ErrInvalid", weights, got, err)
			}
			return
		}
		if err != nil {
			if !errors.Is(err, ErrRange) {
				t.Fatalf("WeightedMean(%v, %v, %d) error %v", values, weights, sc, err)
			}
			return
		}
		if got.Scale() != sc {
			t.Fatalf("scale %d, want %d", got.Scale(), sc)
		}
		lo, hi := values[0], values[0]
		for _, v := range values[1:] {
			if v.Cmp(lo) < 0 {
				lo = v
			}
			if v.Cmp(hi) > 0 {
				hi = v
			}
		}
		// Rounding is monotonic, so the rounded mean lies between the rounded
		// extremes (and between the extremes themselves when nothing rounds).
		loR, err1 := lo.Round(sc)
		hiR, err2 := hi.Round(sc)
		if err1 != nil || err2 != nil {
			return
		}
		if got.Cmp(loR) < 0 || got.Cmp(hiR) > 0 {
			t.Fatalf("WeightedMean(%v, %v, %d) = %v, outside [%v, %v]", values, weights, sc, got, loR, hiR)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	inputs := []string{"96.52", "96,52", "100", "-87.995", "9223372036.854775807"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := Parse(inputs[i%len(inputs)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWeightedMean(b *testing.B) {
	scores := parseAll(b, "90.00", "95.50", "88.25", "100.00")
	weights := parseAll(b, ombudsman2023...)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := WeightedMean(scores, weights, 2); err != nil {
			b.Fatal(err)
		}
	}
}
