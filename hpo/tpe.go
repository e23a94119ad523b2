package hpo

import "math"

// TPEOptions are the settings of the tree-structured Parzen estimator. Zero
// values select Optuna 3.1's defaults.
type TPEOptions struct {
	// StartupTrials is the number of usable (complete or pruned) trials
	// sampled at random before the model is used; default 10.
	StartupTrials int
	// Candidates is the number of points drawn from the "good" density, of
	// which the one with the best density ratio is proposed; default 24.
	Candidates int
	// Gamma gives the number of "good" observations out of n; default
	// min(ceil(0.1*n), 25).
	Gamma func(n int) int
	// PriorWeight is the weight of the prior kernel; default 1.0.
	PriorWeight float64
	// ConsiderEndpoints lets the bandwidth of the lowest and highest
	// observations reach to the bounds (Optuna's consider_endpoints).
	ConsiderEndpoints bool
	// Multivariate models the dimensions jointly (Optuna's multivariate=True)
	// instead of one independent estimator per dimension.
	Multivariate bool
}

// DefaultGamma is Optuna's default split: min(ceil(0.1*n), 25).
func DefaultGamma(n int) int {
	return min(int(math.Ceil(0.1*float64(n))), 25)
}

type tpe struct {
	space Space
	seed  int64
	opt   TPEOptions
}

// NewTPE returns a tree-structured Parzen estimator sampler (Bergstra et al.
// 2011) over s with Optuna 3.1's defaults for zero options.
func NewTPE(s Space, seed int64, opt TPEOptions) Sampler {
	if opt.StartupTrials <= 0 {
		opt.StartupTrials = 10
	}
	if opt.Candidates <= 0 {
		opt.Candidates = 24
	}
	if opt.Gamma == nil {
		opt.Gamma = DefaultGamma
	}
	if opt.PriorWeight <= 0 {
		opt.PriorWeight = 1.0
	}
	return &tpe{space: append(Space(nil), s...), seed: seed, opt: opt}
}

// Propose returns the point of trial index. TODO: the Parzen model; until
// then it samples the prior.
func (t *tpe) Propose(index int, history []Observation) (Point, error) {
	if err := t.space.Validate(); err != nil {
		return nil, err
	}
	return samplePrior(t.space, newRNG(t.seed, index, streamRandom)), nil
}
