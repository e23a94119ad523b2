package cli

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/pcamflow/pcamflow/track"
)

// Metric names logged by the train stage that get special treatment in tables.
const (
	gradMeanPrefix = "grad_norm_mean/" // followed by a layer name
	gradMaxPrefix  = "grad_norm_max/"
)

// preferredOrder is the column order of metric tables; other metrics follow alphabetically.
var preferredOrder = []string{"train_loss", "val_loss", "val_roc_auc", "val_f_beta", "val_accuracy", "lr",
	"epoch_seconds", "images_per_second", "data_wait_share"}

// metricHistory is the metric history of one node run: values by metric name and step (epoch).
type metricHistory struct {
	steps  []int
	names  []string
	values map[string]map[int]float64
}

// newMetricHistory indexes metric rows.
func newMetricHistory(rows []track.MetricRow) *metricHistory {
	h := &metricHistory{values: map[string]map[int]float64{}}
	for _, r := range rows {
		if h.values[r.Name] == nil {
			h.values[r.Name] = map[int]float64{}
			h.names = append(h.names, r.Name)
		}
		h.values[r.Name][r.Step] = r.Value
		if !slices.Contains(h.steps, r.Step) {
			h.steps = append(h.steps, r.Step)
		}
	}
	slices.Sort(h.steps)
	slices.Sort(h.names)
	return h
}

// empty reports whether there are no metrics.
func (h *metricHistory) empty() bool { return len(h.names) == 0 }

// lastStep is the highest step with any metric, 0 when there is none.
func (h *metricHistory) lastStep() int {
	if len(h.steps) == 0 {
		return 0
	}
	return h.steps[len(h.steps)-1]
}

// at returns the value of metric name at step.
func (h *metricHistory) at(name string, step int) (float64, bool) {
	v, ok := h.values[name][step]
	return v, ok
}

// final returns the value of metric name at the last step at which it was logged.
func (h *metricHistory) final(name string) (float64, bool) {
	byStep := h.values[name]
	best, found := 0, false
	for s := range byStep {
		if !found || s > best {
			best, found = s, true
		}
	}
	return byStep[best], found
}

// finals returns the final value of every metric.
func (h *metricHistory) finals() map[string]metricValue {
	out := make(map[string]metricValue, len(h.names))
	for _, n := range h.names {
		v, _ := h.final(n)
		out[n] = metricValue(v)
	}
	return out
}

// isGradNorm reports whether a metric is one of the per-layer gradient norms.
func isGradNorm(name string) bool {
	return strings.HasPrefix(name, gradMeanPrefix) || strings.HasPrefix(name, gradMaxPrefix)
}

// orderMetrics sorts metric names for display: the preferred order first, then the others
// alphabetically, per-layer gradient norms last.
func orderMetrics(names []string) []string {
	rank := func(n string) int {
		if i := slices.Index(preferredOrder, n); i >= 0 {
			return i
		}
		if isGradNorm(n) {
			return len(preferredOrder) + 1
		}
		return len(preferredOrder)
	}
	out := slices.Clone(names)
	slices.SortStableFunc(out, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	return out
}

// gradSummary summarises the per-layer gradient norms of one step: the range of the layers'
// mean norms ("0.0123-0.312") and the largest max norm with its layer ("1.93 fc1"). Both are
// empty when the step has no gradient norms; a NaN anywhere shows as NaN.
func (h *metricHistory) gradSummary(step int) (meanRange, maxLayer string) {
	lo, hi := math.Inf(1), math.Inf(-1)
	top, topLayer, found := math.Inf(-1), "", false
	for _, n := range h.names {
		v, ok := h.at(n, step)
		if !ok {
			continue
		}
		if layer, isMean := strings.CutPrefix(n, gradMeanPrefix); isMean && layer != "" {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		// The largest max norm wins, and a NaN (divergence) beats everything.
		if layer, isMax := strings.CutPrefix(n, gradMaxPrefix); isMax {
			if !found || (!math.IsNaN(top) && (math.IsNaN(v) || v > top)) {
				top, topLayer, found = v, layer, true
			}
		}
	}
	if !math.IsInf(lo, 1) {
		meanRange = metricCell(lo) + "-" + metricCell(hi)
	}
	if found {
		maxLayer = metricCell(top) + " " + topLayer
	}
	return meanRange, maxLayer
}

// hasGradNorms reports whether any per-layer gradient norm was logged.
func (h *metricHistory) hasGradNorms() bool {
	return slices.ContainsFunc(h.names, isGradNorm)
}

// metricValue is a float64 that encodes NaN and ±Inf as the JSON strings "NaN", "+Inf", "-Inf"
// (JSON has no such numbers), like track.MetricRow.
type metricValue float64

// MarshalJSON encodes v as a number, or as a string for NaN and infinities.
func (v metricValue) MarshalJSON() ([]byte, error) {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return json.Marshal(strconv.FormatFloat(f, 'g', -1, 64))
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}
