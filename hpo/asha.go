package hpo

import (
	"fmt"
	"math"
	"sort"
)

// ASHA is asynchronous successive halving (Li et al. 2020). A trial reports
// its objective at each rung, MinEpochs*ReductionFactor^k epochs for k = 0,
// 1, ... strictly below MaxEpochs, and continues only while it stays in the
// top 1/ReductionFactor of the values seen at that rung.
type ASHA struct {
	MinEpochs, ReductionFactor, MaxEpochs int
}

// Validate reports settings that cannot define rungs: MinEpochs < 1,
// ReductionFactor < 2 or MaxEpochs < 1. MinEpochs >= MaxEpochs is allowed
// and gives no rungs (no trial is ever stopped).
func (a ASHA) Validate() error {
	switch {
	case a.MinEpochs < 1:
		return fmt.Errorf("asha: min_epochs must be at least 1, got %d", a.MinEpochs)
	case a.ReductionFactor < 2:
		return fmt.Errorf("asha: reduction_factor must be at least 2, got %d", a.ReductionFactor)
	case a.MaxEpochs < 1:
		return fmt.Errorf("asha: the trial's epochs must be at least 1, got %d", a.MaxEpochs)
	}
	return nil
}

// Rungs lists the epochs at which a trial is compared, ascending:
// MinEpochs*ReductionFactor^k for every k with the product strictly below
// MaxEpochs. It is empty when the settings are invalid or MinEpochs >= MaxEpochs.
func (a ASHA) Rungs() []int {
	if a.Validate() != nil {
		return nil
	}
	var out []int
	for r := a.MinEpochs; r < a.MaxEpochs; {
		out = append(out, r)
		if r > math.MaxInt/a.ReductionFactor {
			break
		}
		r *= a.ReductionFactor
	}
	return out
}

// Promote reports whether a trial whose value (to be minimized) at a rung is
// v stays in the top 1/ReductionFactor of values, the values observed at that
// rung so far (v included). The number of places is k = len(values) /
// ReductionFactor, at least 1 (so the first trials at a rung continue when
// they are the best so far, as Optuna's successive-halving pruner does); the
// trial continues when v <= the k-th smallest value.
//
// Ties: every trial whose value equals the k-th smallest continues, so the
// decision depends only on the multiset of values, never on their order or
// on trial identities. NaN values count as worse than any number; a NaN v
// never continues. Invalid settings (see Validate) promote nothing.
func (a ASHA) Promote(values []float64, v float64) bool {
	if a.Validate() != nil || math.IsNaN(v) {
		return false
	}
	vs := make([]float64, 0, len(values)+1)
	found := false
	for _, x := range values {
		if math.IsNaN(x) {
			x = math.Inf(1)
		}
		if x == v {
			found = true
		}
		vs = append(vs, x)
	}
	if !found { // tolerate a caller that left v out
		vs = append(vs, v)
	}
	sort.Float64s(vs)
	k := len(vs) / a.ReductionFactor
	if k < 1 {
		k = 1
	}
	return v <= vs[k-1]
}
