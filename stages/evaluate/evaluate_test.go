package evaluate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/stages/dataset"
	"github.com/pcamflow/pcamflow/stages/stagetest"
)

// TestDeterministic runs the same evaluation twice with different batch sizes: every output is
// bit-identical, and the run store receives the headline metrics.
func TestDeterministic(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if _, err := pcam.Synthesize(data, pcam.SynthOptions{Seed: 9, Train: 200, Test: 200}); err != nil {
		t.Fatal(err)
	}
	var seeds = map[string]cty.Value{}
	for _, s := range []string{"1", "2"} {
		p := filepath.Join(dir, "s"+s+".ckpt")
		tinyCheckpoint(t, p, uint64(s[0]))
		seeds[s] = modelVal(p)
	}
	base := map[string]cty.Value{"model": stagetest.Seeds("1", seeds), "dataset": dataset.View{Kind: "dataset", Format: pcam.FormatH5, Dir: data}.Value(),
		"bootstrap": cty.NumberIntVal(100), "min_slice_count": cty.NumberIntVal(20),
		"baselines": cty.ObjectVal(map[string]cty.Value{"majority": cty.True, "colour_logistic": cty.True, "other": seeds["2"]})}
	var outs []map[string]string
	var recorded map[string]float64
	for _, batch := range []int{256, 7} {
		set := map[string]cty.Value{"batch_size": cty.NumberIntVal(int64(batch))}
		for k, v := range base {
			set[k] = v
		}
		env, err := execute(t, cfgOf(t, set))
		if err != nil {
			t.Fatal(err)
		}
		if batch == 256 {
			env2 := *env
			env2.Metrics = func(_ int, v map[string]float64) { recorded = v }
			env2.OutputPaths = map[string]string{}
			for k, p := range env.OutputPaths {
				env2.OutputPaths[k] = p + ".again"
			}
			os.MkdirAll(env2.OutputPaths[outMontages], 0o755)
			if err := (Kind{}).Execute(t.Context(), &env2); err != nil {
				t.Fatal(err)
			}
		}
		files := map[string]string{}
		for name, p := range env.OutputPaths {
			if name == outMontages {
				for _, m := range []string{"errors.csv", "false_negatives.png", "false_positives.png"} {
					b, _ := os.ReadFile(filepath.Join(p, m))
					files[name+"/"+m] = string(b)
				}
				continue
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			files[name] = string(b)
		}
		outs = append(outs, files)
		if !strings.Contains(env.Progress.(*strings.Builder).String(), "evaluate.t: test ROC-AUC") {
			t.Errorf("no summary line in the progress output")
		}
	}
	for name, a := range outs[0] {
		if outs[1][name] != a {
			t.Errorf("%s differs between batch sizes 256 and 7", name)
		}
	}
	rep, err := decodeReport([]byte(outs[0][outReport]), "report.json")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Model.Mode != "ensemble" || len(rep.PerSeed) != 2 || len(rep.Baselines) != 3 || rep.Baselines[2].Name != "other" {
		t.Errorf("report: mode %s, %d seeds, baselines %+v", rep.Model.Mode, len(rep.PerSeed), rep.Baselines)
	}
	if iv := rep.Metrics["roc_auc"]; !(iv.Lo <= iv.Value && iv.Value <= iv.Hi) || iv.N != 100 {
		t.Errorf("ROC-AUC interval %+v", iv)
	}
	for _, k := range []string{"test_roc_auc", "test_roc_auc_lo", "test_roc_auc_hi", "test_f_beta", "test_threshold", "test_roc_auc_minus_majority"} {
		if _, ok := recorded[k]; !ok {
			t.Errorf("run store metric %s not recorded (got %v)", k, recorded)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "r.json"), []byte(outs[0][outReport]), 0o644); err != nil {
		t.Fatal(err)
	}
	exposed := Kind{}.Expose(cfgOf(t, nil), map[string]stages.Output{outReport: {Path: filepath.Join(dir, "r.json")}})
	if v, _ := exposed.GetAttr("roc_auc").AsBigFloat().Float64(); v != rep.Metrics["roc_auc"].Value {
		t.Errorf("exposed roc_auc %v, report %v", v, rep.Metrics["roc_auc"].Value)
	}
}

func TestPrepareDiagnostics(t *testing.T) {
	at := func(string) *hcl.Range { return &hcl.Range{Filename: "p.hcl"} }
	ds := dataset.View{Kind: "dataset", Format: "pcam_h5", Dir: "d"}.Value()
	thr := func(v float64) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal("threshold"), "value": cty.NumberFloatVal(v), "method": cty.StringVal("youden")})
	}
	cases := map[string]struct {
		set  map[string]cty.Value
		want string
	}{
		"threshold number":    {map[string]cty.Value{"threshold": cty.NumberFloatVal(-0.1)}, "threshold: -0.1 is outside [0, 1]"},
		"threshold reference": {map[string]cty.Value{"threshold": thr(1.2)}, "threshold: 1.2 is outside [0, 1]"},
		"threshold string":    {map[string]cty.Value{"threshold": cty.StringVal("0.5")}, "expected threshold.NAME or a probability"},
		"split":               {map[string]cty.Value{"split": cty.StringVal("testing")}, `"testing" is not a split`},
		"baseline":            {map[string]cty.Value{"baselines": cty.ObjectVal(map[string]cty.Value{"linear": cty.True})}, "linear: expected a model reference"},
		"worst_by":            {map[string]cty.Value{"worst_by": cty.StringVal("auc")}, `"auc" is not a metric`},
		"slice":               {map[string]cty.Value{"slices": cty.MapVal(map[string]cty.Value{"stain": cty.StringVal("yes")})}, `stain = "yes": use "auto"`},
		"centre regex":        {map[string]cty.Value{"slices": cty.MapVal(map[string]cty.Value{"centre": cty.StringVal("meta.wsi:(")})}, "must compile"},
		"bootstrap":           {map[string]cty.Value{"bootstrap": cty.NumberIntVal(-5)}, "bootstrap: must be a whole number"},
		"no dataset":          {map[string]cty.Value{"dataset": cty.NullVal(cty.DynamicPseudoType)}, "does not say which data"},
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
	task, diags := Kind{}.Prepare(cfgOf(t, map[string]cty.Value{"model": modelVal("m.ckpt"), "dataset": ds, "threshold": thr(0.3),
		"slices": cty.MapVal(map[string]cty.Value{"mine": cty.StringVal("s.csv")})}), at)
	if diags.HasErrors() || strings.Join(task.Inputs, ",") != "s.csv,m.ckpt" {
		t.Errorf("valid configuration: %v, inputs %v", diags, task.Inputs)
	}
}
