package pcam

import (
	"math"
	"math/bits"
	"math/rand/v2"
)

// rng is the generator's deterministic random source: PCG-DXSM with explicit seeds, and helpers whose
// arithmetic is defined here (not by math/rand internals) so that streams stay stable.
type rng struct{ p *rand.PCG }

// newRNG returns a generator for one seed.
func newRNG(seed uint64) *rng { return &rng{rand.NewPCG(seed, 0x9e3779b97f4a7c15)} }

// f returns a uniform float32 in [0,1).
func (r *rng) f() float32 { return float32(r.p.Uint64()>>40) / (1 << 24) }

// u returns a uniform float32 in [lo,hi).
func (r *rng) u(lo, hi float32) float32 { return lo + (hi-lo)*r.f() }

// intn returns a uniform int in [0,n) (n > 0), by Lemire's multiply-shift.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.p.Uint64(), uint64(n))
	return int(hi)
}

// norm returns a standard normal deviate (Box-Muller).
func (r *rng) norm() float32 {
	u1 := float64(r.p.Uint64()>>11+1) / (1 << 53)
	u2 := float64(r.p.Uint64()>>11) / (1 << 53)
	return float32(math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2))
}

// perm returns a deterministic random permutation of 0..n-1 (Fisher-Yates).
func (r *rng) perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := r.intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// mix64 is the splitmix64 finaliser, used to derive independent per-patch seeds.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// patchSeed derives the seed of one patch's content from the dataset seed, the split and the index, so
// that a patch's pixels do not depend on which worker renders it.
func patchSeed(seed uint64, split Split, index int, purpose uint64) uint64 {
	s := mix64(seed ^ 0x5043414d)
	for _, c := range []byte(split) {
		s = mix64(s ^ uint64(c))
	}
	return mix64(mix64(s^uint64(index)) ^ purpose)
}
