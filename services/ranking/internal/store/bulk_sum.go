package store

import (
	"math/big"
	"math/bits"
)

// exactSum is an exact integer sum without an allocation per term: a
// 128-bit two's complement accumulator (hi, lo) that moves into a big.Int
// long before it could overflow.
type exactSum struct {
	hi   int64
	lo   uint64
	more *big.Int // what was moved out of (hi, lo); nil while nothing was
}

// foldAt is the magnitude of hi past which the accumulator is moved into
// the big.Int: an add changes hi by at most 2^62+1, so hi stays far from
// overflowing.
const foldAt = 1 << 61

func (s *exactSum) fold() {
	if s.hi < foldAt && s.hi > -foldAt {
		return
	}
	if s.more == nil {
		s.more = new(big.Int)
	}
	s.more.Add(s.more, s.int128())
	s.hi, s.lo = 0, 0
}

// add adds v.
func (s *exactSum) add(v int64) {
	s.fold()
	lo, carry := bits.Add64(s.lo, uint64(v), 0)
	s.hi += int64(carry) + v>>63 // v>>63: the high word of v sign-extended
	s.lo = lo
}

// addSquare adds v*v.
func (s *exactSum) addSquare(v int64) {
	s.fold()
	m := uint64(v)
	if v < 0 {
		m = -m
	}
	h, l := bits.Mul64(m, m) // h < 2^62
	lo, carry := bits.Add64(s.lo, l, 0)
	s.hi += int64(h) + int64(carry)
	s.lo = lo
}

func (s *exactSum) int128() *big.Int {
	x := big.NewInt(s.hi)
	x.Lsh(x, 64)
	return x.Add(x, new(big.Int).SetUint64(s.lo))
}

// Int returns the sum.
func (s *exactSum) Int() *big.Int {
	x := s.int128()
	if s.more != nil {
		x.Add(x, s.more)
	}
	return x
}

// String is the sum in decimal.
func (s *exactSum) String() string { return s.Int().String() }
