package pipelines

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// TestSpaceFunctions checks the search-space functions: the dimension values they build, and the
// mistakes they refuse at the call (low >= high, a log range touching 0, fractional int bounds, an
// empty choice).
func TestSpaceFunctions(t *testing.T) {
	for _, tc := range []struct {
		src, dist string
		low, high float64
		choices   int
		err       string
	}{
		{src: "uniform(0, 1e-3)", dist: "uniform", high: 1e-3},
		{src: "log_uniform(1e-5, 1e-2)", dist: "log_uniform", low: 1e-5, high: 1e-2},
		{src: "int_uniform(2, 6)", dist: "int_uniform", low: 2, high: 6},
		{src: `choice([64], [128], [256, 64])`, dist: "choice", choices: 3},
		{src: `choice(64, "a", true)`, dist: "choice", choices: 3},
		{src: "uniform(1, 1)", err: "high (1) must be greater than low (1)"},
		{src: "int_uniform(5, 2)", err: "must be greater than low"},
		{src: "log_uniform(0, 1)", err: "must lie above 0"},
		{src: "log_uniform(-1, 1)", err: "must lie above 0"},
		{src: "int_uniform(1.5, 4)", err: "whole numbers"},
		{src: "choice()", err: "at least one value"},
	} {
		v, diags := evalExpr(t, tc.src)
		if tc.err != "" {
			if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.err) {
				t.Errorf("%s: diagnostics %v, want %q", tc.src, diags, tc.err)
			} else if diags[0].Subject == nil || diags[0].Subject.Start.Column < 1 {
				t.Errorf("%s: the diagnostic has no source range", tc.src)
			}
			continue
		}
		if diags.HasErrors() {
			t.Fatalf("%s: %s", tc.src, diags.Error())
		}
		d, ok := DecodeSpaceDim(v)
		if !ok || d.Dist != tc.dist || d.Low != tc.low || d.High != tc.high || len(d.Values) != tc.choices {
			t.Errorf("%s decodes to %+v (ok %v)", tc.src, d, ok)
		}
	}
	if _, ok := DecodeSpaceDim(mustEval(t, `{ low = 1, high = 2 }`)); ok {
		t.Error("a plain object decodes as a dimension")
	}
}

func mustEval(t *testing.T, src string) cty.Value {
	v, diags := evalExpr(t, src)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return v
}
