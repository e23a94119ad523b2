package hpo

import "math"

// rng is a small SplitMix64 generator. pcamflow defines its own instead of
// math/rand so that the stream, and therefore every proposal, is fixed by
// this file alone: the same seed gives the same numbers with any Go release.
type rng struct{ s uint64 }

// mix64 is SplitMix64's output function (a bijection on uint64).
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// newRNG derives the generator of one proposal from the sampler's seed, the
// trial index and a stream label, so proposals never share state.
func newRNG(seed int64, index int, stream uint64) *rng {
	s := mix64(uint64(seed) ^ 0x9e3779b97f4a7c15)
	s = mix64(s ^ uint64(index) ^ 0x2545f4914f6cdd1d)
	s = mix64(s ^ stream)
	return &rng{s: s}
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// float64 returns a uniform number in [0, 1) with 53 random bits.
func (r *rng) float64() float64 {
	return float64(r.next()>>11) * 0x1p-53
}

// intn returns a uniform integer in [0, n) without modulo bias.
func (r *rng) intn(n int) int {
	if n <= 1 {
		return 0
	}
	un := uint64(n)
	limit := math.MaxUint64 - math.MaxUint64%un
	for {
		v := r.next()
		if v < limit {
			return int(v % un)
		}
	}
}
