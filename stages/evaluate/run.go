package evaluate

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/pcamflow/pcamflow/metrics"
	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/predict"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/stages/dataset"
)

// Report is the report.json output.
type Report struct {
	Node      string `json:"node"`
	Split     string `json:"split"`
	Dataset   string `json:"dataset"`
	N         int    `json:"n"`
	Positives int    `json:"positives"`
	// Model says what was evaluated: one checkpoint, or the mean prediction of seeds.
	Model     ModelInfo     `json:"model"`
	Threshold ThresholdInfo `json:"threshold"`
	Beta      float64       `json:"beta"`
	Bootstrap BootstrapInfo `json:"bootstrap"`
	// Metrics are the model's metrics with intervals; Confusion its confusion matrix at the threshold.
	Metrics   MetricSet         `json:"metrics"`
	Confusion metrics.Confusion `json:"confusion"`
	// PerSeed are the point metrics of every seed's own predictions (at the same threshold).
	PerSeed []SeedMetrics `json:"per_seed,omitempty"`
	// Calibration is the reliability diagram behind reliability.png and the ECE.
	Calibration []metrics.CalibrationBin `json:"calibration"`
	Baselines   []Baseline               `json:"baselines"`
	Slices      []Slice                  `json:"slices"`
	Worst       Worst                    `json:"worst_slice"`
	Errors      ErrorAnalysis            `json:"errors"`
	Notes       []string                 `json:"notes,omitempty"`
}

// ModelInfo describes the evaluated model.
type ModelInfo struct {
	// Mode is "single" or "ensemble" (the mean prediction of Seeds).
	Mode        string   `json:"mode"`
	Seeds       []string `json:"seeds,omitempty"`
	Checkpoints []string `json:"checkpoints"`
}

// ThresholdInfo is the decision threshold and where it came from.
type ThresholdInfo struct {
	Value  float64 `json:"value"`
	Source string  `json:"source"`
}

// BootstrapInfo describes the intervals.
type BootstrapInfo struct {
	Resamples int     `json:"resamples"`
	Seed      int64   `json:"seed"`
	Level     float64 `json:"level"`
	Method    string  `json:"method"`
}

// SeedMetrics are one seed's point metrics.
type SeedMetrics struct {
	Seed    string         `json:"seed"`
	Metrics map[string]Num `json:"metrics"`
}

// Baseline is one baseline's metrics on the same patches and the paired difference of ROC-AUC.
type Baseline struct {
	Name string `json:"name"`
	// Kind is "majority", "colour_logistic" or "model".
	Kind      string    `json:"kind"`
	Threshold float64   `json:"threshold"`
	Metrics   MetricSet `json:"metrics"`
	// ROCAUCDifference is the model's ROC-AUC minus the baseline's, with a paired bootstrap interval
	// (the same resamples for both).
	ROCAUCDifference metrics.Interval `json:"roc_auc_difference"`
	Detail           any              `json:"detail,omitempty"`
}

// Slice is one slice's metrics.
type Slice struct {
	Slice     string    `json:"slice"`
	Family    string    `json:"family"`
	Name      string    `json:"name"`
	Rule      string    `json:"rule"`
	Count     int       `json:"count"`
	Positives int       `json:"positives"`
	Metrics   MetricSet `json:"metrics"`
	// FalseNegatives and FalsePositives count the errors at the threshold; ErrorRate is their share.
	FalseNegatives int     `json:"false_negatives"`
	FalsePositives int     `json:"false_positives"`
	ErrorRate      float64 `json:"error_rate"`
	// Eligible says whether the slice can be named the worst (count >= min_slice_count and both
	// classes present).
	Eligible bool `json:"eligible"`
}

// Worst names the worst eligible slice.
type Worst struct {
	Slice    string `json:"slice"`
	By       string `json:"by"`
	Value    Num    `json:"value"`
	Lo       Num    `json:"lo"`
	Hi       Num    `json:"hi"`
	Count    int    `json:"count"`
	MinCount int    `json:"min_count"`
}

// Num is a float64 written to JSON as null when it is NaN or infinite (undefined).
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(n))
}

// UnmarshalJSON reads null as NaN.
func (n *Num) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	var f float64
	err := json.Unmarshal(data, &f)
	*n = Num(f)
	return err
}

// ErrorAnalysis lists the most confident errors shown in the montages.
type ErrorAnalysis struct {
	FalseNegatives []ErrorPatch `json:"false_negatives"`
	FalsePositives []ErrorPatch `json:"false_positives"`
}

// ErrorPatch is one misclassified patch; Position is its place in the montage (row-major).
type ErrorPatch struct {
	Position    int     `json:"position"`
	Index       int     `json:"index"`
	ID          string  `json:"id"`
	Label       uint8   `json:"label"`
	Probability float64 `json:"probability"`
}

// decodeReport parses report.json bytes.
func decodeReport(data []byte, path string) (*Report, error) {
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("evaluation report %s is corrupt: %w", path, err)
	}
	return &r, nil
}

// run is one execution.
type run struct {
	env *stages.Env
	c   *config
	// baseProbs are the baselines' probabilities, in Report.Baselines order.
	baseProbs [][]float64
}

// execute predicts, measures, analyses and writes the outputs.
func (e *run) execute(ctx context.Context, view dataset.View) error {
	c, env := e.c, e.env
	groups, names, checkpoints, owners := c.members()
	models, err := loadModels(checkpoints, owners)
	if err != nil {
		return err
	}
	defer func() {
		for _, m := range models {
			m.Close()
		}
	}()
	src, err := predict.OpenSplit(view, c.split)
	if err != nil {
		return fmt.Errorf("split: %w", err)
	}
	defer src.Close()
	var meta []pcam.MetaRow
	if h, ok := src.R.(*pcam.H5Reader); ok {
		meta = h.Meta()
	}
	fmt.Fprintf(env.Log, "evaluate %s: %d patches of the %s split of %s, %d checkpoint(s)\n", env.Node, src.Len(), c.split, view.Dir, len(models))
	var feats []Features
	var measure time.Duration
	start := time.Now()
	preds, err := predict.Collect(ctx, src, predict.Predictors(models), predict.Options{BatchSize: c.batch}, func(b *predict.Batch) error {
		t0 := time.Now()
		feats = append(feats, measureBatch(b.Pix)...)
		measure += time.Since(t0)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Log, "timing: read and predicted %d patches with %d checkpoint(s) in %s (of which measuring slice features %s)\n",
		len(preds.Labels), len(models), since(start), measure.Round(time.Millisecond))
	probs := predict.Mean(preds.Probs[groups[0][0]:groups[0][1]])
	rep := &Report{Node: env.Node, Split: string(c.split), Dataset: view.Dir, N: len(preds.Labels), Beta: c.beta,
		Threshold: ThresholdInfo{Value: c.threshold, Source: c.thrSource},
		Bootstrap: BootstrapInfo{Resamples: c.bootstrap, Seed: env.Seed, Level: Level, Method: "percentile; each resample draws n patches with replacement (seeded by the pipeline seed); the model, baselines and slices share the resamples"}}
	for _, y := range preds.Labels {
		rep.Positives += int(y)
	}
	rep.Model = ModelInfo{Mode: "single", Checkpoints: checkpoints[groups[0][0]:groups[0][1]]}
	if names[0] != "" {
		rep.Model.Mode, rep.Model.Seeds = "ensemble", names[groups[0][0]:groups[0][1]]
	}
	defs, notes, err := buildSlices(&sliceInput{cfg: c, split: c.split, view: view, preds: preds, feats: feats, meta: meta, projectDir: env.ProjectDir})
	if err != nil {
		return err
	}
	rep.Notes = append(rep.Notes, notes...) // slices before baselines and bootstrap: a bad slice file fails early
	main, err := metrics.NewScored(preds.Labels, probs, c.threshold, c.beta, c.bins)
	if err != nil {
		return err
	}
	start = time.Now()
	baseScored, err := e.baselines(ctx, view, rep, preds, feats, groups)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Log, "timing: baselines fitted and predicted in %s\n", since(start))
	sliceSets := make([]*metrics.Scored, len(defs))
	for k, d := range defs {
		if sliceSets[k], err = metrics.NewScoredSubset(preds.Labels, probs, d.idx, c.threshold, c.beta, c.bins); err != nil {
			return fmt.Errorf("slice %s: %w", d.ID(), err)
		}
	}
	sets := append(append([]*metrics.Scored{main}, baseScored...), sliceSets...)
	fmt.Fprintf(env.Log, "bootstrap: %d resamples of the %d patches, evaluated for the model, %d baseline(s) and %d slices\n",
		c.bootstrap, rep.N, len(baseScored), len(defs))
	start = time.Now()
	points, res := bootstrapSets(rep.N, sets, c.bootstrap, bootstrapSeed(env.Seed))
	fmt.Fprintf(env.Log, "timing: bootstrap in %s\n", since(start))
	rep.Metrics = intervals(points, res, 0)
	for k := range rep.Baselines {
		rep.Baselines[k].Metrics = intervals(points, res, 1+k)
		rep.Baselines[k].ROCAUCDifference = aucDifference(points, res, 0, 1+k)
	}
	rep.Confusion = points[0].Confusion
	rep.Calibration = metrics.Calibration(preds.Labels, probs, c.bins)
	if len(rep.Model.Seeds) > 1 {
		for k, name := range rep.Model.Seeds {
			s, err := metrics.NewScored(preds.Labels, preds.Probs[groups[0][0]+k], c.threshold, c.beta, c.bins)
			if err != nil {
				return err
			}
			rep.PerSeed = append(rep.PerSeed, SeedMetrics{Seed: name, Metrics: plain(s.Values(nil, nil))})
		}
	}
	e.slices(rep, defs, points[1+len(baseScored):], func(k int) MetricSet { return intervals(points, res, 1+len(baseScored)+k) })
	rep.Errors = topErrors(preds, probs, c.threshold, c.montage)
	start = time.Now()
	if err := e.write(rep, preds, probs, feats, defs, src); err != nil {
		return err
	}
	fmt.Fprintf(env.Log, "timing: outputs (report, plots, montages) written in %s\n", since(start))
	return nil
}

// since is the time since t, rounded for the log.
func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }

// plain returns the point metrics as a map.
func plain(v metrics.Values) map[string]Num {
	out := map[string]Num{}
	for _, n := range metricNames {
		out[n] = Num(valueOf(v, n))
	}
	return out
}

// baselines computes the baselines' predictions and returns them prepared for the bootstrap, in
// rep.Baselines order.
func (e *run) baselines(ctx context.Context, view dataset.View, rep *Report, preds *predict.Predictions, feats []Features, groups [][2]int) ([]*metrics.Scored, error) {
	c := e.c
	var out []*metrics.Scored
	add := func(b Baseline, probs []float64) error {
		s, err := metrics.NewScored(preds.Labels, probs, b.Threshold, c.beta, c.bins)
		if err != nil {
			return fmt.Errorf("baseline %s: %w", b.Name, err)
		}
		rep.Baselines = append(rep.Baselines, b)
		out = append(out, s)
		e.baseProbs = append(e.baseProbs, probs)
		return nil
	}
	if c.majority || c.colour {
		fit, err := fitTrain(ctx, view, c.colour, c.colourLimit, c.batch)
		if err != nil {
			return nil, fmt.Errorf("baselines: %w", err)
		}
		if c.majority {
			probs := make([]float64, len(preds.Labels))
			for i := range probs {
				probs[i] = fit.Prior
			}
			detail := map[string]any{"train_prior": fit.Prior, "train_patches": fit.TrainN,
				"rule": "predicts the train positive fraction for every patch; positive when it is >= 0.5"}
			if err := add(Baseline{Name: "majority", Kind: "majority", Threshold: 0.5, Detail: detail}, probs); err != nil {
				return nil, err
			}
		}
		if c.colour {
			probs := make([]float64, len(feats))
			for i, f := range feats {
				probs[i] = fit.Colour.Predict(f.Colour())
			}
			detail := map[string]any{"features": []string{"mean_r", "mean_g", "mean_b", "std_r", "std_g", "std_b"},
				"fit_patches": fit.ColourFit, "model": fit.Colour}
			if err := add(Baseline{Name: "colour_logistic", Kind: "colour_logistic", Threshold: 0.5, Detail: detail}, probs); err != nil {
				return nil, err
			}
		}
	}
	for k, b := range c.refBaselines {
		g := groups[k+1]
		probs := predict.Mean(preds.Probs[g[0]:g[1]])
		detail := map[string]any{"checkpoints": b.model.BestCheckpoints()}
		if err := add(Baseline{Name: b.name, Kind: "model", Threshold: c.threshold, Detail: detail}, probs); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// slices fills every slice's metrics (point values points[k], intervals from set(k)) and names
// the worst eligible slice.
func (e *run) slices(rep *Report, defs []sliceDef, points []metrics.Values, set func(k int) MetricSet) {
	c := e.c
	rep.Worst = Worst{By: c.worstBy, MinCount: c.minCount, Value: Num(math.NaN()), Lo: Num(math.NaN()), Hi: Num(math.NaN())}
	worst := -1
	for k, d := range defs {
		v := points[k]
		sl := Slice{Slice: d.ID(), Family: d.Family, Name: d.Name, Rule: d.Rule, Count: len(d.idx), Metrics: set(k),
			FalseNegatives: v.Confusion.FN, FalsePositives: v.Confusion.FP}
		sl.Positives = v.Confusion.TP + v.Confusion.FN
		sl.ErrorRate = float64(sl.FalseNegatives+sl.FalsePositives) / float64(sl.Count)
		sl.Eligible = sl.Count >= c.minCount && sl.Positives > 0 && sl.Positives < sl.Count
		rep.Slices = append(rep.Slices, sl)
		m := sl.Metrics[c.worstBy].Value
		if !sl.Eligible || math.IsNaN(m) {
			continue
		}
		if worst < 0 || worse(c.worstBy, m, rep.Slices[worst].Metrics[c.worstBy].Value) {
			worst = len(rep.Slices) - 1
		}
	}
	if worst >= 0 {
		w := rep.Slices[worst]
		iv := w.Metrics[c.worstBy]
		rep.Worst.Slice, rep.Worst.Value, rep.Worst.Lo, rep.Worst.Hi, rep.Worst.Count = w.Slice, Num(iv.Value), Num(iv.Lo), Num(iv.Hi), w.Count
	} else if len(defs) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("no slice has at least %d patches of both classes: none is named the worst", c.minCount))
	}
}

// worse reports whether metric value a is worse than b.
func worse(metric string, a, b float64) bool {
	if lowerIsBetter(metric) {
		return a > b
	}
	return a < b
}

// topErrors returns the k most confident false negatives (lowest probability among positives
// predicted negative) and false positives (highest among negatives predicted positive); ties go
// to the lower index.
func topErrors(preds *predict.Predictions, probs []float64, thr float64, k int) ErrorAnalysis {
	var fn, fp []int
	for i, y := range preds.Labels {
		switch pos := probs[i] >= thr; {
		case y == 1 && !pos:
			fn = append(fn, i)
		case y == 0 && pos:
			fp = append(fp, i)
		}
	}
	sort.SliceStable(fn, func(a, b int) bool { return probs[fn[a]] < probs[fn[b]] })
	sort.SliceStable(fp, func(a, b int) bool { return probs[fp[a]] > probs[fp[b]] })
	pick := func(idx []int) []ErrorPatch {
		out := []ErrorPatch{}
		for p, i := range idx[:min(k, len(idx))] {
			out = append(out, ErrorPatch{Position: p, Index: preds.Index[i], ID: preds.ID[i], Label: preds.Labels[i], Probability: probs[i]})
		}
		return out
	}
	return ErrorAnalysis{FalseNegatives: pick(fn), FalsePositives: pick(fp)}
}
