// Package ctyelem iterates over the elements of cty collections without the per-element cost of
// cty's element iterator, whose list and tuple iterators make a new number value (a big.Float and
// its mantissa: two allocations) for the index of every element, even when the caller only wants
// the element. Planning a pipeline of 100,000 nodes iterates over a few short lists per node.
package ctyelem

import (
	"iter"
	"math/big"

	"github.com/zclconf/go-cty/cty"
)

// indices are the index values of the first elements of lists and tuples, made once.
var indices = func() []cty.Value {
	out := make([]cty.Value, 64)
	for i := range out {
		out[i] = cty.NumberIntVal(int64(i))
	}
	return out
}()

// Values yields the elements of a known, non-null, unmarked list, tuple, set, map or object in the
// order of v.ElementIterator(), and the same values.
func Values(v cty.Value) iter.Seq[cty.Value] {
	return func(yield func(cty.Value) bool) {
		ty := v.Type()
		if ty.IsListType() || ty.IsTupleType() {
			n := v.LengthInt()
			for i := 0; i < min(n, len(indices)); i++ {
				if !yield(v.Index(indices[i])) {
					return
				}
			}
			if n <= len(indices) {
				return
			}
			// Past them, one number that changes: cty.NumberVal wraps f without copying it, and
			// Index only reads the key's value, so idx never holds an index after its call.
			f := new(big.Float)
			idx := cty.NumberVal(f)
			for i := len(indices); i < n; i++ {
				f.SetInt64(int64(i))
				if !yield(v.Index(idx)) {
					return
				}
			}
			return
		}
		for it := v.ElementIterator(); it.Next(); {
			if _, e := it.Element(); !yield(e) {
				return
			}
		}
	}
}
