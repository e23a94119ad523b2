package sweep

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/pcamflow/pcamflow/hpo"
)

// formatValue renders a value as compact JSON.
func formatValue(v cty.Value) (string, error) {
	b, err := ctyjson.SimpleJSONValue{Value: v}.MarshalJSON()
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// paramValue is the value dimension d takes at coordinate x of a point.
func (d dim) paramValue(x float64) cty.Value {
	switch d.Dim.Kind {
	case hpo.IntUniform:
		return cty.NumberIntVal(int64(math.Round(x)))
	case hpo.Choice:
		i := int(x)
		if i < 0 || i >= len(d.Values) {
			return cty.NullVal(cty.DynamicPseudoType)
		}
		return d.Values[i]
	}
	return cty.NumberFloatVal(x)
}

// describe renders a parameter value for progress lines and tables: numbers with 4 significant
// digits, anything else as JSON.
func (d dim) describe(x float64) string {
	switch d.Dim.Kind {
	case hpo.Uniform, hpo.LogUniform:
		return strconv.FormatFloat(x, 'g', 4, 64)
	case hpo.IntUniform:
		return strconv.FormatInt(int64(math.Round(x)), 10)
	}
	s, err := formatValue(d.paramValue(x))
	if err != nil {
		return "?"
	}
	return s
}

// describePoint renders "path=value" pairs of a point.
func describePoint(dims []dim, p hpo.Point) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = d.Path + "=" + d.describe(p[i])
	}
	return strings.Join(parts, " ")
}

// apply sets every sampled value of point p into the base configuration. A command base also gets
// the trial's output folder (see trialOutputs).
func apply(base cty.Value, dims []dim, p hpo.Point) (cty.Value, error) {
	cfg := base
	for i, d := range dims {
		var err error
		target := d.Target
		if target == nil {
			target = strings.Split(d.Path, ".")
		}
		cfg, err = setPath(cfg, target, d.paramValue(p[i]))
		if err != nil {
			return cty.NilVal, fmt.Errorf("setting %s: %w", d.Path, err)
		}
	}
	return cfg, nil
}

// setPath returns v with the value at path replaced by x (converted to the type already there).
// A null object on the way becomes an object of null attributes; a map gets the key.
func setPath(v cty.Value, path []string, x cty.Value) (cty.Value, error) {
	if len(path) == 0 {
		if v.Type() == cty.DynamicPseudoType || (v.IsNull() && v.Type() == cty.DynamicPseudoType) {
			return x, nil
		}
		c, err := convert.Convert(x, v.Type())
		if err != nil {
			return cty.NilVal, err
		}
		return c, nil
	}
	ty := v.Type()
	switch {
	case ty.IsObjectType():
		if !ty.HasAttribute(path[0]) {
			return cty.NilVal, fmt.Errorf("no attribute %q", path[0])
		}
		attrs := map[string]cty.Value{}
		if v.IsNull() {
			for n, t := range ty.AttributeTypes() {
				attrs[n] = cty.NullVal(t)
			}
		} else {
			attrs = v.AsValueMap()
			if attrs == nil {
				attrs = map[string]cty.Value{}
			}
		}
		sub, err := setPath(attrs[path[0]], path[1:], x)
		if err != nil {
			return cty.NilVal, err
		}
		attrs[path[0]] = sub
		return cty.ObjectVal(attrs), nil
	case ty.IsMapType():
		elems := map[string]cty.Value{}
		if !v.IsNull() && v.LengthInt() > 0 {
			elems = v.AsValueMap()
		}
		cur, ok := elems[path[0]]
		if !ok {
			cur = cty.NullVal(ty.ElementType())
		}
		sub, err := setPath(cur, path[1:], x)
		if err != nil {
			return cty.NilVal, err
		}
		elems[path[0]] = sub
		return cty.MapVal(elems), nil
	}
	return cty.NilVal, fmt.Errorf("%s is not an object", ty.FriendlyName())
}

// bestParams returns the parameter values of a point as an object keyed by parameter path.
func bestParams(dims []dim, p hpo.Point) cty.Value {
	if len(p) != len(dims) {
		return cty.EmptyObjectVal
	}
	attrs := map[string]cty.Value{}
	for i, d := range dims {
		attrs[d.Path] = d.paramValue(p[i])
	}
	return cty.ObjectVal(attrs)
}

// sortedPaths returns the parameter paths of dims (already sorted by decode).
func sortedPaths(dims []dim) []string {
	out := make([]string, len(dims))
	for i, d := range dims {
		out[i] = d.Path
	}
	sort.Strings(out)
	return out
}
