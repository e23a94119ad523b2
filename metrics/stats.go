package metrics

import "math"

// MeanStd returns the arithmetic mean and the sample standard deviation (divisor n−1, Bessel's
// correction: the spread of a metric over a handful of seeds is an estimate, not a population
// value) of xs. With one value the standard deviation is 0; with none both results are NaN. NaN
// values propagate. The mean is computed first and the deviations summed in a second pass, which is
// accurate for the few values of a seed average.
func MeanStd(xs []float64) (mean, std float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) == 1 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		d := x - mean
		ss += d * d
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}
