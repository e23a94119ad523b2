// Package stagetest holds helpers for the tests of stage kinds: a configuration object built from a
// kind's attribute defaults, and the exposed value of a model checkpoint.
package stagetest

import (
	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/stages"
)

// Config returns the configuration object a kind's Prepare and Execute see: every attribute of k
// at its default (null when it has none), overridden by set.
func Config(k stages.Kind, set map[string]cty.Value) cty.Value {
	v := map[string]cty.Value{}
	for _, a := range k.Attrs() {
		d := a.Default
		if d == cty.NilVal {
			d = cty.NullVal(a.Type)
		}
		v[a.Name] = d
	}
	for name, x := range set {
		v[name] = x
	}
	return cty.ObjectVal(v)
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
