package metrics

import (
	"math"
	"testing"
)

func TestMeanStd(t *testing.T) {
	tests := []struct {
		name      string
		xs        []float64
		mean, std float64
	}{
		{"four values, n-1 divisor", []float64{1, 2, 3, 4}, 2.5, math.Sqrt(5.0 / 3)},
		{"constant", []float64{0.9, 0.9, 0.9}, 0.9, 0},
		{"single value", []float64{5}, 5, 0},
		{"empty", nil, math.NaN(), math.NaN()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, s := MeanStd(tc.xs)
			if !approxEqual(m, tc.mean) || !approxEqual(s, tc.std) {
				t.Errorf("got (%v, %v), want (%v, %v)", m, s, tc.mean, tc.std)
			}
		})
	}
}

// approxEqual reports whether a and b are equal to 1e-15 or both NaN.
func approxEqual(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-15
}
