package metrics

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestROCAUCAndAPHandComputed(t *testing.T) {
	tests := []struct {
		name    string
		labels  []uint8
		scores  []float64
		auc, ap float64
	}{
		{"doc example", docLabels, docScores, 0.75, 0.5*1 + 0.5*(2.0/3)},
		{"all tied", []uint8{0, 1, 0, 1}, []float64{0.5, 0.5, 0.5, 0.5}, 0.5, 0.5},
		// Pairs (pos, neg): (.9,.9) tie ½, (.9,.2) 1, (.1,.9) 0, (.1,.2) 0 -> 1.5/4.
		{"partial tie", []uint8{1, 0, 1, 0}, []float64{0.9, 0.9, 0.1, 0.2}, 0.375, 0.5},
		{"perfect", []uint8{0, 0, 1, 1}, []float64{0.1, 0.2, 0.8, 0.9}, 1, 1},
		{"inverted", []uint8{1, 0}, []float64{0.1, 0.9}, 0, 0.5},
		// 1 positive ranked 2nd of 5: beats 3 of 4 negatives; AP = precision at its rank = 1/2.
		{"one positive", []uint8{0, 1, 0, 0, 0}, []float64{0.9, 0.8, 0.3, 0.2, 0.1}, 0.75, 0.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			auc, err := ROCAUC(tc.labels, tc.scores)
			if err != nil {
				t.Fatal(err)
			}
			ap, err := AveragePrecision(tc.labels, tc.scores)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(auc-tc.auc) > 1e-15 || math.Abs(ap-tc.ap) > 1e-15 {
				t.Errorf("got AUC %v AP %v, want %v %v", auc, ap, tc.auc, tc.ap)
			}
		})
	}
}

func TestAveragePrecisionClassEdgeCases(t *testing.T) {
	ap, err := AveragePrecision([]uint8{1, 1}, []float64{0.3, 0.1})
	if err != nil || ap != 1 {
		t.Errorf("all positive: got %v, %v; want 1, nil", ap, err)
	}
	if _, err := AveragePrecision([]uint8{0, 0}, []float64{0.3, 0.1}); !errors.Is(err, ErrNoPositives) {
		t.Errorf("no positives: got %v, want ErrNoPositives", err)
	}
}

// TestROCAUCMatchesPairCounting checks the trapezoid AUC against the O(n²) definition
// P(score_pos > score_neg) + ½ P(tie) on random data with many ties.
func TestROCAUCMatchesPairCounting(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := range 20 {
		n := 2 + rng.IntN(300)
		labels, scores := make([]uint8, n), make([]float64, n)
		for i := range n {
			labels[i] = uint8(rng.IntN(2))
			scores[i] = float64(rng.IntN(1 + trial)) // few distinct values: heavy ties
		}
		labels[0], labels[1] = 0, 1
		var num float64
		pos, neg := classCounts(labels)
		for i := range n {
			for j := range n {
				if labels[i] == 1 && labels[j] == 0 {
					switch {
					case scores[i] > scores[j]:
						num++
					case scores[i] == scores[j]:
						num += 0.5
					}
				}
			}
		}
		want := num / float64(pos*neg)
		got, err := ROCAUC(labels, scores)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("trial %d: AUC %v, pair counting %v", trial, got, want)
		}
	}
}

// BenchmarkROCAUC measures ROC-AUC on one PCAM validation split's worth of scores (32,768).
func BenchmarkROCAUC(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	labels, scores := make([]uint8, 32768), make([]float64, 32768)
	for i := range labels {
		labels[i] = uint8(rng.IntN(2))
		scores[i] = rng.Float64() + 0.3*float64(labels[i])
	}
	for b.Loop() {
		if _, err := ROCAUC(labels, scores); err != nil {
			b.Fatal(err)
		}
	}
}
