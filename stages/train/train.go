// Package train implements the "train" stage kind: a gorgonia MLP or CNN (package model) trained on
// a dataset or an audited view, deterministic for a seed, checkpointed every epoch (a killed run
// resumes bit-identically), tracked per epoch, and run once per seed with an aggregate of the
// final metrics (mean ± std).
package train

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/stages/dataset"
)

// Output names of a training node.
const (
	outCheckpoint = "checkpoint.ckpt"
	outBest       = "best.ckpt"
	outHistory    = "history.json"
	outMetrics    = "metrics.json"
	outAggregate  = "aggregate.json"
)

// Kind is the train stage kind.
type Kind struct{}

// New returns the train kind.
func New() stages.Kind { return Kind{} }

// Name implements stages.Kind.
func (Kind) Name() string { return "train" }

// Version implements stages.Kind.
func (Kind) Version() string { return "2" } // 2: best-checkpoint ties broken by val_loss; plots/ output; model kernels of issue 14

// Doc implements stages.Kind.
func (Kind) Doc() string {
	return "Trains a binary classifier (mlp or cnn, gorgonia) on a dataset or audited view; one node per seed " +
		"plus an aggregate (mean ± std of the final metrics). Every epoch logs losses, ROC-AUC, F-beta, accuracy, " +
		"learning rate and per-layer gradient norms and writes a checkpoint; an interrupted node resumes from it."
}

// Attrs implements stages.Kind.
func (Kind) Attrs() []stages.Attr {
	return []stages.Attr{
		{Name: "dataset", Type: cty.DynamicPseudoType, Required: true, Doc: "dataset.NAME or data_audit.NAME.clean."},
		{Name: "model", Type: modelType, Default: cty.NullVal(modelType),
			Doc: `{ arch = "mlp", hidden_units = [128], activation, dropout } or { arch = "cnn", channels = [16, 32], pooling, batch_norm, head_units }.`},
		{Name: "epochs", Type: cty.Number, Default: cty.NumberIntVal(5), Doc: "Number of epochs."},
		{Name: "batch_size", Type: cty.Number, Default: cty.NumberIntVal(128), Doc: "Training batch size."},
		{Name: "optimizer", Type: optimizerType, Default: cty.NullVal(optimizerType),
			Doc: `{ name = "adam"|"adamw"|"sgd", learning_rate, momentum, weight_decay, beta1, beta2, eps }.`},
		{Name: "scheduler", Type: schedulerType, Default: cty.NullVal(schedulerType),
			Doc: `{ name = "reduce_on_plateau"|"step"|"cosine"|"none", factor, patience, threshold, cooldown, min_lr, step_size, gamma, t_max, eta_min }.`},
		{Name: "sampler", Type: cty.String, Default: cty.StringVal("shuffle"),
			Doc: `"weighted" (class-balanced, with replacement), "shuffle" or "sequential".`},
		{Name: "normalize", Type: normalizeType, Default: cty.NullVal(normalizeType),
			Doc: "Per-channel { mean = [...], std = [...] } on pixels scaled to [0,1]; default the PCAM statistics."},
		{Name: "augment", Type: augmentType, Default: cty.NullVal(augmentType), Doc: "{ flips = true, rotations = true } (90° rotations)."},
		{Name: "limit", Type: cty.Number, Default: cty.NumberIntVal(0), Doc: "Use only the first N training patches (0: all)."},
		{Name: "val_limit", Type: cty.Number, Default: cty.NumberIntVal(0), Doc: "Use only the first N validation patches (0: all)."},
		{Name: "clip_norm", Type: cty.Number, Default: cty.NumberIntVal(0), Doc: "Clip the global gradient L2 norm (0: off)."},
		{Name: "pos_weight", Type: cty.Number, Default: cty.NumberIntVal(1), Doc: "Weight of positive examples in the loss."},
		{Name: "early_stopping", Type: earlyType, Default: cty.NullVal(earlyType),
			Doc: `{ metric = "val_loss", patience = 3, min_delta = 0 }: stop when the metric stops improving.`},
		{Name: "monitor", Type: cty.String, Default: cty.StringVal("val_roc_auc"), Doc: "Metric that picks the best checkpoint."},
		{Name: "beta", Type: cty.Number, Default: cty.NumberIntVal(2), Doc: "Beta of the F-beta score (recall weighs beta times precision)."},
		{Name: "seeds", Type: cty.List(cty.Number), Default: cty.NullVal(cty.List(cty.Number)),
			Doc: "Train once per seed, each its own cached node, plus an aggregate node; default: once, with the pipeline seed."},
		{Name: "threads", Type: cty.Number, Default: cty.NumberIntVal(0), NotInKey: true,
			Doc: "Kernel threads (0: all cores); results do not depend on it."},
	}
}

// Expose implements stages.Kind: train.NAME["SEED"] is a model: checkpoint, best, history, metrics.
func (Kind) Expose(cfg cty.Value, outs map[string]stages.Output) cty.Value {
	if outs == nil {
		return modelValue(cty.UnknownVal(cty.String), cty.UnknownVal(cty.String), cty.UnknownVal(cty.String), cty.UnknownVal(cty.String))
	}
	return modelValue(cty.StringVal(outs[outCheckpoint].Path), cty.StringVal(outs[outBest].Path),
		cty.StringVal(outs[outHistory].Path), cty.StringVal(outs[outMetrics].Path))
}

func modelValue(ckpt, best, history, metrics cty.Value) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal("model"), "checkpoint": ckpt, "best": best,
		"history": history, "metrics": metrics})
}

// Prepare implements stages.Kind.
func (Kind) Prepare(cfg cty.Value, at stages.RangeFunc) (*stages.Task, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	if ds := cfg.GetAttr("dataset"); ds.IsWhollyKnown() {
		if _, err := dataset.ViewOf(ds); err != nil {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid dataset", Detail: "dataset: " + err.Error() + ".", Subject: at("dataset")})
		}
	}
	if cfg.IsWhollyKnown() {
		if _, _, err := decode(cfg); err != nil {
			attr := "model"
			var de *decodeError
			if errors.As(err, &de) && de.attr != "" {
				attr = de.attr
			}
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid training configuration",
				Detail: fmt.Sprintf("%v.", err), Subject: at(attr)})
		}
	}
	return &stages.Task{Outputs: map[string]stages.Output{outCheckpoint: {}, outBest: {}, outHistory: {}, outMetrics: {}, PlotsOutput: {}}}, diags
}

// Execute implements stages.Kind: it trains one seed.
func (Kind) Execute(ctx context.Context, env *stages.Env) error {
	mc, opt, err := decode(env.Config)
	if err != nil {
		return err
	}
	view, err := dataset.ViewOf(env.Config.GetAttr("dataset"))
	if err != nil {
		return err
	}
	mc.Seed = uint64(env.Seed)
	if err := (&loop{env: env, mc: mc, opt: opt, view: view}).run(ctx); err != nil {
		return err
	}
	return writeSeedPlots(env.OutputPaths[outHistory], env.OutputPaths[PlotsOutput], opt.Beta)
}

// SupportsBudget implements stages.Budgeted: every training node can stop after a number of epochs
// (Env.Budget) and a later node of the same configuration with a larger budget continues from its
// last epoch checkpoint, so that budget 1 and then 3 gives the outputs of a straight run of 3.
// The outputs at a budget are those of the epochs run so far: the checkpoint of the last one, the
// best checkpoint among them, their history and a metrics.json whose epochs says how many ran.
func (Kind) SupportsBudget(cfg cty.Value) bool { return true }

var _ stages.Budgeted = Kind{}
