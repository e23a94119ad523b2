package evaluate

import (
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

// bootstrapSets evaluates every set of predictions (the model, the baselines, the slices: all
// over the same n patches, a slice through NewScoredSubset) on b resamples of the n patches drawn
// from seed. Every set sees the same resamples, so differences between sets are paired. It
// returns the point metrics of every set and, per resample, the metrics of every set.
func bootstrapSets(n int, sets []*metrics.Scored, b int, seed uint64) ([]metrics.Values, [][]metrics.Values) {
	points := make([]metrics.Values, len(sets))
	for k, s := range sets {
		points[k] = s.Values(nil, nil)
	}
	if b <= 0 {
		return points, nil
	}
	scratch := make([]metrics.Scratch, runtime.GOMAXPROCS(0))
	res := metrics.Bootstrap(n, b, seed, func(worker int, w []int32) []metrics.Values {
		out := make([]metrics.Values, len(sets))
		for k, s := range sets {
			out[k] = s.Values(w, &scratch[worker])
		}
		return out
	})
	return points, res
}

// intervals returns set k's metrics with their percentile intervals over the resamples res.
func intervals(points []metrics.Values, res [][]metrics.Values, k int) MetricSet {
	set := pointSet(points[k])
	if len(res) == 0 {
		return set
	}
	col := make([]float64, len(res))
	for _, n := range metricNames {
		for i, r := range res {
			col[i] = valueOf(r[k], n)
		}
		iv := set[n]
		iv.Lo, iv.Hi, iv.N = metrics.PercentileInterval(col, Level)
		set[n] = iv
	}
	return set
}

// aucDifference returns the ROC-AUC of set a minus that of set b with its paired interval.
func aucDifference(points []metrics.Values, res [][]metrics.Values, a, b int) metrics.Interval {
	iv := metrics.Interval{Value: points[a].ROCAUC - points[b].ROCAUC, Lo: math.NaN(), Hi: math.NaN()}
	if len(res) == 0 {
		return iv
	}
	col := make([]float64, len(res))
	for i, r := range res {
		col[i] = r[a].ROCAUC - r[b].ROCAUC
	}
	iv.Lo, iv.Hi, iv.N = metrics.PercentileInterval(col, Level)
	return iv
}

// bootstrapSeed derives the resampling seed from the pipeline seed.
func bootstrapSeed(seed int64) uint64 { return uint64(seed) ^ 0x6576616c75617465 }
