package modelref

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func model(best string) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal("model"), "checkpoint": cty.StringVal(best + ".last"),
		"best": cty.StringVal(best), "history": cty.StringVal("h.json"), "metrics": cty.StringVal("m.json")})
}

func TestOf(t *testing.T) {
	single, err := Of(model("a.ckpt"))
	if err != nil || single.Best != "a.ckpt" || single.Checkpoint != "a.ckpt.last" || len(single.Seeds) != 0 {
		t.Fatalf("single: %+v, %v", single, err)
	}
	if names, ms := single.Members(); len(ms) != 1 || names[0] != "" || ms[0].Best != "a.ckpt" {
		t.Errorf("single members %v %v", names, ms)
	}
	agg := model("s2.ckpt").AsValueMap()
	agg["best_seed"] = cty.StringVal("2")
	agg["aggregate"] = cty.StringVal("agg.json")
	agg["seeds"] = cty.ObjectVal(map[string]cty.Value{"10": model("s10.ckpt"), "2": model("s2.ckpt"), "1": model("s1.ckpt")})
	agg["dataset"] = cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal("dataset"), "format": cty.StringVal("pcam_h5"),
		"dir": cty.StringVal("d"), "handle": cty.StringVal("h"), "indices": cty.StringVal("")})
	m, err := Of(cty.ObjectVal(agg))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.BestCheckpoints(), ","); got != "s1.ckpt,s2.ckpt,s10.ckpt" || m.BestSeed != "2" {
		t.Errorf("seeds in order %s (best seed %s)", got, m.BestSeed)
	}
	if m.Dataset == nil || m.Dataset.Dir != "d" {
		t.Errorf("dataset %+v", m.Dataset)
	}
	for name, v := range map[string]cty.Value{
		"string":   cty.StringVal("model.ckpt"),
		"null":     cty.NullVal(cty.DynamicPseudoType),
		"dataset":  cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal("dataset")}),
		"unknown":  cty.UnknownVal(cty.String),
		"no best":  cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal("model")}),
		"bad seed": cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal("model"), "best": cty.StringVal("b"), "seeds": cty.ObjectVal(map[string]cty.Value{"1": cty.StringVal("x")})}),
	} {
		if _, err := Of(v); err == nil || !strings.Contains(err.Error(), "model reference") {
			t.Errorf("%s: error %v", name, err)
		}
	}
}
