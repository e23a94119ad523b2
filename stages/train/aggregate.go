package train

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"

	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/metrics"
	"github.com/pcamflow/pcamflow/stages"
)

// MeanStd summarises a metric over seeds (sample standard deviation, n-1).
type MeanStd struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	N    int     `json:"n"`
}

// Summary is the aggregate.json output: every final metric per seed and its mean ± std.
type Summary struct {
	Seeds    []string                      `json:"seeds"`
	PerSeed  map[string]map[string]float64 `json:"per_seed"`
	Final    map[string]MeanStd            `json:"final"`
	Best     map[string]MeanStd            `json:"best"`
	BestSeed string                        `json:"best_seed"`
	Monitor  string                        `json:"monitor"`
}

// SeedsAttr implements stages.Seeded.
func (Kind) SeedsAttr() string { return "seeds" }

// AggregateOutputs implements stages.Seeded.
func (Kind) AggregateOutputs() map[string]stages.Output {
	return map[string]stages.Output{outAggregate: {}, PlotsOutput: {}}
}

// Aggregate implements stages.Seeded: mean ± std over seeds of every final metric.
func (Kind) Aggregate(_ context.Context, env *stages.Env) error {
	sum := Summary{PerSeed: map[string]map[string]float64{}, Final: map[string]MeanStd{}, Best: map[string]MeanStd{}}
	finals := map[string][]float64{}
	bests := map[string][]float64{}
	bestVal := math.NaN()
	for _, seed := range sortedSeeds(env.Parts) {
		f, err := readFinal(env.Parts[seed][outMetrics].Path)
		if err != nil {
			return fmt.Errorf("seed %s: %w", seed, err)
		}
		sum.Seeds = append(sum.Seeds, seed)
		sum.PerSeed[seed] = f.Final
		sum.Monitor = f.Monitor
		for k, v := range f.Final {
			finals[k] = append(finals[k], v)
		}
		for k, v := range f.Best {
			bests[k] = append(bests[k], v)
		}
		if v := f.Best[f.Monitor]; better(f.Monitor, v, bestVal, 0) {
			bestVal, sum.BestSeed = v, seed
		}
	}
	for k, xs := range finals {
		m, s := metrics.MeanStd(xs)
		sum.Final[k] = MeanStd{Mean: m, Std: s, N: len(xs)}
	}
	for k, xs := range bests {
		m, s := metrics.MeanStd(xs)
		sum.Best[k] = MeanStd{Mean: m, Std: s, N: len(xs)}
	}
	line := fmt.Sprintf("%s over %d seeds: val_roc_auc %.4f ± %.4f, val_f_beta %.4f ± %.4f, val_loss %.4f ± %.4f (final epoch)",
		env.Node, len(sum.Seeds), sum.Final["val_roc_auc"].Mean, sum.Final["val_roc_auc"].Std,
		sum.Final["val_f_beta"].Mean, sum.Final["val_f_beta"].Std, sum.Final["val_loss"].Mean, sum.Final["val_loss"].Std)
	fmt.Fprintln(env.Log, line)
	fmt.Fprintf(env.Progress, "           %s\n", line)
	if err := writeAggregatePlots(env); err != nil {
		return err
	}
	return writeJSON(env.OutputPaths[outAggregate], sum)
}

// ExposeAggregate implements stages.Seeded: train.NAME is the best seed's model plus the aggregate
// and every seed's model under seeds.
func (k Kind) ExposeAggregate(cfg cty.Value, outs map[string]stages.Output, parts map[string]map[string]stages.Output) cty.Value {
	unknown := cty.UnknownVal(cty.String)
	if outs == nil {
		v := k.Expose(cfg, nil).AsValueMap()
		v["aggregate"], v["best_seed"], v["seeds"] = unknown, unknown, cty.DynamicVal
		return cty.ObjectVal(v)
	}
	seeds := map[string]cty.Value{}
	for seed, o := range parts {
		seeds[seed] = k.Expose(cfg, o)
	}
	best := ""
	if s, err := readSummary(outs[outAggregate].Path); err == nil {
		best = s.BestSeed
	}
	v := map[string]cty.Value{"kind": cty.StringVal("model"), "checkpoint": unknown, "best": unknown, "history": unknown, "metrics": unknown}
	if o, ok := parts[best]; ok {
		v = k.Expose(cfg, o).AsValueMap()
	}
	v["aggregate"] = cty.StringVal(outs[outAggregate].Path)
	v["best_seed"] = cty.StringVal(best)
	if len(seeds) > 0 {
		v["seeds"] = cty.ObjectVal(seeds)
	} else {
		v["seeds"] = cty.EmptyObjectVal
	}
	return cty.ObjectVal(v)
}

func readFinal(path string) (*Final, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f Final
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("metrics file %s is corrupt: %w", path, err)
	}
	return &f, nil
}

func readSummary(path string) (*Summary, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Summary
	return &s, json.Unmarshal(data, &s)
}

// sortedSeeds orders seed keys numerically.
func sortedSeeds(parts map[string]map[string]stages.Output) []string {
	keys := sortedKeys(parts)
	sort.SliceStable(keys, func(i, j int) bool {
		a, _ := strconv.ParseInt(keys[i], 10, 64)
		b, _ := strconv.ParseInt(keys[j], 10, 64)
		return a < b
	})
	return keys
}
