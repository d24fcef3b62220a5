package skm

import "math/big"

// RequiredSample returns the sample size the Krejcie-Morgan table (1970)
// gives for a population of N service users, which the regulation uses:
//
//	s = X²·N·P(1−P) / (d²·(N−1) + X²·P(1−P))
//
// with X² = 3.841 (chi-square, one degree of freedom, 95% confidence), P = 0.5
// and d = 0.05. Multiplying through by 4000 gives the exact fraction
//
//	s = 3841·N / (10·N + 3831)
//
// which is rounded to the nearest whole respondent, halves up (a half never
// occurs in practice). Rounding to the nearest, not up, is what the published
// table does: it reproduces all 90 entries of the table (N=50 → 44 where the
// exact value is 44.34, N=500 → 217 for 217.47), while rounding up would
// contradict 45 of them, each by one, and for populations above 1,471,104
// ask for 385 respondents where the table never asks for more than 384 (the
// value tends to 384.1). A unit that collected the table's number is thus
// never flagged. The result never exceeds N.
//
// A population of 0 or less is unknown and gives 0.
func RequiredSample(population int64) int64 {
	if population <= 0 {
		return 0
	}
	n := big.NewInt(population)
	num := new(big.Int).Mul(big.NewInt(3841), n)                                   // 3841·N
	den := new(big.Int).Add(new(big.Int).Mul(big.NewInt(10), n), big.NewInt(3831)) // 10·N + 3831
	// nearest, halves up: floor((2·num + den) / (2·den))
	num.Lsh(num, 1).Add(num, den)
	den.Lsh(den, 1)
	return num.Quo(num, den).Int64()
}

// SampleShort reports whether respondents is fewer than RequiredSample for
// the population, and the required number. An unknown population (0 or less)
// is never short and requires 0.
func SampleShort(population, respondents int64) (short bool, required int64) {
	required = RequiredSample(population)
	return respondents < required, required
}
