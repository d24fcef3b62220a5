// Package skm is the pure core of the citizen satisfaction survey (Survei
// Kepuasan Masyarakat, PermenPANRB 14/2017): survey definitions, the check of
// one response, the per-unit tally of answers, the index computed from a
// tally, and the Krejcie-Morgan sample size. No I/O, no clock, no state
// beyond the values it is given.
//
// # The regulation's formula
//
// A respondent answers every element (unsur) of the survey on a scale of 1
// (tidak baik) to 4 (sangat baik). For each element the regulation takes the
// mean answer over the respondents (nilai rata-rata, NRR), multiplies it by
// the element's weight (NRR tertimbang), sums the weighted means into the
// index (IKM, on 1..4) and converts it to 25..100 by multiplying by 25:
//
//	index = Σ weight_i × mean_i × 25,   mean_i = Σ answers_i / respondents
//
// Here the sum is computed exactly (rational arithmetic) and rounded half
// away from zero once, at the end, to the requested precision (two decimals
// for the SKM scheme). Element means are rounded only for display: the index
// never uses a rounded mean.
//
// # The 0.111 convention
//
// The regulation states the weight of each of its nine elements as 1/9 and
// publishes it as 0.111, and units compute with 0.111. The weights of the
// 2017 survey (Standard2017) are therefore exactly 0.111, which sum to 0.999,
// not 1: all answers of 4 give 9 × 0.111 × 4 × 25 = 99.90, the value units
// publish, and all answers of 1 give 24.975, rounded to 24.98. A unit whose
// own survey states exact fractions (1/9 each, or 1/10 with a tenth element)
// gets exactly 100.00 for all answers of 4. Weights are therefore data of the
// survey, exact rationals (Weight), and Validate does not require them to sum
// to 1.
//
// # Sample size
//
// The regulation sizes the sample by the Krejcie-Morgan table for the unit's
// population of service users; RequiredSample computes it from the table's
// formula, exactly, and reproduces every entry of the published table (see
// RequiredSample for the rounding).
//
// Binary floating point is never used: every value is an integer, an exact
// rational or a fixed-point decimal (pkg/decimal); a test checks the
// package's sources.
package skm
