package pipelines

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// evalExpr evaluates one HCL expression with the pipeline functions.
func evalExpr(t *testing.T, src string) (cty.Value, hcl.Diagnostics) {
	t.Helper()
	expr, diags := hclsyntax.ParseExpression([]byte(src), "test.hcl", hcl.Pos{Line: 1, Column: 1})
	if diags.HasErrors() {
		t.Fatalf("parse %s: %s", src, diags.Error())
	}
	return expr.Value(&hcl.EvalContext{Functions: Functions()})
}

// TestRange checks range() against go-cty's semantics (one, two or three arguments, negative and
// fractional steps) well past go-cty's old 1,024-value limit, and that a range over the limit is
// refused with a diagnostic that points at the call and names the limit.
func TestRange(t *testing.T) {
	cases := []struct {
		src  string
		want []float64
		n    int
	}{
		{src: "range(3)", want: []float64{0, 1, 2}},
		{src: "range(-3)", want: []float64{0, -1, -2}},
		{src: "range(2, 5)", want: []float64{2, 3, 4}},
		{src: "range(5, 2)", want: []float64{5, 4, 3}},
		{src: "range(0, 1, 0.25)", want: []float64{0, 0.25, 0.5, 0.75}},
		{src: "range(1, 0, -0.5)", want: []float64{1, 0.5}},
		{src: "range(0)", want: []float64{}},
		{src: "range(10000)", n: 10000},
		{src: "range(1, 50001, 0.5)", n: 100000},
	}
	for _, tc := range cases {
		v, diags := evalExpr(t, tc.src)
		if diags.HasErrors() {
			t.Errorf("%s: %s", tc.src, diags.Error())
			continue
		}
		got := v.AsValueSlice()
		if tc.want != nil {
			if len(got) != len(tc.want) {
				t.Errorf("%s has %d values, want %v", tc.src, len(got), tc.want)
				continue
			}
			for i, w := range tc.want {
				if f, _ := got[i].AsBigFloat().Float64(); f != w {
					t.Errorf("%s[%d] = %v, want %v", tc.src, i, f, w)
				}
			}
		} else if len(got) != tc.n {
			t.Errorf("%s has %d values, want %d", tc.src, len(got), tc.n)
		} else if last, _ := got[len(got)-1].AsBigFloat().Float64(); tc.src == "range(10000)" && last != 9999 {
			t.Errorf("range(10000) ends with %v", last)
		}
	}
	for _, src := range []string{"range(2000000)", "range(0, 1, 0.0000001)", "range(1e300)"} {
		_, diags := evalExpr(t, src)
		if !diags.HasErrors() {
			t.Errorf("%s: no error", src)
			continue
		}
		d := diags[0]
		if !strings.Contains(d.Detail, "limit of 1000000") || d.Subject == nil || d.Subject.Start.Line != 1 {
			t.Errorf("%s: diagnostic %q (subject %v) does not name the limit at the call", src, d.Detail, d.Subject)
		}
	}
	for _, src := range []string{"range(0, 1, 0)", "range(0, 5, -1)", "range(5, 0, 1)", "range()", "range(1, 2, 3, 4)"} {
		if _, diags := evalExpr(t, src); !diags.HasErrors() {
			t.Errorf("%s: no error", src)
		}
	}
}

// TestRangeWholeNumbersAsLoop checks that range() of whole numbers, which counts its values
// instead of comparing each with the end, gives the values the comparing loop gives, bit for bit.
func TestRangeWholeNumbersAsLoop(t *testing.T) {
	loop := func(start, end, step cty.Value) []cty.Value {
		var vals []cty.Value
		down := step.AsBigFloat().Sign() < 0
		for num := start; ; num = num.Add(step) {
			if (down && num.LessThanOrEqualTo(end).True()) || (!down && num.GreaterThanOrEqualTo(end).True()) {
				return vals
			}
			vals = append(vals, num)
		}
	}
	n := cty.NumberIntVal
	cases := [][3]cty.Value{
		{n(0), n(7), n(1)}, {n(0), n(7), n(2)}, {n(0), n(7), n(7)}, {n(0), n(7), n(8)}, {n(3), n(3), n(1)},
		{n(5), n(-4), n(-3)}, {n(-10), n(10), n(3)}, {n(0), n(-7), n(-2)}, {n(-7), n(0), n(7)},
		{n(1 << 52), n(1<<52 - 5), n(-2)}, {n(-1 << 52), n(-1<<52 + 9), n(4)},
		{n(1<<52 + 1), n(1<<52 + 5), n(1)}, // past the exact bound: the comparing loop
		{cty.NumberFloatVal(0.5), n(3), n(1)}, {n(0), cty.NumberFloatVal(2.5), n(1)}, {n(0), n(2), cty.NumberFloatVal(0.5)},
	}
	for _, c := range cases {
		got, err := rangeFunc.Call(c[:])
		if err != nil {
			t.Fatalf("range(%#v): %v", c, err)
		}
		want := loop(c[0], c[1], c[2])
		if got.LengthInt() != len(want) {
			t.Fatalf("range(%#v) has %d values, want %d", c, got.LengthInt(), len(want))
		}
		for i, g := range got.AsValueSlice() {
			gf, wf := g.AsBigFloat(), want[i].AsBigFloat()
			if gf.Cmp(wf) != 0 || gf.Prec() != wf.Prec() || gf.Text('g', -1) != wf.Text('g', -1) {
				t.Errorf("range(%#v)[%d] = %s (precision %d), want %s (precision %d)", c, i, gf.Text('g', -1), gf.Prec(), wf.Text('g', -1), wf.Prec())
			}
		}
	}
	for _, src := range []string{"range(1000001)", "range(0, 2000000, 1)"} {
		if _, diags := evalExpr(t, src); !diags.HasErrors() || !strings.Contains(diags.Error(), "more than") {
			t.Errorf("%s: %v, want an error naming the limit", src, diags)
		}
	}
}
