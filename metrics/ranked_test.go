package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randomProbs draws n labels and probabilities with optional rounding (ties).
func randomProbs(rng *rand.Rand, n int, round float64) ([]uint8, []float64) {
	labels, probs := make([]uint8, n), make([]float64, n)
	for i := range n {
		if rng.Float64() < 0.4 {
			labels[i] = 1
		}
		p := 1 / (1 + math.Exp(-(1.2*float64(labels[i]) - 0.5 + rng.NormFloat64())))
		if round > 0 {
			p = math.Round(p*round) / round
		}
		probs[i] = p
	}
	labels[0], labels[1] = 0, 1
	return labels, probs
}

// reference computes every metric of Values with the package's plain functions.
func reference(t *testing.T, labels []uint8, probs []float64, thr, beta float64, bins int) Values {
	t.Helper()
	c := ConfusionAt(labels, probs, thr)
	v := Values{Confusion: c, FBeta: c.FBeta(beta), Precision: c.Precision(), Recall: c.Recall(), Specificity: c.Specificity(),
		Accuracy: c.Accuracy(), ROCAUC: math.NaN(), PRAUC: math.NaN()}
	if auc, err := ROCAUC(labels, probs); err == nil {
		v.ROCAUC = auc
	}
	if ap, err := AveragePrecision(labels, probs); err == nil {
		v.PRAUC = ap
	}
	var b float64
	for i, p := range probs {
		d := p - float64(labels[i])
		b += d * d
	}
	v.Brier = b / float64(len(probs))
	v.ECE = ECE(Calibration(labels, probs, bins))
	return v
}

func closeTo(a, b float64) bool {
	return (math.IsNaN(a) && math.IsNaN(b)) || math.Abs(a-b) <= 1e-12
}

func compareValues(t *testing.T, what string, got, want Values) {
	t.Helper()
	pairs := [][3]any{{"roc_auc", got.ROCAUC, want.ROCAUC}, {"pr_auc", got.PRAUC, want.PRAUC}, {"f_beta", got.FBeta, want.FBeta},
		{"precision", got.Precision, want.Precision}, {"recall", got.Recall, want.Recall}, {"specificity", got.Specificity, want.Specificity},
		{"accuracy", got.Accuracy, want.Accuracy}, {"brier", got.Brier, want.Brier}, {"ece", got.ECE, want.ECE}}
	for _, p := range pairs {
		if !closeTo(p[1].(float64), p[2].(float64)) {
			t.Errorf("%s: %s = %.17g, reference %.17g", what, p[0], p[1], p[2])
		}
	}
	if got.Confusion != want.Confusion {
		t.Errorf("%s: confusion %+v, reference %+v", what, got.Confusion, want.Confusion)
	}
}

// TestScoredEqualsPlainMetrics checks Values without weights against the plain functions, and
// Values under bootstrap weights against the plain functions on the explicitly expanded resample:
// the rank trick computes exactly what a resample-then-sort would.
func TestScoredEqualsPlainMetrics(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	for trial, round := range []float64{0, 10, 100, 0, 1000} {
		labels, probs := randomProbs(rng, 50+trial*97, round)
		thr := 0.3 + 0.1*float64(trial)
		s, err := NewScored(labels, probs, thr, 2, 10)
		if err != nil {
			t.Fatal(err)
		}
		compareValues(t, "no weights", s.Values(nil, nil), reference(t, labels, probs, thr, 2, 10))
		if got, want := s.ROCAUCWeighted(nil, nil), reference(t, labels, probs, thr, 2, 10).ROCAUC; !closeTo(got, want) {
			t.Errorf("ROCAUCWeighted %v, want %v", got, want)
		}
		w := make([]int32, len(labels))
		var scratch Scratch
		for b := range 5 {
			ResampleWeights(w, uint64(trial), b)
			var el []uint8
			var ep []float64
			total := 0
			for i, k := range w {
				total += int(k)
				for range k {
					el, ep = append(el, labels[i]), append(ep, probs[i])
				}
			}
			if total != len(labels) {
				t.Fatalf("resample %d draws %d samples, want %d", b, total, len(labels))
			}
			compareValues(t, "resample", s.Values(w, &scratch), reference(t, el, ep, thr, 2, 10))
			if got, want := s.ROCAUCWeighted(w, &scratch), reference(t, el, ep, thr, 2, 10).ROCAUC; !closeTo(got, want) {
				t.Errorf("weighted ROC-AUC %v, expanded %v", got, want)
			}
		}
	}
}

// TestBootstrapDeterministic checks that the bootstrap does not depend on scheduling.
func TestBootstrapDeterministic(t *testing.T) {
	labels, probs := randomProbs(rand.New(rand.NewPCG(1, 1)), 300, 0)
	s, _ := NewScored(labels, probs, 0.5, 2, 10)
	run := func() []float64 {
		return Bootstrap(len(labels), 200, 42, func(_ int, w []int32) float64 { return s.ROCAUCWeighted(w, nil) })
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("resample %d: %v then %v", i, a[i], b[i])
		}
	}
}

// TestBootstrapCoverage is the hidden-truth test of the intervals: positives score N(d, 1) and
// negatives N(0, 1), so the true ROC-AUC is Φ(d/√2); over 200 simulated test sets, the 95%
// percentile bootstrap interval must contain it 90–99% of the time.
func TestBootstrapCoverage(t *testing.T) {
	const reps, n, resamples = 200, 400, 500
	d := 1.2
	truth := 0.5 * math.Erfc(-d/math.Sqrt2/math.Sqrt2)
	rng := rand.New(rand.NewPCG(2026, 12))
	covered := 0
	for rep := range reps {
		labels, scores := make([]uint8, n), make([]float64, n)
		for i := range n {
			labels[i] = uint8(i % 2)
			scores[i] = rng.NormFloat64() + d*float64(labels[i])
		}
		probs := make([]float64, n) // the ROC-AUC only needs the order: map to (0, 1)
		for i, s := range scores {
			probs[i] = 1 / (1 + math.Exp(-s))
		}
		s, err := NewScored(labels, probs, 0.5, 2, 10)
		if err != nil {
			t.Fatal(err)
		}
		aucs := Bootstrap(n, resamples, uint64(rep), func(_ int, w []int32) float64 { return s.ROCAUCWeighted(w, nil) })
		lo, hi, _ := PercentileInterval(aucs, 0.95)
		if lo <= truth && truth <= hi {
			covered++
		}
	}
	rate := float64(covered) / reps
	t.Logf("true ROC-AUC %.4f covered by %d of %d 95%% intervals (%.1f%%)", truth, covered, reps, 100*rate)
	if rate < 0.90 || rate > 0.99 {
		t.Errorf("coverage %.3f outside [0.90, 0.99]", rate)
	}
}

func TestQuantileLikeNumPy(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 10}
	// numpy.quantile([1,2,3,4,10], [0.025, 0.5, 0.975]) = [1.1, 3., 9.4]
	for _, c := range []struct{ q, want float64 }{{0.025, 1.1}, {0.5, 3}, {0.975, 9.4}, {0, 1}, {1, 10}} {
		if got := Quantile(xs, c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if lo, hi, n := PercentileInterval([]float64{math.NaN(), 1}, 0.95); !math.IsNaN(lo) || !math.IsNaN(hi) || n != 1 {
		t.Errorf("one defined value: %v %v %d", lo, hi, n)
	}
}

// TestScoredSubsetUsesGlobalWeights checks that a subset's metrics under the weights of the whole
// set equal a Scored built on the subset alone under the subset's own weights.
func TestScoredSubsetUsesGlobalWeights(t *testing.T) {
	labels, probs := randomProbs(rand.New(rand.NewPCG(5, 5)), 400, 20)
	var idx []int
	for i := 0; i < 400; i += 3 {
		idx = append(idx, i)
	}
	sub, err := NewScoredSubset(labels, probs, idx, 0.4, 2, 10)
	if err != nil {
		t.Fatal(err)
	}
	l, p := make([]uint8, len(idx)), make([]float64, len(idx))
	for k, i := range idx {
		l[k], p[k] = labels[i], probs[i]
	}
	alone, _ := NewScored(l, p, 0.4, 2, 10)
	w, wl := make([]int32, 400), make([]int32, len(idx))
	for b := range 4 {
		ResampleWeights(w, 1, b)
		for k, i := range idx {
			wl[k] = w[i]
		}
		compareValues(t, "subset", sub.Values(w, nil), alone.Values(wl, nil))
	}
	compareValues(t, "subset, no weights", sub.Values(nil, nil), alone.Values(nil, nil))
	if _, err := NewScoredSubset(labels, probs, []int{400}, 0.4, 2, 10); err == nil {
		t.Error("an index out of range was accepted")
	}
}
