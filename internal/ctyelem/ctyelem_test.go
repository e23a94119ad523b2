package ctyelem

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestValuesAsElementIterator(t *testing.T) {
	long := make([]cty.Value, 100) // past the precomputed indices
	for i := range long {
		long[i] = cty.NumberIntVal(int64(i * i))
	}
	tests := []struct {
		name string
		v    cty.Value
	}{
		{"empty list", cty.ListValEmpty(cty.String)},
		{"list", cty.ListVal([]cty.Value{cty.StringVal("a"), cty.UnknownVal(cty.String), cty.NullVal(cty.String)})},
		{"long list", cty.ListVal(long)},
		{"empty tuple", cty.EmptyTupleVal},
		{"tuple", cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.True, cty.ListVal(long[:2])})},
		{"long tuple", cty.TupleVal(long)},
		{"set", cty.SetVal([]cty.Value{cty.StringVal("b"), cty.StringVal("a")})},
		{"map", cty.MapVal(map[string]cty.Value{"z": cty.True, "a": cty.False})},
		{"object", cty.ObjectVal(map[string]cty.Value{"z": cty.True, "a": cty.StringVal("x")})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []cty.Value
			for it := tt.v.ElementIterator(); it.Next(); {
				_, e := it.Element()
				want = append(want, e)
			}
			var got []cty.Value
			for e := range Values(tt.v) {
				got = append(got, e)
			}
			if len(got) != len(want) {
				t.Fatalf("%d elements, want %d", len(got), len(want))
			}
			for i := range want {
				if !got[i].RawEquals(want[i]) || !got[i].Type().Equals(want[i].Type()) {
					t.Errorf("element %d: %#v, want %#v", i, got[i], want[i])
				}
			}
			// Stopping early stops.
			n := 0
			for range Values(tt.v) {
				n++
				break
			}
			if n > 1 {
				t.Errorf("yielded %d elements after a break", n)
			}
		})
	}
}

func TestValuesAllocatesOnceForLongLists(t *testing.T) {
	long := make([]cty.Value, 1000)
	for i := range long {
		long[i] = cty.StringVal("x")
	}
	v := cty.ListVal(long)
	allocs := testing.AllocsPerRun(20, func() {
		for e := range Values(v) {
			_ = e
		}
	})
	if allocs > 4 {
		t.Errorf("%.0f allocations per iteration over 1,000 elements, want at most 4", allocs)
	}
}

func TestValuesDoesNotAllocateForShortLists(t *testing.T) {
	v := cty.ListVal([]cty.Value{cty.StringVal("sh"), cty.StringVal("-c"), cty.StringVal("echo")})
	allocs := testing.AllocsPerRun(100, func() {
		for e := range Values(v) {
			_ = e
		}
	})
	if allocs > 1 {
		t.Errorf("%.0f allocations per iteration over 3 elements, want at most 1", allocs)
	}
}
