package sweep

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/hpo"
)

// TestApply checks that sampled values land at their paths, converted to the attribute's type,
// creating null objects on the way and adding map keys.
func TestApply(t *testing.T) {
	optType := cty.Object(map[string]cty.Type{"name": cty.String, "learning_rate": cty.Number})
	base := cty.ObjectVal(map[string]cty.Value{
		"epochs":    cty.NumberIntVal(5),
		"optimizer": cty.NullVal(optType),
		"model":     cty.ObjectVal(map[string]cty.Value{"hidden_units": cty.ListVal([]cty.Value{cty.NumberIntVal(4)})}),
		"env":       cty.MapValEmpty(cty.String),
	})
	dims := []dim{
		{Path: "epochs", Target: []string{"epochs"}, Dim: hpo.Dim{Kind: hpo.IntUniform, Low: 1, High: 9}},
		{Path: "optimizer.learning_rate", Target: []string{"optimizer", "learning_rate"}, Dim: hpo.Dim{Kind: hpo.LogUniform, Low: 1e-4, High: 1}},
		{Path: "model.hidden_units", Target: []string{"model", "hidden_units"}, Dim: hpo.Dim{Kind: hpo.Choice, Choices: 2},
			Values: []cty.Value{cty.TupleVal([]cty.Value{cty.NumberIntVal(8)}), cty.TupleVal([]cty.Value{cty.NumberIntVal(16), cty.NumberIntVal(4)})}},
		{Path: "X", Target: []string{"env", "X"}, Dim: hpo.Dim{Kind: hpo.Uniform, Low: 0, High: 1}},
	}
	cfg, err := apply(base, dims, hpo.Point{3, 0.01, 1, 0.25})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := formatValue(cfg)
	for _, want := range []string{`"epochs":3`, `"learning_rate":0.01`, `"name":null`, `"hidden_units":[16,4]`, `"env":{"X":"0.25"}`} {
		if !strings.Contains(got, want) {
			t.Errorf("configuration %s lacks %s", got, want)
		}
	}
	if !cfg.GetAttr("model").GetAttr("hidden_units").Type().IsListType() {
		t.Errorf("hidden_units became %s, want a list (the attribute's type)", cfg.GetAttr("model").GetAttr("hidden_units").Type().FriendlyName())
	}
}

// TestTrialOutputs checks that a command trial gets its own output folder named by its values and
// learns the path of its metrics file.
func TestTrialOutputs(t *testing.T) {
	dims := []dim{{Path: "X", Dim: hpo.Dim{Kind: hpo.Uniform, Low: 0, High: 1}}}
	id := pointID(dims, hpo.Point{0.5})
	if id == pointID(dims, hpo.Point{0.25}) || len(id) != 8 {
		t.Fatalf("point ids %q do not tell points apart", id)
	}
	for _, tc := range []struct {
		outputs cty.Value
		want    string
	}{
		{cty.ObjectVal(map[string]cty.Value{"metrics": cty.StringVal("res/m.json"), "log": cty.StringVal("res/log.txt")}), "res/s-" + id + "/m.json"},
		{cty.TupleVal([]cty.Value{cty.StringVal("out/metrics.json")}), "out/s-" + id + "/metrics.json"},
	} {
		cfg := cty.ObjectVal(map[string]cty.Value{"outputs": tc.outputs, "env": cty.MapValEmpty(cty.String)})
		got, err := trialOutputs(cfg, "s", id)
		if err != nil {
			t.Fatal(err)
		}
		if m := got.GetAttr("env").Index(cty.StringVal("PCAMFLOW_METRICS")).AsString(); m != tc.want {
			t.Errorf("PCAMFLOW_METRICS = %q, want %q", m, tc.want)
		}
	}
	cfg := cty.ObjectVal(map[string]cty.Value{"outputs": cty.TupleVal([]cty.Value{cty.StringVal("out/model.bin")}), "env": cty.MapValEmpty(cty.String)})
	if _, err := trialOutputs(cfg, "s", id); err == nil || !strings.Contains(err.Error(), "metrics.json") {
		t.Errorf("a base without metrics.json: %v", err)
	}
}
