// Package evaluate implements the "evaluate" stage kind: a model's metrics on a held-out split at
// its decision threshold and threshold-free, each with a seeded bootstrap 95% interval; baselines
// (majority class, a colour-statistics logistic regression fitted on train, other models) with a
// paired bootstrap of the ROC-AUC difference; metrics per slice (brightness, tissue, stain
// intensity, slide, centre, data-audit flags, user slices) with the worst slice named; and the
// error analysis (most confident false negatives and positives).
package evaluate

import (
	"context"
	"fmt"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/predict"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/stages/modelref"
)

// Output names of an evaluate node.
const (
	outReport      = "report.json"
	outSummary     = "summary.md"
	outPredictions = "predictions.csv"
	outSlices      = "slices.csv"
	outROC         = "roc.png"
	outPR          = "pr.png"
	outReliability = "reliability.png"
	outMontages    = "montages"
)

// Kind is the evaluate stage kind.
type Kind struct{}

// New returns the evaluate kind.
func New() stages.Kind { return Kind{} }

// Name implements stages.Kind.
func (Kind) Name() string { return "evaluate" }

// Version implements stages.Kind.
func (Kind) Version() string { return "1" }

// Doc implements stages.Kind.
func (Kind) Doc() string {
	return "Evaluates a model on a held-out split: ROC-AUC, PR-AUC, F-beta, precision, recall, specificity, accuracy, " +
		"Brier score, ECE and the confusion matrix at the threshold, with seeded bootstrap 95% intervals; baselines " +
		"with a paired bootstrap of the ROC-AUC difference; metrics per slice with the worst slice named; montages of " +
		"the most confident errors. Outputs report.json, summary.md, predictions.csv, slices.csv, roc.png, pr.png, " +
		"reliability.png and montages/."
}

// Expose implements stages.Kind: the output paths and the headline numbers.
func (Kind) Expose(cfg cty.Value, outs map[string]stages.Output) cty.Value {
	v := map[string]cty.Value{"kind": cty.StringVal("evaluation"), "report": cty.UnknownVal(cty.String),
		"summary": cty.UnknownVal(cty.String), "montages": cty.UnknownVal(cty.String), "predictions": cty.UnknownVal(cty.String),
		"roc_auc": cty.UnknownVal(cty.Number), "f_beta": cty.UnknownVal(cty.Number), "threshold": cty.UnknownVal(cty.Number),
		"worst_slice": cty.UnknownVal(cty.String)}
	if outs == nil {
		return cty.ObjectVal(v)
	}
	v["report"], v["summary"] = cty.StringVal(outs[outReport].Path), cty.StringVal(outs[outSummary].Path)
	v["montages"], v["predictions"] = cty.StringVal(outs[outMontages].Path), cty.StringVal(outs[outPredictions].Path)
	if r, err := ReadReport(outs[outReport].Path); err == nil {
		v["roc_auc"] = cty.NumberFloatVal(finiteOr0(r.Metrics["roc_auc"].Value))
		v["f_beta"] = cty.NumberFloatVal(finiteOr0(r.Metrics["f_beta"].Value))
		v["threshold"] = cty.NumberFloatVal(r.Threshold.Value)
		v["worst_slice"] = cty.StringVal(r.Worst.Slice)
	}
	return cty.ObjectVal(v)
}

// Prepare implements stages.Kind.
func (Kind) Prepare(cfg cty.Value, at stages.RangeFunc) (*stages.Task, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	c, errs := decode(cfg)
	for _, e := range errs {
		diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid evaluate configuration",
			Detail: e.Error() + ".", Subject: at(e.attr)})
	}
	if cfg.GetAttr("model").IsWhollyKnown() && cfg.GetAttr("dataset").IsWhollyKnown() && len(errs) == 0 {
		if _, err := c.model.View(cfg.GetAttr("dataset")); err != nil {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid evaluate configuration",
				Detail: err.Error() + ".", Subject: at("dataset")})
		}
	}
	task := &stages.Task{Outputs: map[string]stages.Output{outReport: {}, outSummary: {}, outPredictions: {}, outSlices: {},
		outROC: {}, outPR: {}, outReliability: {}, outMontages: {}}}
	// User slice files are inputs: editing one reruns the node.
	task.Inputs = append(task.Inputs, c.userCSVs()...)
	if cfg.GetAttr("model").IsWhollyKnown() && cfg.GetAttr("baselines").IsWhollyKnown() {
		task.Inputs = append(task.Inputs, c.model.ProjectFiles()...)
		for _, b := range c.refBaselines {
			task.Inputs = append(task.Inputs, b.model.ProjectFiles()...)
		}
	}
	return task, diags
}

// Execute implements stages.Kind.
func (Kind) Execute(ctx context.Context, env *stages.Env) error {
	c, errs := decode(env.Config)
	if len(errs) > 0 {
		return errs[0]
	}
	view, err := c.model.View(env.Config.GetAttr("dataset"))
	if err != nil {
		return err
	}
	c.model = c.model.Abs(env.ProjectDir)
	for i := range c.refBaselines {
		c.refBaselines[i].model = c.refBaselines[i].model.Abs(env.ProjectDir)
	}
	e := &run{env: env, c: c}
	return e.execute(ctx, view)
}

// ReadReport reads a report.json output.
func ReadReport(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decodeReport(data, path)
}

// members lists the checkpoints to predict with: the model's members, then every model baseline's.
func (c *config) members() (groups [][2]int, names []string, checkpoints []string, owners []string) {
	add := func(owner string, m modelref.Model) {
		seeds, _ := m.Members()
		start := len(checkpoints)
		checkpoints = append(checkpoints, m.BestCheckpoints()...)
		names = append(names, seeds...)
		for range seeds {
			owners = append(owners, owner)
		}
		groups = append(groups, [2]int{start, len(checkpoints)})
	}
	add("model", c.model)
	for _, b := range c.refBaselines {
		add("baselines."+b.name, b.model)
	}
	return groups, names, checkpoints, owners
}

// loadModels loads the checkpoints, naming the attribute of a failing one.
func loadModels(checkpoints, owners []string) ([]*predict.Model, error) {
	var out []*predict.Model
	for i, p := range checkpoints {
		m, err := predict.Load(p)
		if err != nil {
			for _, o := range out {
				o.Close()
			}
			return nil, fmt.Errorf("%s: %w", owners[i], err)
		}
		out = append(out, m)
	}
	return out, nil
}

// finiteOr0 maps NaN to 0 for cty numbers (cty has no NaN).
func finiteOr0(v float64) float64 {
	if v != v {
		return 0
	}
	return v
}
