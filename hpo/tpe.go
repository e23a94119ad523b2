package hpo

import (
	"fmt"
	"math"
	"sort"
)

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
	// min(ceil(0.1*n), 25). Results outside [0, n] are clamped.
	Gamma func(n int) int
	// PriorWeight is the weight of the prior kernel; default 1.0.
	PriorWeight float64
	// ConsiderEndpoints lets the bandwidth of the lowest and highest
	// observations reach to the bounds (Optuna's consider_endpoints).
	ConsiderEndpoints bool
	// Multivariate models the dimensions jointly (Optuna's multivariate=True)
	// instead of one independent estimator per dimension.
	Multivariate bool
	// NormalizedKernels evaluates the numeric kernels with the properly
	// normalised truncated-Gaussian density. Optuna 3.1's density omits the
	// -log σ term (its vendored truncnorm.logpdf ignores the scale; fixed
	// upstream later, optuna/optuna#5110), and pcamflow follows 3.1 by
	// default: on all three test functions of bench/tpe the 3.1 form finds
	// better optima in 50 trials (docs/bench-sweep.md).
	NormalizedKernels bool
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

const streamTPE = 2

// Propose returns the point of trial index. While fewer than StartupTrials
// usable observations exist it draws from the prior exactly as NewRandom
// with the same seed would. Afterwards it ranks the usable observations
// (complete ones by value; then pruned ones, those that reached a later Step
// first, then by value; a NaN value ranks last within its group), takes the
// best Gamma(n) as "below" and the rest as "above", fits a Parzen estimator
// to each, draws Candidates points from the below estimator and returns the
// one maximising log l(x) - log g(x). Without Multivariate, every dimension
// has its own pair of one-dimensional estimators, as in Optuna's default.
//
// Failed observations, and complete ones whose value is NaN, are ignored. A
// point of the wrong length, with a non-finite coordinate or a category out
// of range is an error; numeric coordinates outside the bounds are clamped.
func (t *tpe) Propose(index int, history []Observation) (Point, error) {
	if err := t.space.Validate(); err != nil {
		return nil, err
	}
	obs, err := usable(t.space, history)
	if err != nil {
		return nil, err
	}
	n := len(obs)
	if n < t.opt.StartupTrials {
		return samplePrior(t.space, newRNG(t.seed, index, streamRandom)), nil
	}
	nBelow := clamp(t.opt.Gamma(n), 0, n)
	below, above := split(obs, nBelow)
	g := newRNG(t.seed, index, streamTPE)
	if t.opt.Multivariate {
		return t.proposeJoint(g, t.space, below, above), nil
	}
	out := make(Point, len(t.space))
	for j := range t.space {
		sub := []Dim{t.space[j]}
		p := t.proposeJoint(g, sub, column(below, j), column(above, j))
		out[j] = p[0]
	}
	return out, nil
}

// proposeJoint fits the below and above estimators over dims and returns the
// candidate with the best density ratio.
func (t *tpe) proposeJoint(g *rng, dims []Dim, below, above []Point) Point {
	l := newParzen(dims, below, t.opt.PriorWeight, t.opt.ConsiderEndpoints, t.opt.Multivariate)
	gm := newParzen(dims, above, t.opt.PriorWeight, t.opt.ConsiderEndpoints, t.opt.Multivariate)
	l.normalized, gm.normalized = t.opt.NormalizedKernels, t.opt.NormalizedKernels
	cands := l.sample(g, t.opt.Candidates)
	ll := l.logPDF(cands)
	lg := gm.logPDF(cands)
	best, bestScore := 0, math.Inf(-1)
	for i := range cands {
		s := ll[i] - lg[i]
		if s > bestScore { // first maximum wins, like numpy.argmax; NaN never wins
			best, bestScore = i, s
		}
	}
	return cands[best]
}

// ranked is a usable observation with its sort key.
type ranked struct {
	point Point
	group float64 // -Inf for complete trials, -Step for pruned ones
	value float64
}

// usable filters and checks the history, keeping chronological order.
func usable(s Space, history []Observation) ([]ranked, error) {
	var out []ranked
	for i, o := range history {
		if o.State != Complete && o.State != Pruned {
			continue
		}
		if o.State == Complete && math.IsNaN(o.Value) {
			continue // Optuna turns a NaN objective into a failed trial
		}
		p, err := checkPoint(s, o.Point)
		if err != nil {
			return nil, fmt.Errorf("history[%d]: %w", i, err)
		}
		r := ranked{point: p, group: math.Inf(-1), value: o.Value}
		if o.State == Pruned {
			r.group = -float64(o.Step)
			if math.IsNaN(r.value) {
				r.value = math.Inf(1)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// checkPoint validates p against s and returns a copy with numeric
// coordinates clamped into their bounds.
func checkPoint(s Space, p Point) (Point, error) {
	if len(p) != len(s) {
		return nil, fmt.Errorf("point has %d values, the space has %d dimensions", len(p), len(s))
	}
	q := make(Point, len(p))
	for j, d := range s {
		x := p[j]
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("dimension %q: value %v is not finite", d.Name, x)
		}
		switch d.Kind {
		case Choice:
			if x != math.Trunc(x) || x < 0 || x >= float64(d.Choices) {
				return nil, fmt.Errorf("dimension %q: category %v is not in 0..%d", d.Name, x, d.Choices-1)
			}
		case IntUniform:
			x = clamp(math.RoundToEven(x), d.Low, d.High)
		default:
			x = clamp(x, d.Low, d.High)
		}
		q[j] = x
	}
	return q, nil
}

// split ranks obs by (group, value), stably, and returns the best nBelow and
// the rest, each in chronological order (as Optuna's
// _split_observation_pairs does).
func split(obs []ranked, nBelow int) (below, above []Point) {
	order := make([]int, len(obs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		x, y := obs[order[a]], obs[order[b]]
		if x.group != y.group {
			return x.group < y.group
		}
		return x.value < y.value
	})
	isBelow := make([]bool, len(obs))
	for _, i := range order[:nBelow] {
		isBelow[i] = true
	}
	for i, o := range obs {
		if isBelow[i] {
			below = append(below, o.point)
		} else {
			above = append(above, o.point)
		}
	}
	return below, above
}

// column returns the one-dimensional points of dimension j.
func column(ps []Point, j int) []Point {
	out := make([]Point, len(ps))
	for i, p := range ps {
		out[i] = Point{p[j]}
	}
	return out
}
