package bench

import "time"

// disturbedCPU is the share of the machine (percent of all its CPUs) that
// other processes may take while a cell runs before the cell counts as
// disturbed and is measured again. On the 2-core machines the bench runs
// on, 25% is half a core: the quiet runs of the bench see 0-5%, a
// neighbour's compile or test run takes 50-100%. An operation and its
// baselines take turns in short slices, so steady load slows them alike;
// a neighbour that takes half a core for part of a cell does not, and the
// ratios of such cells swung by more than the 10 points that quiet runs
// differ by.
const disturbedCPU = 25.0

// maxAttempts bounds how many times one disturbed cell is measured.
const maxAttempts = 3

// disturbed reports whether other processes took more of the machine than
// a cell tolerates; an unknown share (-1) is not a disturbance.
func disturbed(otherPct float64) bool { return otherPct > disturbedCPU }

// repeats is the bounded budget for measuring disturbed cells again: a
// number of attempts per cell and a total time per run, so a machine that
// stays busy makes the run longer by at most the budget, never endless.
type repeats struct {
	left time.Duration // time still allowed for repeated attempts
}

// again decides whether a cell measured attempts times, the last one with
// otherPct of the machine taken by others, is measured once more.
func (r *repeats) again(otherPct float64, attempts int) bool {
	return disturbed(otherPct) && attempts < maxAttempts && r.left > 0
}

// spend charges a repeated attempt's time to the budget.
func (r *repeats) spend(d time.Duration) { r.left -= d }

// attempt is one measurement of a cell, with how disturbed it was.
type attempt[T any] struct {
	val   T
	other float64 // percent of the machine other processes took
}

// leastDisturbed picks the attempt other processes disturbed least (an
// unknown share counts as undisturbed), the first on a tie.
func leastDisturbed[T any](as []attempt[T]) attempt[T] {
	best := as[0]
	for _, a := range as[1:] {
		if max(a.other, 0) < max(best.other, 0) {
			best = a
		}
	}
	return best
}

// costGrowth is how much dearer an operation became between two
// measurements (before: on an empty stream; after: with the records
// stored), each against the baseline measured in its own cell: the time
// per call (1/ops/s) over its baseline's, after over before. Judging the
// normalised ratio keeps a machine that is slower in one phase than in the
// other (a shared machine, a minute apart) out of the result; the raw
// ratio is returned too, for the note.
func costGrowth(opBefore, baseBefore, opAfter, baseAfter float64) (normalised, raw float64) {
	if opBefore <= 0 || baseBefore <= 0 || opAfter <= 0 || baseAfter <= 0 {
		return 0, 0
	}
	raw = opBefore / opAfter
	return raw / (baseBefore / baseAfter), raw
}
