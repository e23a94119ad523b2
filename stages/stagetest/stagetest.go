// Package stagetest helps the tests of stage kinds: it builds the evaluated configuration a kind
// receives from the runner without a pipeline file, and the exposed value of model checkpoints.
package stagetest

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/pcamflow/pcamflow/stages"
)

// Config returns the evaluated configuration of kind as the runner passes it to Prepare and Execute:
// one attribute per declared attribute, set from set when present, else its default (or a null of
// its type), each converted to its declared type. A value that does not convert fails the test.
func Config(t testing.TB, kind stages.Kind, set map[string]cty.Value) cty.Value {
	t.Helper()
	attrs := map[string]cty.Value{}
	for _, a := range kind.Attrs() {
		v, ok := set[a.Name]
		if !ok {
			v = a.Default
			if v == cty.NilVal {
				v = cty.NullVal(a.Type)
			}
		}
		conv, err := convert.Convert(v, a.Type)
		if err != nil {
			t.Fatalf("%s: %v", a.Name, err)
		}
		attrs[a.Name] = conv
	}
	return cty.ObjectVal(attrs)
}

// Model returns the exposed value of a one-seed model whose checkpoints are both best.
func Model(best string) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal("model"), "checkpoint": cty.StringVal(best), "best": cty.StringVal(best),
		"history": cty.StringVal(""), "metrics": cty.StringVal("")})
}

// Seeds returns the exposed value of a model with seeds (seed name → model value), standing for
// the best seed's model.
func Seeds(best string, seeds map[string]cty.Value) cty.Value {
	v := seeds[best].AsValueMap()
	v["seeds"], v["best_seed"] = cty.ObjectVal(seeds), cty.StringVal(best)
	return cty.ObjectVal(v)
}
