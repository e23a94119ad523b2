// Package threshold implements the "threshold" stage kind: the decision threshold of a model chosen
// exactly on a validation split — the best over every distinct predicted probability, not a grid —
// by maximal F-beta, a minimum recall, or Youden's J, with the curve of precision, recall, F-beta
// and specificity against the threshold (CSV and PNG) and the metrics at the chosen point.
package threshold

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/predict"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/stages/modelref"
)

// Output names of a threshold node.
const (
	outJSON  = "threshold.json"
	outCurve = "curve.csv"
	outPlot  = "curve.png"
)

// Methods are the accepted values of method.
var Methods = []string{MaxFBeta, MinRecall, Youden}

// The selection methods.
const (
	MaxFBeta  = "max_f_beta"
	MinRecall = "min_recall"
	Youden    = "youden"
)

// Kind is the threshold stage kind.
type Kind struct{}

// New returns the threshold kind.
func New() stages.Kind { return Kind{} }

// Name implements stages.Kind.
func (Kind) Name() string { return "threshold" }

// Version implements stages.Kind.
func (Kind) Version() string { return "1" }

// Doc implements stages.Kind.
func (Kind) Doc() string {
	return "Chooses a model's decision threshold on a validation split, exactly: every distinct predicted probability " +
		"is a candidate and ties go to the higher threshold. Methods: max_f_beta (beta), min_recall (target), youden. " +
		"A model with seeds is thresholded on the mean prediction of its seeds, or per seed with per_seed = true. " +
		"Outputs threshold.json, curve.csv and curve.png; threshold.NAME.value is the threshold, a number."
}

// Attrs implements stages.Kind.
func (Kind) Attrs() []stages.Attr {
	return []stages.Attr{
		{Name: "model", Type: cty.DynamicPseudoType, Required: true, Doc: `A model reference: train.NAME, train.NAME["SEED"] or sweep.NAME.champion.`},
		{Name: "dataset", Type: cty.DynamicPseudoType, Default: cty.NullVal(cty.DynamicPseudoType),
			Doc: "dataset.NAME or data_audit.NAME.clean; default: the data the model was trained on, when its reference says."},
		{Name: "split", Type: cty.String, Default: cty.StringVal("valid"), Doc: `The split to choose on: "valid" or "train" (never "test").`},
		{Name: "method", Type: cty.String, Default: cty.StringVal(MaxFBeta), Doc: `"max_f_beta" (beta), "min_recall" (target) or "youden".`},
		{Name: "beta", Type: cty.Number, Default: cty.NumberIntVal(2), Doc: "Beta of F-beta (recall weighs beta times precision)."},
		{Name: "target", Type: cty.Number, Default: cty.NullVal(cty.Number), Doc: "Minimum recall for min_recall, in [0, 1]."},
		{Name: "per_seed", Type: cty.Bool, Default: cty.False, Doc: "Choose one threshold per seed instead of one for the mean prediction of the seeds."},
		{Name: "batch_size", Type: cty.Number, Default: cty.NumberIntVal(256), NotInKey: true, Doc: "Patches predicted at a time; results do not depend on it."},
	}
}

// Expose implements stages.Kind: value (a number), method, mode, per_seed (seed → number) and
// the output files.
func (Kind) Expose(cfg cty.Value, outs map[string]stages.Output) cty.Value {
	v := map[string]cty.Value{"kind": cty.StringVal("threshold"), "value": cty.UnknownVal(cty.Number),
		"method": cfg.GetAttr("method"), "mode": cty.UnknownVal(cty.String), "per_seed": cty.DynamicVal,
		"report": cty.UnknownVal(cty.String), "curve": cty.UnknownVal(cty.String), "plot": cty.UnknownVal(cty.String)}
	if outs == nil {
		return cty.ObjectVal(v)
	}
	v["report"], v["curve"], v["plot"] = cty.StringVal(outs[outJSON].Path), cty.StringVal(outs[outCurve].Path), cty.StringVal(outs[outPlot].Path)
	r, err := ReadResult(outs[outJSON].Path)
	if err != nil {
		return cty.ObjectVal(v)
	}
	v["value"], v["mode"] = cty.NumberFloatVal(r.Value), cty.StringVal(r.Mode)
	seeds := map[string]cty.Value{}
	for s, p := range r.PerSeed {
		seeds[s] = cty.NumberFloatVal(p.Value)
	}
	v["per_seed"] = cty.EmptyObjectVal
	if len(seeds) > 0 {
		v["per_seed"] = cty.ObjectVal(seeds)
	}
	return cty.ObjectVal(v)
}

// config is the decoded configuration.
type config struct {
	model   modelref.Model
	split   pcam.Split
	method  string
	beta    float64
	target  float64
	perSeed bool
	batch   int
}

// configError is a configuration problem tied to an attribute.
type configError struct {
	attr, msg string
}

func (e *configError) Error() string { return e.attr + ": " + e.msg }

// checkStatic checks the attributes that are known before anything runs.
func checkStatic(cfg cty.Value) []*configError {
	var errs []*configError
	if s := cfg.GetAttr("split"); s.IsKnown() && !s.IsNull() {
		switch sp := s.AsString(); {
		case sp == string(pcam.Test):
			errs = append(errs, &configError{"split", `"test" is the held-out split: choosing a threshold on it makes every test metric optimistic. Choose on "valid" and evaluate on "test" with an evaluate stage`})
		case !slices.Contains(pcam.Splits, pcam.Split(sp)):
			errs = append(errs, &configError{"split", fmt.Sprintf("%q is not a split; use \"valid\" (or \"train\")", sp)})
		}
	}
	m := cfg.GetAttr("method")
	if m.IsKnown() && !m.IsNull() && !slices.Contains(Methods, m.AsString()) {
		errs = append(errs, &configError{"method", fmt.Sprintf("%q is not a method; use one of %q", m.AsString(), Methods)})
	}
	if b := cfg.GetAttr("beta"); b.IsKnown() && !b.IsNull() {
		if f, _ := b.AsBigFloat().Float64(); !(f >= 0) || math.IsInf(f, 0) {
			errs = append(errs, &configError{"beta", fmt.Sprintf("%v must be a number >= 0", f)})
		}
	}
	t := cfg.GetAttr("target")
	if t.IsKnown() && !t.IsNull() {
		if f, _ := t.AsBigFloat().Float64(); !(f >= 0 && f <= 1) {
			errs = append(errs, &configError{"target", fmt.Sprintf("the minimum recall %v is outside [0, 1]", f)})
		}
	} else if t.IsNull() && m.IsKnown() && !m.IsNull() && m.AsString() == MinRecall {
		errs = append(errs, &configError{"target", `method "min_recall" needs target, the minimum recall in [0, 1] (e.g. target = 0.95)`})
	}
	if bs := cfg.GetAttr("batch_size"); bs.IsKnown() && !bs.IsNull() {
		var n int
		if err := gocty.FromCtyValue(bs, &n); err != nil || n < 1 || n > predict.MaxBatch {
			errs = append(errs, &configError{"batch_size", fmt.Sprintf("must be a whole number from 1 to %d", predict.MaxBatch)})
		}
	}
	if mv := cfg.GetAttr("model"); mv.IsWhollyKnown() {
		if _, err := modelref.Of(mv); err != nil {
			errs = append(errs, &configError{"model", err.Error()})
		}
	}
	return errs
}

// Prepare implements stages.Kind.
func (Kind) Prepare(cfg cty.Value, at stages.RangeFunc) (*stages.Task, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	for _, e := range checkStatic(cfg) {
		diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid threshold configuration",
			Detail: e.Error() + ".", Subject: at(e.attr)})
	}
	if cfg.GetAttr("model").IsWhollyKnown() && cfg.GetAttr("dataset").IsWhollyKnown() {
		if m, err := modelref.Of(cfg.GetAttr("model")); err == nil {
			if _, err := m.View(cfg.GetAttr("dataset")); err != nil {
				diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid threshold configuration",
					Detail: err.Error() + ".", Subject: at("dataset")})
			}
		}
	}
	task := &stages.Task{Outputs: map[string]stages.Output{outJSON: {}, outCurve: {}, outPlot: {}}}
	if mv := cfg.GetAttr("model"); mv.IsWhollyKnown() {
		if m, err := modelref.Of(mv); err == nil {
			task.Inputs = m.ProjectFiles()
		}
	}
	return task, diags
}

// decode converts a wholly known configuration.
func decode(cfg cty.Value) (*config, error) {
	if errs := checkStatic(cfg); len(errs) > 0 {
		return nil, errs[0]
	}
	c := &config{split: pcam.Split(cfg.GetAttr("split").AsString()), method: cfg.GetAttr("method").AsString(),
		perSeed: cfg.GetAttr("per_seed").True()}
	var err error
	if c.model, err = modelref.Of(cfg.GetAttr("model")); err != nil {
		return nil, &configError{"model", err.Error()}
	}
	c.beta, _ = cfg.GetAttr("beta").AsBigFloat().Float64()
	if t := cfg.GetAttr("target"); !t.IsNull() {
		c.target, _ = t.AsBigFloat().Float64()
	}
	_ = gocty.FromCtyValue(cfg.GetAttr("batch_size"), &c.batch)
	return c, nil
}

// Execute implements stages.Kind.
func (Kind) Execute(ctx context.Context, env *stages.Env) error {
	c, err := decode(env.Config)
	if err != nil {
		return err
	}
	c.model = c.model.Abs(env.ProjectDir)
	view, err := c.model.View(env.Config.GetAttr("dataset"))
	if err != nil {
		return err
	}
	names, _ := c.model.Members()
	fmt.Fprintf(env.Log, "threshold %s: predicting the %s split of %s with %d model(s)\n", env.Node, c.split, view.Dir, len(names))
	preds, err := predict.PredictSplit(ctx, c.model.BestCheckpoints(), view, c.split, predict.Options{BatchSize: c.batch}, nil)
	if err != nil {
		return fmt.Errorf("model: %w", err)
	}
	res, curves, err := choose(c, names, preds)
	if err != nil {
		return err
	}
	res.Split, res.Dataset = string(c.split), view.Dir
	if err := writeOutputs(env, res, curves); err != nil {
		return err
	}
	fmt.Fprintln(env.Log, res.Line(env.Node))
	return nil
}
