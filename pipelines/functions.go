package pipelines

import (
	"fmt"
	"math/big"

	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Functions returns the functions available in pipeline expressions: go-cty's standard library
// (string, collection, numeric, encoding and regex functions) plus HCL's try and can, and the
// search-space functions of a sweep (space.go).
func Functions() map[string]function.Function {
	return map[string]function.Function{
		"abs":             stdlib.AbsoluteFunc,
		"can":             tryfunc.CanFunc,
		"ceil":            stdlib.CeilFunc,
		"chomp":           stdlib.ChompFunc,
		"choice":          choiceFunc,
		"chunklist":       stdlib.ChunklistFunc,
		"coalesce":        stdlib.CoalesceFunc,
		"coalescelist":    stdlib.CoalesceListFunc,
		"compact":         stdlib.CompactFunc,
		"concat":          stdlib.ConcatFunc,
		"contains":        stdlib.ContainsFunc,
		"csvdecode":       stdlib.CSVDecodeFunc,
		"distinct":        stdlib.DistinctFunc,
		"element":         stdlib.ElementFunc,
		"flatten":         stdlib.FlattenFunc,
		"floor":           stdlib.FloorFunc,
		"format":          stdlib.FormatFunc,
		"formatdate":      stdlib.FormatDateFunc,
		"formatlist":      stdlib.FormatListFunc,
		"indent":          stdlib.IndentFunc,
		"int_uniform":     intUniformFunc,
		"index":           stdlib.IndexFunc,
		"join":            stdlib.JoinFunc,
		"jsondecode":      stdlib.JSONDecodeFunc,
		"jsonencode":      stdlib.JSONEncodeFunc,
		"keys":            stdlib.KeysFunc,
		"length":          stdlib.LengthFunc,
		"log":             stdlib.LogFunc,
		"log_uniform":     logUniformFunc,
		"lookup":          stdlib.LookupFunc,
		"lower":           stdlib.LowerFunc,
		"max":             stdlib.MaxFunc,
		"merge":           stdlib.MergeFunc,
		"min":             stdlib.MinFunc,
		"parseint":        stdlib.ParseIntFunc,
		"pow":             stdlib.PowFunc,
		"range":           rangeFunc,
		"regex":           stdlib.RegexFunc,
		"regexall":        stdlib.RegexAllFunc,
		"regex_replace":   stdlib.RegexReplaceFunc,
		"replace":         stdlib.ReplaceFunc,
		"reverse":         stdlib.ReverseListFunc,
		"setintersection": stdlib.SetIntersectionFunc,
		"setproduct":      stdlib.SetProductFunc,
		"setsubtract":     stdlib.SetSubtractFunc,
		"setunion":        stdlib.SetUnionFunc,
		"signum":          stdlib.SignumFunc,
		"slice":           stdlib.SliceFunc,
		"sort":            stdlib.SortFunc,
		"split":           stdlib.SplitFunc,
		"strrev":          stdlib.ReverseFunc,
		"substr":          stdlib.SubstrFunc,
		"title":           stdlib.TitleFunc,
		"trim":            stdlib.TrimFunc,
		"trimprefix":      stdlib.TrimPrefixFunc,
		"trimspace":       stdlib.TrimSpaceFunc,
		"trimsuffix":      stdlib.TrimSuffixFunc,
		"try":             tryfunc.TryFunc,
		"uniform":         uniformFunc,
		"upper":           stdlib.UpperFunc,
		"values":          stdlib.ValuesFunc,
		"zipmap":          stdlib.ZipmapFunc,
	}
}

// funcs is built once: the map is read-only after that.
var funcs = Functions()

// maxRangeValues bounds the list range() may build (go-cty's own range stops at 1,024 values, too
// few for a for_each over a large sweep or fan-out). A million numbers take about 100 MB.
const maxRangeValues = 1_000_000

// rangeFunc is go-cty's range(end), range(start, end) or range(start, end, step) — the numbers
// start, start+step, ... up to but excluding end — with the limit raised to maxRangeValues. An
// oversized call fails before anything is allocated, with a message that names the limit.
var rangeFunc = function.New(&function.Spec{
	Description: "Returns a list of numbers spread evenly over a particular range.",
	VarParam:    &function.Parameter{Name: "params", Type: cty.Number},
	Type:        function.StaticReturnType(cty.List(cty.Number)),
	RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder {
		return b.NotNull()
	},
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		var start, end, step *big.Float
		switch len(args) {
		case 1:
			start, end, step = big.NewFloat(0), args[0].AsBigFloat(), big.NewFloat(1)
			if end.Sign() < 0 {
				step.SetInt64(-1)
			}
		case 2:
			start, end, step = args[0].AsBigFloat(), args[1].AsBigFloat(), big.NewFloat(1)
			if end.Cmp(start) < 0 {
				step.SetInt64(-1)
			}
		case 3:
			start, end, step = args[0].AsBigFloat(), args[1].AsBigFloat(), args[2].AsBigFloat()
		default:
			return cty.NilVal, fmt.Errorf("range takes one, two or three arguments (end; start, end; or start, end, step), not %d", len(args))
		}
		switch {
		case step.Sign() == 0:
			return cty.NilVal, function.NewArgErrorf(2, "step must not be zero")
		case step.Sign() < 0 && end.Cmp(start) > 0:
			return cty.NilVal, function.NewArgErrorf(1, "end must be less than start when step is negative")
		case step.Sign() > 0 && end.Cmp(start) < 0:
			return cty.NilVal, function.NewArgErrorf(1, "end must be greater than start when step is positive")
		}
		// An estimate of the size, ceil((end − start) / step), refuses a huge range before anything
		// is allocated; the loop then builds the values exactly as go-cty's range does.
		q := new(big.Float).Quo(new(big.Float).Sub(end, start), step)
		if est, _ := q.Int(nil); !est.IsInt64() || est.Int64() > maxRangeValues+1 {
			return cty.NilVal, rangeTooLong(est.String())
		}
		var vals []cty.Value
		num, stepVal, endVal := cty.NumberVal(start), cty.NumberVal(step), cty.NumberVal(end)
		if n, ok := wholeRangeLen(start, end, step); ok {
			// The same values by the same additions, without comparing each with end (which
			// costs five allocations per value in go-cty): whole numbers this small are exact.
			if n > maxRangeValues {
				return cty.NilVal, rangeTooLong(fmt.Sprintf("more than %d", maxRangeValues))
			}
			if n == 0 {
				return cty.ListValEmpty(cty.Number), nil
			}
			vals = make([]cty.Value, 0, n)
			for range n {
				vals = append(vals, num)
				num = num.Add(stepVal)
			}
			return cty.ListVal(vals), nil
		}
		down := step.Sign() < 0
		for {
			if (down && num.LessThanOrEqualTo(endVal).True()) || (!down && num.GreaterThanOrEqualTo(endVal).True()) {
				break
			}
			if len(vals) >= maxRangeValues {
				return cty.NilVal, rangeTooLong(fmt.Sprintf("more than %d", maxRangeValues))
			}
			vals = append(vals, num)
			num = num.Add(stepVal)
		}
		if len(vals) == 0 {
			return cty.ListValEmpty(cty.Number), nil
		}
		return cty.ListVal(vals), nil
	},
})

// wholeRangeLen returns how many values range(start, end, step) has when all three are whole
// numbers of magnitude at most 2^52 (so that every value and every sum is exact in any precision
// go-cty computes them with): ceil((end − start) / step), or 0.
func wholeRangeLen(start, end, step *big.Float) (int64, bool) {
	const limit = 1 << 52
	var v [3]int64
	for i, f := range []*big.Float{start, end, step} {
		if f.IsInf() || !f.IsInt() {
			return 0, false
		}
		n, acc := f.Int64()
		if acc != big.Exact || n > limit || n < -limit {
			return 0, false
		}
		v[i] = n
	}
	s, e, st := v[0], v[1], v[2]
	if st < 0 {
		s, e, st = -s, -e, -st
	}
	if st == 0 || e <= s {
		return 0, st != 0
	}
	return (e - s + st - 1) / st, true
}

func rangeTooLong(count string) error {
	return fmt.Errorf("range would produce %s values, more than the limit of %d (it keeps a mistyped bound from exhausting memory); narrow the range or use a larger step", count, maxRangeValues)
}
