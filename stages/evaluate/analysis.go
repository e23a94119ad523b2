package evaluate

import (
	"hash/fnv"
	"math"
	"runtime"

	"github.com/pcamflow/pcamflow/metrics"
)

// Level is the confidence level of every interval.
const Level = 0.95

// valueOf returns the named metric of v.
func valueOf(v metrics.Values, name string) float64 {
	switch name {
	case "roc_auc":
		return v.ROCAUC
	case "pr_auc":
		return v.PRAUC
	case "f_beta":
		return v.FBeta
	case "precision":
		return v.Precision
	case "recall":
		return v.Recall
	case "specificity":
		return v.Specificity
	case "accuracy":
		return v.Accuracy
	case "brier":
		return v.Brier
	case "ece":
		return v.ECE
	}
	return math.NaN()
}

// lowerIsBetter reports the metrics for which a smaller value is better.
func lowerIsBetter(name string) bool { return name == "brier" || name == "ece" }

// MetricSet is every metric with its interval, keyed by metric name.
type MetricSet map[string]metrics.Interval

// pointSet returns the point estimates of v with no interval.
func pointSet(v metrics.Values) MetricSet {
	out := MetricSet{}
	for _, n := range metricNames {
		out[n] = metrics.Interval{Value: valueOf(v, n), Lo: math.NaN(), Hi: math.NaN()}
	}
	return out
}

// resample is the result of one bootstrap resample: the metrics of the main predictions and of
// every paired set of predictions.
type resample struct {
	main   metrics.Values
	paired []metrics.Values
}

// evaluateSet computes the metrics of main and of every paired set (same samples, other
// predictions) with bootstrap intervals on b resamples drawn from seed, and the paired intervals
// of the ROC-AUC difference main − paired[k]. With b = 0 only point estimates are returned.
func evaluateSet(main *metrics.Scored, paired []*metrics.Scored, b int, seed uint64) (MetricSet, []MetricSet, []metrics.Interval) {
	mainPoint := main.Values(nil, nil)
	sets := []MetricSet{pointSet(mainPoint)}
	points := []metrics.Values{mainPoint}
	for _, p := range paired {
		v := p.Values(nil, nil)
		points = append(points, v)
		sets = append(sets, pointSet(v))
	}
	diffs := make([]metrics.Interval, len(paired))
	for k := range paired {
		diffs[k] = metrics.Interval{Value: mainPoint.ROCAUC - points[k+1].ROCAUC, Lo: math.NaN(), Hi: math.NaN()}
	}
	if b <= 0 {
		return sets[0], sets[1:], diffs
	}
	scratch := make([]metrics.Scratch, runtime.GOMAXPROCS(0))
	res := metrics.Bootstrap(main.Len(), b, seed, func(worker int, w []int32) resample {
		r := resample{main: main.Values(w, &scratch[worker])}
		for _, p := range paired {
			r.paired = append(r.paired, p.Values(w, &scratch[worker]))
		}
		return r
	})
	col := make([]float64, b)
	fill := func(set MetricSet, get func(r resample) metrics.Values) {
		for _, n := range metricNames {
			for i, r := range res {
				col[i] = valueOf(get(r), n)
			}
			iv := set[n]
			iv.Lo, iv.Hi, iv.N = metrics.PercentileInterval(col, Level)
			set[n] = iv
		}
	}
	fill(sets[0], func(r resample) metrics.Values { return r.main })
	for k := range paired {
		fill(sets[k+1], func(r resample) metrics.Values { return r.paired[k] })
		for i, r := range res {
			col[i] = r.main.ROCAUC - r.paired[k].ROCAUC
		}
		diffs[k].Lo, diffs[k].Hi, diffs[k].N = metrics.PercentileInterval(col, Level)
	}
	return sets[0], sets[1:], diffs
}

// seedFor derives the bootstrap seed of one group of samples from the pipeline seed and a name,
// so every slice has its own resamples and adding a slice changes no other.
func seedFor(seed int64, name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return uint64(seed) ^ h.Sum64()
}

// subset returns labels and probabilities of the samples at idx.
func subset(labels []uint8, probs []float64, idx []int) ([]uint8, []float64) {
	l, p := make([]uint8, len(idx)), make([]float64, len(idx))
	for k, i := range idx {
		l[k], p[k] = labels[i], probs[i]
	}
	return l, p
}
