package train

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/stages/stagetest"
)

// config builds an evaluated train configuration: defaults plus the given attributes.
func config(t *testing.T, set map[string]cty.Value) cty.Value {
	return stagetest.Config(t, Kind{}, set)
}

func TestDecode(t *testing.T) {
	obj := func(m map[string]cty.Value) cty.Value { return cty.ObjectVal(m) }
	cases := []struct {
		name    string
		set     map[string]cty.Value
		wantErr string // substring; "" = valid
		check   func(t *testing.T, o options)
	}{
		{"defaults", nil, "", func(t *testing.T, o options) {
			if o.Epochs != 5 || o.BatchSize != 128 || o.Sampler != "shuffle" || o.Monitor != "val_roc_auc" || o.Beta != 2 {
				t.Errorf("defaults: %+v", o)
			}
		}},
		{"cnn with early stopping", map[string]cty.Value{
			"model":          obj(map[string]cty.Value{"arch": cty.StringVal("cnn"), "channels": cty.TupleVal([]cty.Value{cty.NumberIntVal(8)})}),
			"early_stopping": obj(map[string]cty.Value{"metric": cty.StringVal("val_loss"), "patience": cty.NumberIntVal(2)}),
		}, "", func(t *testing.T, o options) {
			if o.EarlyMetric != "val_loss" || o.EarlyPatience != 2 {
				t.Errorf("early stopping: %+v", o)
			}
		}},
		{"zero epochs", map[string]cty.Value{"epochs": cty.NumberIntVal(0)}, "epochs", nil},
		{"fractional batch", map[string]cty.Value{"batch_size": cty.NumberFloatVal(1.5)}, "whole number", nil},
		{"unknown sampler", map[string]cty.Value{"sampler": cty.StringVal("random")}, "sampler", nil},
		{"unknown monitor", map[string]cty.Value{"monitor": cty.StringVal("auc")}, "monitor", nil},
		{"unknown arch", map[string]cty.Value{"model": obj(map[string]cty.Value{"arch": cty.StringVal("resnet")})}, "model", nil},
		{"unknown optimizer", map[string]cty.Value{"optimizer": obj(map[string]cty.Value{"name": cty.StringVal("lion")})}, "model", nil},
		{"bad normalize", map[string]cty.Value{"normalize": obj(map[string]cty.Value{"mean": cty.TupleVal([]cty.Value{cty.NumberIntVal(0)}), "std": cty.TupleVal([]cty.Value{cty.NumberIntVal(0)})})}, "model", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, o, err := decode(config(t, c.set))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("want an error about %q, got %v", c.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.check != nil {
				c.check(t, o)
			}
		})
	}
}

func TestBetter(t *testing.T) {
	if !better("val_loss", 0.5, 0.6, 0) || better("val_loss", 0.6, 0.5, 0) {
		t.Error("losses improve downwards")
	}
	if !better("val_roc_auc", 0.8, 0.7, 0) || better("val_roc_auc", 0.71, 0.7, 0.05) {
		t.Error("scores improve upwards, by more than min_delta")
	}
}

var _ stages.Seeded = Kind{} // the train kind runs once per seed
