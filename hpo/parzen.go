package hpo

import "math"

// parzen is the Parzen estimator of Optuna 3.1's TPE
// (optuna/samplers/_tpe/parzen_estimator.py): a mixture with one kernel per
// observation plus one prior kernel. Numeric dimensions use truncated
// Gaussians in the internal space (log for LogUniform, the integer grid
// widened by ±0.5 for IntUniform); Choice dimensions use categorical kernels
// that put extra mass on the observed category.
type parzen struct {
	dims    []Dim
	weights []float64   // per kernel, normalised; the last kernel is the prior
	low     []float64   // per dimension, internal lower bound
	high    []float64   // per dimension, internal upper bound
	mus     [][]float64 // per dimension, per kernel (numeric dimensions)
	sigmas  [][]float64 // per dimension, per kernel (numeric dimensions)
	cat     [][][]float64
	// normalized adds the -log σ term to the Gaussian log density; without
	// it the density is Optuna 3.1's (see TPEOptions.NormalizedKernels).
	normalized bool
}

// sigma0Magnitude is Optuna's constant in Scott's rule for the multivariate
// bandwidth.
const sigma0Magnitude = 0.2

// internalBounds returns the bounds of d in the estimator's internal space.
func internalBounds(d Dim) (float64, float64) {
	switch d.Kind {
	case LogUniform:
		return math.Log(d.Low), math.Log(d.High)
	case IntUniform:
		return d.Low - 0.5, d.High + 0.5
	default:
		return d.Low, d.High
	}
}

// toInternal maps a value of d into the internal space.
func toInternal(d Dim, x float64) float64 {
	if d.Kind == LogUniform {
		return math.Log(x)
	}
	return x
}

// fromInternal maps an internal value back onto d's domain: exp for log
// dimensions, rounding (half to even, as numpy does) for integers; the result
// is clamped to the bounds.
func fromInternal(d Dim, x float64) float64 {
	switch d.Kind {
	case LogUniform:
		return clamp(math.Exp(x), d.Low, d.High)
	case IntUniform:
		return clamp(math.RoundToEven(x-d.Low)+d.Low, d.Low, d.High)
	case Choice:
		return x
	default:
		return clamp(x, d.Low, d.High)
	}
}

// defaultWeights is Optuna's default_weights: flat for fewer than 25
// observations, otherwise a ramp from 1/n to 1 over the oldest n-25 and flat
// over the newest 25. obs are in chronological order.
func defaultWeights(n int) []float64 {
	w := make([]float64, n)
	if n < 25 {
		for i := range w {
			w[i] = 1
		}
		return w
	}
	// numpy.linspace(1/n, 1, n-25)
	m := n - 25
	start, stop := 1/float64(n), 1.0
	switch {
	case m == 0:
	case m == 1:
		w[0] = start
	default:
		step := (stop - start) / float64(m-1)
		for i := 0; i < m; i++ {
			w[i] = start + float64(i)*step
		}
		w[m-1] = stop
	}
	for i := m; i < n; i++ {
		w[i] = 1
	}
	return w
}

// newParzen builds the estimator over dims from obs, the observations in
// chronological order with values already valid for each dimension (Choice:
// category index).
func newParzen(dims []Dim, obs []Point, priorWeight float64, endpoints, multivariate bool) *parzen {
	n := len(obs)
	p := &parzen{dims: dims}
	// Kernel weights: observations, then the prior, normalised.
	w := append(defaultWeights(n), priorWeight)
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	for i := range w {
		w[i] /= sum
	}
	p.weights = w

	var sigma0 float64
	if multivariate {
		sigma0 = sigma0Magnitude * math.Pow(float64(max(n, 1)), -1/float64(len(dims)+4))
	}
	p.low = make([]float64, len(dims))
	p.high = make([]float64, len(dims))
	p.mus = make([][]float64, len(dims))
	p.sigmas = make([][]float64, len(dims))
	p.cat = make([][][]float64, len(dims))
	for j, d := range dims {
		if d.Kind == Choice {
			p.cat[j] = categoricalKernels(d.Choices, obs, j, priorWeight)
			continue
		}
		lo, hi := internalBounds(d)
		p.low[j], p.high[j] = lo, hi
		mus := make([]float64, n+1)
		for i, o := range obs {
			mus[i] = toInternal(d, o[j])
		}
		mus[n] = 0.5 * (lo + hi)
		sigmas := make([]float64, n+1)
		if multivariate {
			for i := range sigmas {
				sigmas[i] = sigma0 * (hi - lo)
			}
		} else {
			neighbourSigmas(mus, sigmas, lo, hi, endpoints)
		}
		// Optuna's magic clip; the count includes the prior kernel.
		maxSigma := hi - lo
		minSigma := (hi - lo) / math.Min(100, float64(1+len(mus)))
		for i := range sigmas {
			sigmas[i] = clamp(sigmas[i], minSigma, maxSigma)
		}
		sigmas[n] = hi - lo // the prior kernel
		p.mus[j], p.sigmas[j] = mus, sigmas
	}
	return p
}

// neighbourSigmas sets each kernel's bandwidth to the larger distance to its
// sorted neighbours, the bounds acting as neighbours of the extremes (Optuna's
// univariate rule). Unless endpoints is set, the extreme kernels use the
// distance to their inner neighbour only.
func neighbourSigmas(mus, sigmas []float64, lo, hi float64, endpoints bool) {
	n := len(mus)
	// Tied centres (repeated integers, say) get different bandwidths
	// depending on their order; follow numpy's, as Optuna does.
	order := numpyArgsort(mus)
	ext := make([]float64, n+2)
	ext[0], ext[n+1] = lo, hi
	for i, k := range order {
		ext[i+1] = mus[k]
	}
	sorted := make([]float64, n)
	for i := range sorted {
		sorted[i] = math.Max(ext[i+1]-ext[i], ext[i+2]-ext[i+1])
	}
	if !endpoints && n+2 >= 4 {
		sorted[0] = ext[2] - ext[1]
		sorted[n-1] = ext[n] - ext[n-1]
	}
	for i, k := range order {
		sigmas[k] = sorted[i]
	}
}

// categoricalKernels returns one probability row per kernel: the observed
// category gets weight 1 plus priorWeight/(n+1) spread over all categories,
// normalised; the last (prior) row is uniform.
func categoricalKernels(choices int, obs []Point, j int, priorWeight float64) [][]float64 {
	n := len(obs)
	rows := make([][]float64, n+1)
	fill := priorWeight / float64(n+1)
	for i := range rows {
		r := make([]float64, choices)
		for c := range r {
			r[c] = fill
		}
		if i < n {
			r[int(obs[i][j])]++
		}
		s := 0.0
		for _, x := range r {
			s += x
		}
		for c := range r {
			r[c] /= s
		}
		rows[i] = r
	}
	return rows
}

// pickWeighted returns the index i with cumulative weight reaching u, like
// numpy's choice with probabilities.
func pickWeighted(w []float64, u float64) int {
	c := 0.0
	for i, x := range w {
		c += x
		if u < c {
			return i
		}
	}
	return len(w) - 1
}

// sample draws size points (in dims order, values on each dimension's
// domain) from the mixture.
func (p *parzen) sample(g *rng, size int) []Point {
	active := make([]int, size)
	for i := range active {
		active[i] = pickWeighted(p.weights, g.float64())
	}
	out := make([]Point, size)
	for i := range out {
		out[i] = make(Point, len(p.dims))
	}
	for j, d := range p.dims {
		for i, k := range active {
			u := g.float64()
			if d.Kind == Choice {
				out[i][j] = float64(pickWeighted(p.cat[j][k], u))
				continue
			}
			mu, sigma := p.mus[j][k], p.sigmas[j][k]
			a, b := (p.low[j]-mu)/sigma, (p.high[j]-mu)/sigma
			x := truncNormPPF(u, a, b)*sigma + mu
			out[i][j] = fromInternal(d, x)
		}
	}
	return out
}

// logPDF returns the log density (log mass for integer dimensions) of the
// mixture at each point.
func (p *parzen) logPDF(points []Point) []float64 {
	nk := len(p.weights)
	logW := make([]float64, nk)
	for k, w := range p.weights {
		logW[k] = math.Log(w)
	}
	// The normalising mass of every numeric kernel.
	logMass := make([][]float64, len(p.dims))
	for j, d := range p.dims {
		if d.Kind == Choice {
			continue
		}
		logMass[j] = make([]float64, nk)
		for k := 0; k < nk; k++ {
			mu, sigma := p.mus[j][k], p.sigmas[j][k]
			logMass[j][k] = logGaussMass((p.low[j]-mu)/sigma, (p.high[j]-mu)/sigma)
		}
	}
	out := make([]float64, len(points))
	comp := make([]float64, nk)
	for i, x := range points {
		copy(comp, logW)
		for j, d := range p.dims {
			switch d.Kind {
			case Choice:
				c := int(x[j])
				for k := 0; k < nk; k++ {
					comp[k] += math.Log(p.cat[j][k][c])
				}
			case IntUniform:
				up := math.Min(x[j]+0.5, p.high[j])
				down := math.Max(x[j]-0.5, p.low[j])
				for k := 0; k < nk; k++ {
					mu, sigma := p.mus[j][k], p.sigmas[j][k]
					comp[k] += logGaussMass((down-mu)/sigma, (up-mu)/sigma) - logMass[j][k]
				}
			default:
				v := toInternal(d, x[j])
				for k := 0; k < nk; k++ {
					mu, sigma := p.mus[j][k], p.sigmas[j][k]
					z := (v - mu) / sigma
					lp := -0.5*z*z - logSqrt2Pi - logMass[j][k]
					if p.normalized {
						lp -= math.Log(sigma)
					}
					comp[k] += lp
				}
			}
		}
		out[i] = logSumExp(comp)
	}
	return out
}

// logSumExp returns log Σ exp(xs) without overflow.
func logSumExp(xs []float64) float64 {
	m := math.Inf(-1)
	for _, x := range xs {
		if x > m {
			m = x
		}
	}
	if math.IsInf(m, 0) || math.IsNaN(m) {
		return m
	}
	s := 0.0
	for _, x := range xs {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}
