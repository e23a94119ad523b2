package pipelines

import (
	"fmt"
	"math"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/pcamflow/pcamflow/stages"
)

// The search-space functions of a sweep's space attribute (docs/language.md, "sweep"):
// uniform(low, high), log_uniform(low, high), int_uniform(low, high) and choice(v1, v2, ...). Each
// returns a dimension value, an object whose SpaceDistAttr names the distribution: low and high for
// the ranges, values (a tuple of any values, e.g. lists) for choice. Mistakes that need no context
// (low >= high, a log range touching 0, non-integer int bounds, an empty choice) are errors of the
// call itself, so they are reported at the call's file:line:col.

// SpaceDistAttr is the attribute of a dimension value naming its distribution.
const SpaceDistAttr = "__dist"

// SpaceFuncs are the names of the search-space functions.
var SpaceFuncs = []string{"uniform", "log_uniform", "int_uniform", "choice"}

// SpaceDim is a decoded dimension value.
type SpaceDim struct {
	// Dist is "uniform", "log_uniform", "int_uniform" or "choice".
	Dist string
	// Low and High are the bounds of a range (inclusive).
	Low, High float64
	// Values are the options of a choice.
	Values []cty.Value
}

// DecodeSpaceDim decodes a dimension value built by one of the space functions; ok is false when v
// is anything else.
func DecodeSpaceDim(v cty.Value) (SpaceDim, bool) {
	if !v.IsWhollyKnown() || v.IsNull() || !v.Type().IsObjectType() || !v.Type().HasAttribute(SpaceDistAttr) {
		return SpaceDim{}, false
	}
	dist := v.GetAttr(SpaceDistAttr)
	if dist.Type() != cty.String {
		return SpaceDim{}, false
	}
	d := SpaceDim{Dist: dist.AsString()}
	switch d.Dist {
	case "uniform", "log_uniform", "int_uniform":
		lo, _ := v.GetAttr("low").AsBigFloat().Float64()
		hi, _ := v.GetAttr("high").AsBigFloat().Float64()
		d.Low, d.High = lo, hi
	case "choice":
		for it := v.GetAttr("values").ElementIterator(); it.Next(); {
			_, e := it.Element()
			d.Values = append(d.Values, e)
		}
	default:
		return SpaceDim{}, false
	}
	return d, true
}

func spaceRange(dist string, check func(lo, hi float64) error) function.Function {
	return function.New(&function.Spec{
		Description: "A " + dist + " search dimension of a sweep's space.",
		Params: []function.Parameter{
			{Name: "low", Type: cty.Number},
			{Name: "high", Type: cty.Number},
		},
		Type: function.StaticReturnType(cty.Object(map[string]cty.Type{SpaceDistAttr: cty.String, "low": cty.Number, "high": cty.Number})),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			lo, _ := args[0].AsBigFloat().Float64()
			hi, _ := args[1].AsBigFloat().Float64()
			if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
				return cty.NilVal, function.NewArgErrorf(0, "the bounds of %s must be finite numbers", dist)
			}
			if lo >= hi {
				return cty.NilVal, function.NewArgErrorf(1, "high (%s) must be greater than low (%s); write %s(low, high)",
					fmtNum(hi), fmtNum(lo), dist)
			}
			if err := check(lo, hi); err != nil {
				return cty.NilVal, err
			}
			return cty.ObjectVal(map[string]cty.Value{SpaceDistAttr: cty.StringVal(dist), "low": args[0], "high": args[1]}), nil
		},
	})
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

var (
	uniformFunc    = spaceRange("uniform", func(float64, float64) error { return nil })
	logUniformFunc = spaceRange("log_uniform", func(lo, _ float64) error {
		if lo <= 0 {
			return function.NewArgErrorf(0, "a log_uniform range must lie above 0 (low is %s); use a positive low such as 1e-6, or uniform() for a range that touches 0", fmtNum(lo))
		}
		return nil
	})
	intUniformFunc = spaceRange("int_uniform", func(lo, hi float64) error {
		if lo != math.Trunc(lo) {
			return function.NewArgErrorf(0, "int_uniform bounds must be whole numbers, not %s", fmtNum(lo))
		}
		if hi != math.Trunc(hi) {
			return function.NewArgErrorf(1, "int_uniform bounds must be whole numbers, not %s", fmtNum(hi))
		}
		return nil
	})
	choiceFunc = function.New(&function.Spec{
		Description: "A categorical search dimension of a sweep's space: one of the given values.",
		VarParam:    &function.Parameter{Name: "values", Type: cty.DynamicPseudoType, AllowNull: false},
		Type: func(args []cty.Value) (cty.Type, error) {
			types := make([]cty.Type, len(args))
			for i, a := range args {
				types[i] = a.Type()
			}
			return cty.Object(map[string]cty.Type{SpaceDistAttr: cty.String, "values": cty.Tuple(types)}), nil
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if len(args) == 0 {
				return cty.NilVal, fmt.Errorf("choice needs at least one value, e.g. choice(64, 128)")
			}
			return cty.ObjectVal(map[string]cty.Value{SpaceDistAttr: cty.StringVal("choice"), "values": cty.TupleVal(args)}), nil
		},
	})
)

// SpaceAttr is the one attribute of a stage of a Spawner kind (the sweep) where the space functions
// may be called.
const SpaceAttr = "space"

// checkSpaceCalls reports every call of a space function outside the space attribute of a stage
// whose kind runs children: anywhere else its value would be a confusing object.
func checkSpaceCalls(s *Stage) hcl.Diagnostics {
	_, spawner := s.Kind.(stages.Spawner)
	var diags hcl.Diagnostics
	for name, a := range s.Attrs {
		if spawner && name == SpaceAttr {
			continue
		}
		diags = append(diags, spaceCallsIn(a.Expr, fmt.Sprintf("attribute %q of %s", name, s.Addr))...)
	}
	return diags
}

// spaceCallsIn reports the space-function calls inside expr.
func spaceCallsIn(expr hcl.Expression, where string) hcl.Diagnostics {
	se, ok := expr.(hclsyntax.Expression)
	if !ok {
		return nil
	}
	var diags hcl.Diagnostics
	_ = hclsyntax.VisitAll(se, func(n hclsyntax.Node) hcl.Diagnostics {
		call, ok := n.(*hclsyntax.FunctionCallExpr)
		if !ok {
			return nil
		}
		for _, f := range SpaceFuncs {
			if call.Name == f {
				r := call.Range()
				diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Search space outside a sweep",
					Detail: fmt.Sprintf("%s() describes a search dimension and is valid only inside the space of a sweep stage, not in %s. "+
						"Write a plain value here, or move the parameter into a sweep's space = { ... }.", f, where),
					Subject: &r})
			}
		}
		return nil
	})
	return diags
}

// itemRange returns the range of the item with the given key (from its key to the end of its value)
// of an object constructor expression, or nil when expr is not one or has no such key.
func itemRange(expr hcl.Expression, key string) *hcl.Range {
	obj, ok := expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return nil
	}
	for _, item := range obj.Items {
		if objectKey(item.KeyExpr) == key {
			r := hcl.RangeBetween(item.KeyExpr.Range(), item.ValueExpr.Range())
			return &r
		}
	}
	return nil
}

// objectKey returns the literal key of an object constructor item ("" when it is computed).
func objectKey(e hclsyntax.Expression) string {
	if k, ok := e.(*hclsyntax.ObjectConsKeyExpr); ok {
		if !k.ForceNonLiteral {
			if kw := hcl.ExprAsKeyword(k.Wrapped); kw != "" {
				return kw
			}
		}
		e = k.Wrapped
	}
	v, diags := e.Value(nil)
	if diags.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}
