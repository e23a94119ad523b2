package metrics

import (
	"math"
	"testing"
)

func TestLogLoss(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name   string
		labels []uint8
		probs  []float64
		want   float64
	}{
		{"two samples", []uint8{1, 0}, []float64{0.8, 0.3}, -(math.Log(0.8) + math.Log(0.7)) / 2},
		{"confident mistake is clipped", []uint8{1}, []float64{0}, -math.Log(1e-15)},
		{"confident hit is clipped", []uint8{0}, []float64{0}, -math.Log(1 - 1e-15)},
		{"lengths differ", []uint8{1, 0}, []float64{0.5}, nan},
		{"empty", nil, nil, nan},
		{"NaN probability", []uint8{1}, []float64{nan}, nan},
		{"probability above 1", []uint8{1}, []float64{1.2}, nan},
		{"label not binary", []uint8{2}, []float64{0.5}, nan},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := LogLoss(tc.labels, tc.probs)
			if math.IsNaN(tc.want) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-tc.want) > 1e-12) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
