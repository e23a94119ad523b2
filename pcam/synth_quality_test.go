package pcam

import (
	"math"
	"slices"
	"testing"
)

// renderSample renders n plain synthetic patches and returns their per-patch mean colour and labels.
func renderSample(n int, seed uint64) (feats [][3]float64, labels []uint8, stats PixelStats) {
	var cv canvas
	dst := make([]byte, PatchBytes)
	for i := 0; i < n; i++ {
		l, _ := renderTissue(patchSeed(seed, Train, i, seedContent), dst, &cv)
		var ps PixelStats
		ps.Add(dst)
		stats.Add(dst)
		feats = append(feats, ps.Mean())
		labels = append(labels, l)
	}
	return feats, labels, stats
}

// rocAUC is the Mann-Whitney estimate of the ROC-AUC of scores for binary labels (ties count half).
func rocAUC(scores []float64, labels []uint8) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmpFloat(scores[a], scores[b]) })
	var rankSum, pos float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		rank := float64(i+j+1) / 2
		for k := i; k < j; k++ {
			if labels[idx[k]] == 1 {
				rankSum += rank
				pos++
			}
		}
		i = j
	}
	neg := float64(len(scores)) - pos
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// logistic fits a logistic regression with an intercept by gradient descent on standardised features
// and returns a scoring function.
func logistic(x [][3]float64, y []uint8) func([3]float64) float64 {
	var mu, sd [3]float64
	for _, v := range x {
		for c := range mu {
			mu[c] += v[c] / float64(len(x))
		}
	}
	for _, v := range x {
		for c := range sd {
			sd[c] += (v[c] - mu[c]) * (v[c] - mu[c]) / float64(len(x))
		}
	}
	for c := range sd {
		sd[c] = math.Sqrt(sd[c]) + 1e-9
	}
	var w [4]float64
	for it := 0; it < 2000; it++ {
		var g [4]float64
		for i, v := range x {
			z := w[3]
			for c := 0; c < 3; c++ {
				z += w[c] * (v[c] - mu[c]) / sd[c]
			}
			e := 1/(1+math.Exp(-z)) - float64(y[i])
			for c := 0; c < 3; c++ {
				g[c] += e * (v[c] - mu[c]) / sd[c]
			}
			g[3] += e
		}
		for k := range w {
			w[k] -= 0.5 * g[k] / float64(len(x))
		}
	}
	return func(v [3]float64) float64 {
		z := w[3]
		for c := 0; c < 3; c++ {
			z += w[c] * (v[c] - mu[c]) / sd[c]
		}
		return z
	}
}

func TestRocAUC(t *testing.T) {
	if a := rocAUC([]float64{0.1, 0.4, 0.35, 0.8}, []uint8{0, 0, 1, 1}); a != 0.75 {
		t.Fatalf("AUC %v, want 0.75", a)
	}
}

// TestSynthColourIsNotTheLabel checks the generator's central promise: global colour does not give the
// label away. A logistic regression on per-patch mean RGB, fitted on one half and scored on the other,
// must stay well below ROC-AUC 0.75.
func TestSynthColourIsNotTheLabel(t *testing.T) {
	n := 1600
	if testing.Short() {
		n = 600
	}
	x, y, stats := renderSample(n, 11)
	half := n / 2
	score := logistic(x[:half], y[:half])
	var s []float64
	for _, v := range x[half:] {
		s = append(s, score(v))
	}
	auc := rocAUC(s, y[half:])
	t.Logf("held-out ROC-AUC of mean-colour logistic regression: %.3f (n=%d); pixel mean %.3f std %.3f", auc, n-half, stats.Mean(), stats.Std())
	if auc > 0.70 {
		t.Fatalf("mean colour predicts the label too well: ROC-AUC %.3f", auc)
	}
}
