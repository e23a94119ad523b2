package hpo

import "math"

// Standard normal helpers for the truncated Gaussian kernels of the Parzen
// estimator. They follow the numerically careful forms Optuna 3.1 uses
// (optuna/samplers/_tpe/_truncnorm.py), written against Go's math package.

var logSqrt2Pi = 0.5 * math.Log(2*math.Pi)

// ndtr is the standard normal CDF Φ(a), evaluated through erfc on the side
// where it does not cancel.
func ndtr(a float64) float64 {
	x := a / math.Sqrt2
	switch {
	case x < -1/math.Sqrt2:
		return 0.5 * math.Erfc(-x)
	case x < 1/math.Sqrt2:
		return 0.5 + 0.5*math.Erf(x)
	default:
		return 1 - 0.5*math.Erfc(x)
	}
}

// logNdtr is log Φ(a), accurate far into both tails.
func logNdtr(a float64) float64 {
	if a > 6 {
		return -ndtr(-a) // log(1-ε) ≈ -ε
	}
	if a > -20 {
		return math.Log(ndtr(a))
	}
	// Asymptotic series of the Mills ratio for the far left tail.
	logLHS := -0.5*a*a - math.Log(-a) - logSqrt2Pi
	last, rhs, num, den := 0.0, 1.0, 1.0, 1.0
	cons := 1 / (a * a)
	sign := 1.0
	for i := 1; i < 100 && math.Abs(last-rhs) > 0x1p-52; i++ {
		last = rhs
		sign = -sign
		den *= cons
		num *= float64(2*i - 1)
		rhs += sign * num * den
	}
	return logLHS + math.Log(rhs)
}

// logDiff returns log(exp(lp) - exp(lq)) for lp >= lq.
func logDiff(lp, lq float64) float64 {
	return lp + math.Log1p(-math.Exp(lq-lp))
}

// logGaussMass is log(Φ(b) - Φ(a)) for a <= b, computed on the side of 0
// that keeps precision.
func logGaussMass(a, b float64) float64 {
	switch {
	case b <= 0:
		return logDiff(logNdtr(b), logNdtr(a))
	case a > 0:
		return logDiff(logNdtr(-a), logNdtr(-b))
	default:
		return math.Log1p(-ndtr(a) - ndtr(-b))
	}
}

// truncNormPPF returns the q-quantile (0 <= q < 1) of the standard normal
// truncated to [a, b], by bisection on Φ. The Parzen kernels always have a
// <= 0 <= b (their centres lie inside the bounds), so the mass between a and
// b is at least Φ(0)-Φ(-1) and the target below is well conditioned.
func truncNormPPF(q, a, b float64) float64 {
	pa, pb := ndtr(a), ndtr(b)
	t := pa + q*(pb-pa)
	lo, hi := a, b
	for i := 0; i < 100; i++ {
		m := 0.5 * (lo + hi)
		if m == lo || m == hi {
			break
		}
		if ndtr(m) < t {
			lo = m
		} else {
			hi = m
		}
	}
	return 0.5 * (lo + hi)
}
