package threshold

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/metrics"
	"github.com/pcamflow/pcamflow/model"
	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/stages/dataset"
	"github.com/pcamflow/pcamflow/stages/stagetest"
)

// bruteForce evaluates the method at every distinct score with ConfusionAt (no curve, no sort
// trick) and returns the best threshold, ties to the higher one.
func bruteForce(method string, labels []uint8, scores []float64, beta, target float64) float64 {
	distinct := map[float64]bool{}
	for _, s := range scores {
		distinct[s] = true
	}
	best, bestV := math.Inf(-1), math.Inf(-1)
	for t := range distinct {
		c := metrics.ConfusionAt(labels, scores, t)
		var v float64
		switch method {
		case MaxFBeta:
			v = c.FBeta(beta)
		case Youden:
			v = c.Recall() + c.Specificity() - 1
		case MinRecall:
			if c.Recall() < target {
				continue
			}
			v = 0 // every feasible threshold ties: the highest wins
		}
		if v > bestV || (v == bestV && t > best) {
			best, bestV = t, v
		}
	}
	return best
}

// TestChooseEqualsBruteForce is the hidden-truth test of the search: on random scores with heavy
// ties, light ties and none, every method picks exactly the brute-force threshold.
func TestChooseEqualsBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := range 60 {
		n := 20 + rng.IntN(400)
		labels, scores := make([]uint8, n), make([]float64, n)
		round := []float64{10, 100, 0}[trial%3]
		for i := range n {
			if rng.Float64() < 0.3+0.4*rng.Float64() {
				labels[i] = 1
			}
			s := 1 / (1 + math.Exp(-(1.5*float64(labels[i]) - 0.7 + rng.NormFloat64())))
			if round > 0 {
				s = math.Round(s*round) / round
			}
			scores[i] = s
		}
		labels[0], labels[1] = 0, 1
		pts, err := metrics.ThresholdPoints(labels, scores)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []struct {
			method       string
			beta, target float64
		}{{MaxFBeta, 2, 0}, {MaxFBeta, 1, 0}, {MaxFBeta, 0.5, 0}, {Youden, 0, 0}, {MinRecall, 0, 0.9}, {MinRecall, 0, 0.5}, {MinRecall, 0, 1}} {
			i, err := Choose(m.method, pts, m.beta, m.target)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := pts[i].Threshold, bruteForce(m.method, labels, scores, m.beta, m.target); got != want {
				t.Errorf("trial %d %s beta %v target %v: chose %v, brute force %v", trial, m.method, m.beta, m.target, got, want)
			}
		}
	}
}

// cfgOf builds a configuration object from attribute values over the kind's defaults.
func cfgOf(t testing.TB, set map[string]cty.Value) cty.Value { return stagetest.Config(t, Kind{}, set) }

func modelVal(best string) cty.Value { return stagetest.Model(best) }

func TestPrepareDiagnostics(t *testing.T) {
	at := func(string) *hcl.Range { return &hcl.Range{Filename: "p.hcl"} }
	ds := dataset.View{Kind: "dataset", Format: "pcam_h5", Dir: "d"}.Value()
	cases := map[string]struct {
		set  map[string]cty.Value
		want string
	}{
		"test split":      {map[string]cty.Value{"split": cty.StringVal("test")}, `"test" is the held-out split`},
		"unknown split":   {map[string]cty.Value{"split": cty.StringVal("val")}, `"val" is not a split`},
		"method":          {map[string]cty.Value{"method": cty.StringVal("f1")}, `"f1" is not a method`},
		"target missing":  {map[string]cty.Value{"method": cty.StringVal(MinRecall)}, "needs target"},
		"target range":    {map[string]cty.Value{"method": cty.StringVal(MinRecall), "target": cty.NumberFloatVal(1.5)}, "outside [0, 1]"},
		"not a model":     {map[string]cty.Value{"model": cty.StringVal("m.ckpt")}, "expected a model reference"},
		"no dataset":      {map[string]cty.Value{"dataset": cty.NullVal(cty.DynamicPseudoType)}, "does not say which data"},
		"negative beta":   {map[string]cty.Value{"beta": cty.NumberIntVal(-1)}, "beta: -1 must be"},
		"batch too large": {map[string]cty.Value{"batch_size": cty.NumberIntVal(1 << 20)}, "batch_size"},
	}
	for name, c := range cases {
		set := map[string]cty.Value{"model": modelVal("m.ckpt"), "dataset": ds}
		for k, v := range c.set {
			set[k] = v
		}
		_, diags := Kind{}.Prepare(cfgOf(t, set), at)
		if !diags.HasErrors() || !strings.Contains(diags.Error(), c.want) {
			t.Errorf("%s: diagnostics %v, want %q", name, diags, c.want)
		}
	}
	if _, diags := (Kind{}).Prepare(cfgOf(t, map[string]cty.Value{"model": modelVal("m.ckpt"), "dataset": ds}), at); diags.HasErrors() {
		t.Errorf("valid configuration: %v", diags)
	}
}

// fixture writes a tiny synthetic dataset and three untrained tiny MLP checkpoints (seeds).
func fixture(t *testing.T) (dir string, view cty.Value, seeds cty.Value) {
	t.Helper()
	dir = t.TempDir()
	data := filepath.Join(dir, "data")
	if _, err := pcam.Synthesize(data, pcam.SynthOptions{Seed: 2, Train: 8, Valid: 200, Test: 8, NoDefects: true}); err != nil {
		t.Fatal(err)
	}
	members := map[string]cty.Value{}
	for _, s := range []string{"1", "2", "3"} {
		cfg := model.Config{Arch: model.ArchMLP, HiddenUnits: []int{4}, Seed: uint64(len(s) + int(s[0])),
			Normalize: model.Normalize{Mean: []float64{0.7, 0.55, 0.7}, Std: []float64{0.2, 0.25, 0.2}}}
		tr, err := model.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "seed"+s+".ckpt")
		if err := tr.SaveFile(p); err != nil {
			t.Fatal(err)
		}
		members[s] = modelVal(p)
	}
	return dir, dataset.View{Kind: "dataset", Format: pcam.FormatH5, Dir: data}.Value(), stagetest.Seeds("2", members)
}

func execute(t *testing.T, cfg cty.Value) (*stages.Env, error) {
	t.Helper()
	out := t.TempDir()
	env := &stages.Env{Node: "threshold.t", Config: cfg, Log: &strings.Builder{}, Progress: &strings.Builder{},
		OutputPaths: map[string]string{outJSON: filepath.Join(out, outJSON), outCurve: filepath.Join(out, outCurve), outPlot: filepath.Join(out, outPlot)}}
	return env, Kind{}.Execute(context.Background(), env)
}

// TestExecuteModes runs the kind on real checkpoints: the ensemble, per seed and a single seed,
// and checks the outputs are consistent and deterministic.
func TestExecuteModes(t *testing.T) {
	_, view, agg := fixture(t)
	env, err := execute(t, cfgOf(t, map[string]cty.Value{"model": agg, "dataset": view}))
	if err != nil {
		t.Fatal(err)
	}
	r, err := ReadResult(env.OutputPaths[outJSON])
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode != "ensemble" || len(r.Seeds) != 3 || r.N != 200 || !(r.Value >= 0 && r.Value <= 1) || r.Candidates < 2 {
		t.Errorf("ensemble result %+v", r)
	}
	curve, _ := os.ReadFile(env.OutputPaths[outCurve])
	if lines := strings.Count(string(curve), "\n"); lines != r.Candidates+1 || strings.Count(string(curve), ",1\n") != 1 {
		t.Errorf("curve.csv has %d lines for %d candidates", lines, r.Candidates)
	}
	env2, err := execute(t, cfgOf(t, map[string]cty.Value{"model": agg, "dataset": view, "batch_size": cty.NumberIntVal(7)}))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{outJSON, outCurve, outPlot} {
		a, _ := os.ReadFile(env.OutputPaths[o])
		b, _ := os.ReadFile(env2.OutputPaths[o])
		if string(a) != string(b) {
			t.Errorf("%s differs between batch sizes 256 and 7", o)
		}
	}
	env, err = execute(t, cfgOf(t, map[string]cty.Value{"model": agg, "dataset": view, "per_seed": cty.True, "method": cty.StringVal(Youden)}))
	if err != nil {
		t.Fatal(err)
	}
	r, _ = ReadResult(env.OutputPaths[outJSON])
	if r.Mode != "per_seed" || len(r.PerSeed) != 3 || r.Value != r.PerSeed["2"].Value || r.BestSeed != "2" {
		t.Errorf("per-seed result %+v", r)
	}
	exposed := Kind{}.Expose(cfgOf(t, nil), map[string]stages.Output{outJSON: {Path: env.OutputPaths[outJSON]}})
	if v, _ := exposed.GetAttr("value").AsBigFloat().Float64(); v != r.Value || exposed.GetAttr("per_seed").LengthInt() != 3 {
		t.Errorf("exposed %v", exposed.GoString())
	}
	var raw map[string]any
	data, _ := os.ReadFile(env.OutputPaths[outJSON])
	if json.Unmarshal(data, &raw) != nil || raw["tie_rule"] == nil {
		t.Errorf("threshold.json lacks the tie rule: %s", data)
	}
}

func TestExecuteBadInput(t *testing.T) {
	dir, view, agg := fixture(t)
	small := filepath.Join(dir, "small.ckpt")
	tr, err := model.New(model.Config{Arch: model.ArchMLP, HiddenUnits: []int{2}, Input: model.Input{Height: 32, Width: 32, Channels: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.SaveFile(small); err != nil {
		t.Fatal(err)
	}
	noValid := filepath.Join(dir, "novalid")
	if _, err := pcam.Synthesize(noValid, pcam.SynthOptions{Seed: 2, Train: 8, Test: 8, NoDefects: true}); err != nil {
		t.Fatal(err)
	}
	noValidView := dataset.View{Kind: "dataset", Format: pcam.FormatH5, Dir: noValid}.Value()
	cases := map[string]struct {
		cfg  cty.Value
		want string
	}{
		"input shape":   {cfgOf(t, map[string]cty.Value{"model": modelVal(small), "dataset": view}), "model: model " + small + " takes 32x32x3 images; PCAM patches are 96x96x3"},
		"missing split": {cfgOf(t, map[string]cty.Value{"model": agg, "dataset": noValidView}), "has no valid split (it has: [train test])"},
	}
	for name, c := range cases {
		_, err := execute(t, c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		}
	}
}
