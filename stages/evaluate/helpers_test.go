package evaluate

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/stages/stagetest"
)

// cfgOf builds a configuration from attribute values over the kind's defaults.
func cfgOf(t testing.TB, set map[string]cty.Value) cty.Value { return stagetest.Config(t, Kind{}, set) }

// modelVal is the exposed value of a one-seed model.
func modelVal(best string) cty.Value { return stagetest.Model(best) }

// execute runs the kind with outputs in a fresh folder.
func execute(t *testing.T, cfg cty.Value) (*stages.Env, error) {
	t.Helper()
	out := t.TempDir()
	env := &stages.Env{Node: "evaluate.t", Config: cfg, Log: &strings.Builder{}, Progress: &strings.Builder{}, Seed: 42,
		ProjectDir: out, OutputPaths: map[string]string{}}
	task, diags := Kind{}.Prepare(cfg, nil)
	if diags.HasErrors() {
		return env, diags
	}
	for name := range task.Outputs {
		env.OutputPaths[name] = filepath.Join(out, "out", name)
	}
	if err := os.MkdirAll(filepath.Join(out, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	return env, Kind{}.Execute(context.Background(), env)
}

// executeOK runs the kind and returns its report.
func executeOK(t *testing.T, cfg cty.Value) (*Report, *stages.Env) {
	t.Helper()
	env, err := execute(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ReadReport(env.OutputPaths[outReport])
	if err != nil {
		t.Fatal(err)
	}
	return rep, env
}

// readPredictions parses predictions.csv next to the report.
func readPredictions(t *testing.T, env *stages.Env) []map[string]string {
	t.Helper()
	f, err := os.Open(env.OutputPaths[outPredictions])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}
