package metrics

import (
	"encoding/json"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// ResampleWeights fills w (len n) with the multiplicities of bootstrap resample b of n samples: n
// draws with replacement, w[i] the number of times sample i was drawn. The draws come from a
// PCG generator seeded with (seed, b), so resample b is the same whatever order or goroutine
// computes it, and the whole bootstrap is reproducible from the seed.
func ResampleWeights(w []int32, seed uint64, b int) {
	clear(w)
	n := uint64(len(w))
	if n == 0 {
		return
	}
	r := rand.NewPCG(seed, 0xb0075742^uint64(b))
	for range n {
		hi, _ := bits.Mul64(r.Uint64(), n) // Lemire's multiply-shift: uniform in [0, n)
		w[hi]++
	}
}

// Bootstrap evaluates stat on resamples 0..b-1 of n samples (see ResampleWeights) on all cores and
// returns stat's values by resample index, so the result does not depend on scheduling. stat
// receives the worker number (0..GOMAXPROCS-1) for per-worker scratch memory, and the weights,
// which it must not keep.
func Bootstrap[T any](n, b int, seed uint64, stat func(worker int, w []int32) T) []T {
	out := make([]T, b)
	workers := min(runtime.GOMAXPROCS(0), max(b, 1))
	var next atomic.Int64
	var wg sync.WaitGroup
	for k := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := make([]int32, n)
			for {
				i := int(next.Add(1) - 1)
				if i >= b {
					return
				}
				ResampleWeights(w, seed, i)
				out[i] = stat(k, w)
			}
		}()
	}
	wg.Wait()
	return out
}

// Interval is a point estimate with a bootstrap confidence interval. Lo and Hi are NaN when fewer
// than two resamples gave a value (a metric undefined on most resamples, e.g. ROC-AUC of a slice
// with one positive).
type Interval struct {
	Value float64 `json:"value"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	// N is the number of resamples on which the metric was defined.
	N int `json:"n"`
}

// PercentileInterval returns the percentile bootstrap interval at the given level (0.95 for a 95%
// interval) of the values that are not NaN: the (1−level)/2 and (1+level)/2 quantiles with linear
// interpolation between order statistics (NumPy's default "linear" method), and how many values
// were used. With fewer than two values both bounds are NaN.
func PercentileInterval(values []float64, level float64) (lo, hi float64, n int) {
	xs := make([]float64, 0, len(values))
	for _, v := range values {
		if !math.IsNaN(v) {
			xs = append(xs, v)
		}
	}
	if len(xs) < 2 {
		return math.NaN(), math.NaN(), len(xs)
	}
	slices.Sort(xs)
	return Quantile(xs, (1-level)/2), Quantile(xs, (1+level)/2), len(xs)
}

// Quantile returns the q-quantile of sorted (ascending, no NaN) by linear interpolation between
// the order statistics at positions q·(n−1) (NumPy's default); NaN when sorted is empty.
func Quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(sorted)-1)
	i := int(math.Floor(pos))
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	if i < 0 {
		return sorted[0]
	}
	f := pos - float64(i)
	return sorted[i] + f*(sorted[i+1]-sorted[i])
}

// intervalJSON is the wire form of Interval: NaN (undefined) is written as null.
type intervalJSON struct {
	Value *float64 `json:"value"`
	Lo    *float64 `json:"lo"`
	Hi    *float64 `json:"hi"`
	N     int      `json:"n"`
}

func nanToNil(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func nilToNaN(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// MarshalJSON writes the interval with null for an undefined (NaN) value or bound.
func (iv Interval) MarshalJSON() ([]byte, error) {
	return json.Marshal(intervalJSON{Value: nanToNil(iv.Value), Lo: nanToNil(iv.Lo), Hi: nanToNil(iv.Hi), N: iv.N})
}

// UnmarshalJSON reads null as NaN.
func (iv *Interval) UnmarshalJSON(data []byte) error {
	var w intervalJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*iv = Interval{Value: nilToNaN(w.Value), Lo: nilToNaN(w.Lo), Hi: nilToNaN(w.Hi), N: w.N}
	return nil
}
