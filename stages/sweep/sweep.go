// Package sweep implements the "sweep" stage kind: hyperparameter search as a cached stage. Its
// node proposes trials (grid, random or TPE, package hpo), runs each as a child node of its base
// stage (a train stage, or a command stage whose node writes metrics.json) through Env.Children,
// stops unpromising trials early with ASHA, and writes the trial table, the best parameters, plots
// and the champion's model. Trials are ordinary nodes keyed by their configuration, so a trial equal
// to an earlier node is a cache hit, and the proposals are a pure function of the seed and of the
// results of earlier trials, so an interrupted sweep proposes the same trials again.
package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/pcamflow/pcamflow/stages"
)

// Output names of a sweep node.
const (
	outCSV      = "trials.csv"
	outJSON     = "trials.json"
	outBest     = "best_params.json"
	outSummary  = "summary.json"
	outChampion = "champion"
	outPlots    = "plots"
)

// Kind is the sweep stage kind.
type Kind struct{}

// New returns the sweep kind.
func New() stages.Kind { return Kind{} }

var (
	_ stages.Spawner  = Kind{}
	_ stages.Fixtured = Kind{}
)

// Name implements stages.Kind.
func (Kind) Name() string { return "sweep" }

// Version implements stages.Kind.
func (Kind) Version() string { return "1" }

// Doc implements stages.Kind.
func (Kind) Doc() string {
	return "Hyperparameter search over a train stage (or a command stage whose node writes metrics.json): grid, random " +
		"or TPE proposals, optional ASHA early stopping, trials run as ordinary cached child nodes (at most parallel at " +
		"once; on Slurm one job array per wave). Writes trials.csv, trials.json, best_params.json, summary.json, plots and " +
		"the champion; sweep.NAME.champion is a model reference, sweep.NAME.best_params an object, sweep.NAME.trials the table."
}

var (
	objectiveType = cty.ObjectWithOptionalAttrs(map[string]cty.Type{"metric": cty.String, "goal": cty.String}, []string{"goal"})
	earlyType     = cty.ObjectWithOptionalAttrs(map[string]cty.Type{"method": cty.String, "min_epochs": cty.Number, "reduction_factor": cty.Number},
		[]string{"min_epochs", "reduction_factor"})
)

// Attrs implements stages.Kind.
func (Kind) Attrs() []stages.Attr {
	return []stages.Attr{
		{Name: "base", Type: cty.DynamicPseudoType, Required: true,
			Doc: "The stage every trial is a variant of: train.NAME, or command.NAME whose node writes metrics.json."},
		{Name: "sampler", Type: cty.String, Default: cty.StringVal("tpe"), Doc: `"grid", "random" or "tpe".`},
		{Name: "trials", Type: cty.Number, Default: cty.NumberIntVal(16), Doc: "Number of trials (a grid runs all its points instead)."},
		{Name: "parallel", Type: cty.Number, Default: cty.NumberIntVal(1),
			Doc: "Trials at once: locally the execution slots of the trials, on Slurm the array throttle and the wave size of TPE."},
		{Name: "seed", Type: cty.Number, Default: cty.NullVal(cty.Number), Doc: "Seed of the sampler; default the pipeline seed."},
		{Name: "objective", Type: objectiveType, Required: true,
			Doc: `{ metric = "val_roc_auc", goal = "maximize" | "minimize" }: a metric the base logs per epoch (goal defaults to minimize).`},
		{Name: "early_stopping", Type: earlyType, Default: cty.NullVal(earlyType),
			Doc: `{ method = "asha", min_epochs = 1, reduction_factor = 3 }: stop trials outside the top 1/reduction_factor at each rung.`},
		{Name: "max_trials", Type: cty.Number, Default: cty.NumberIntVal(1000), Doc: "Refuse a grid (or trials) larger than this."},
		{Name: "space", Type: cty.DynamicPseudoType, Required: true,
			Doc: `Parameter path => uniform(lo, hi) | log_uniform(lo, hi) | int_uniform(lo, hi) | choice(v1, v2, ...).`},
	}
}

// ChildParallelism implements stages.Spawner.
func (Kind) ChildParallelism(cfg cty.Value) int {
	if !cfg.IsKnown() || cfg.IsNull() {
		return 0
	}
	n, ok := intOf(cfg, "parallel")
	if !ok {
		return 0
	}
	return n
}

// Prepare implements stages.Kind.
func (Kind) Prepare(cfg cty.Value, at stages.RangeFunc) (*stages.Task, hcl.Diagnostics) {
	_, diags := decode(cfg, at, 0)
	return &stages.Task{Outputs: map[string]stages.Output{outCSV: {}, outJSON: {}, outBest: {}, outSummary: {}, outChampion: {}, outPlots: {}}}, diags
}

// Expose implements stages.Kind: champion (a model reference for a train base; the output paths of
// the best trial for a command base), best_params (parameter path => value), trials (trials.csv),
// trials_json, summary and plots.
func (Kind) Expose(cfg cty.Value, outs map[string]stages.Output) cty.Value {
	kind := baseTrain
	if cfg.IsKnown() && !cfg.IsNull() {
		if k, ok := baseKindOf(cfg.GetAttr("base")); ok && k != "" {
			kind = k
		}
	}
	if outs == nil {
		champ := cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal("model"), "checkpoint": cty.UnknownVal(cty.String),
			"best": cty.UnknownVal(cty.String), "history": cty.UnknownVal(cty.String), "metrics": cty.UnknownVal(cty.String)})
		if kind == baseCommand {
			champ = cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal("command"), "outputs": cty.DynamicVal})
		}
		return cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal("sweep"), "champion": champ, "best_params": cty.DynamicVal,
			"trials": cty.UnknownVal(cty.String), "trials_json": cty.UnknownVal(cty.String), "summary": cty.UnknownVal(cty.String),
			"plots": cty.UnknownVal(cty.String)})
	}
	dir := outs[outChampion].Path
	var champ cty.Value
	if kind == baseCommand {
		champ = cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal("command"), "outputs": commandChampion(dir)})
	} else {
		champ = cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal("model"),
			"checkpoint": cty.StringVal(filepath.Join(dir, "checkpoint.ckpt")), "best": cty.StringVal(filepath.Join(dir, "best.ckpt")),
			"history": cty.StringVal(filepath.Join(dir, "history.json")), "metrics": cty.StringVal(filepath.Join(dir, "metrics.json"))})
	}
	return cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal("sweep"), "champion": champ, "best_params": readBestParams(outs[outBest].Path),
		"trials": cty.StringVal(outs[outCSV].Path), "trials_json": cty.StringVal(outs[outJSON].Path),
		"summary": cty.StringVal(outs[outSummary].Path), "plots": cty.StringVal(outs[outPlots].Path)})
}

// readBestParams reads best_params.json as an object (empty when unreadable).
func readBestParams(path string) cty.Value {
	b, err := os.ReadFile(path)
	if err != nil {
		return cty.EmptyObjectVal
	}
	ty, err := ctyjson.ImpliedType(b)
	if err != nil {
		return cty.EmptyObjectVal
	}
	v, err := ctyjson.Unmarshal(b, ty)
	if err != nil {
		return cty.EmptyObjectVal
	}
	return v
}

// commandChampion lists the champion's copied outputs of a command base: output name => path.
func commandChampion(dir string) cty.Value {
	b, err := os.ReadFile(filepath.Join(dir, championIndex))
	if err != nil {
		return cty.EmptyObjectVal
	}
	var names map[string]string
	if json.Unmarshal(b, &names) != nil || len(names) == 0 {
		return cty.EmptyObjectVal
	}
	attrs := map[string]cty.Value{}
	for name, rel := range names {
		attrs[name] = cty.StringVal(filepath.Join(dir, rel))
	}
	return cty.ObjectVal(attrs)
}

// Execute implements stages.Kind.
func (Kind) Execute(ctx context.Context, env *stages.Env) error {
	if env.Children == nil {
		return errors.New("a sweep runs its trials as child nodes, which this runner cannot offer here (re-executions by verify or exec of the sweep itself); run the pipeline instead")
	}
	noRange := func(string) *hcl.Range { return nil }
	s, diags := decode(env.Config, noRange, env.Seed)
	if diags.HasErrors() {
		return fmt.Errorf("invalid sweep configuration: %s", diags.Error())
	}
	sw, err := newRun(env, s)
	if err != nil {
		return err
	}
	return sw.run(ctx)
}
