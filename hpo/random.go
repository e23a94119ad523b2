package hpo

import "math"

// random draws every dimension independently from its prior.
type random struct {
	space Space
	seed  int64
}

// NewRandom returns a sampler drawing each point independently from the
// space's distributions. The generator of trial index is derived from (seed,
// index) only, so the history is ignored and proposals can be made in any
// order. The space must be valid (see Space.Validate); Propose reports an
// invalid space as an error.
func NewRandom(s Space, seed int64) Sampler {
	return &random{space: append(Space(nil), s...), seed: seed}
}

const streamRandom = 1

// Propose draws the point of trial index.
func (r *random) Propose(index int, _ []Observation) (Point, error) {
	if err := r.space.Validate(); err != nil {
		return nil, err
	}
	g := newRNG(r.seed, index, streamRandom)
	return samplePrior(r.space, g), nil
}

// samplePrior draws one point from the space's prior distributions.
func samplePrior(s Space, g *rng) Point {
	p := make(Point, len(s))
	for i, d := range s {
		p[i] = sampleDim(d, g)
	}
	return p
}

// sampleDim draws one value of d from its prior.
func sampleDim(d Dim, g *rng) float64 {
	u := g.float64()
	switch d.Kind {
	case Uniform:
		return clamp(d.Low+u*(d.High-d.Low), d.Low, d.High)
	case LogUniform:
		lo, hi := math.Log(d.Low), math.Log(d.High)
		return clamp(math.Exp(lo+u*(hi-lo)), d.Low, d.High)
	case IntUniform:
		return clamp(math.Floor(d.Low+u*(d.High-d.Low+1)), d.Low, d.High)
	default: // Choice
		return float64(g.intn(d.Choices))
	}
}

// clamp returns x limited to [lo, hi] (NaN stays NaN).
func clamp[T float64 | int](x, lo, hi T) T {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}
