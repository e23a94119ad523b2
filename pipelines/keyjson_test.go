package pipelines

import (
	"bytes"
	"math/big"
	"math/rand/v2"
	"sort"
	"strconv"
	"testing"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// keyJSONValues are values whose JSON must be byte for byte what cty's encoder gives: the cache
// keys of every existing workspace depend on it.
var keyJSONValues = []cty.Value{
	cty.StringVal(""), cty.StringVal("plain"), cty.StringVal(`quote " and \ backslash`),
	cty.StringVal("<html> & co"), cty.StringVal("tab\there\nnewline"), cty.StringVal("héllo ✓"),
	cty.StringVal("\u2028\u2029"), cty.StringVal(string([]byte{0xff, 'a'})), cty.StringVal("\x00\x1f\x7f"),
	cty.NumberIntVal(0), cty.NumberIntVal(-42), cty.NumberIntVal(1 << 62), cty.NumberFloatVal(0.1),
	cty.NumberFloatVal(-1.5e-300), cty.NumberFloatVal(3e21), cty.NumberVal(new(big.Float).SetPrec(512).SetFloat64(1.0 / 3)),
	cty.MustParseNumberVal("123456789012345678901234567890.5"),
	cty.True, cty.False,
	cty.NullVal(cty.String), cty.NullVal(cty.List(cty.String)), cty.NullVal(cty.DynamicPseudoType),
	cty.ListValEmpty(cty.String), cty.ListVal([]cty.Value{cty.StringVal("sh"), cty.StringVal("-c"), cty.StringVal("echo 1 > out/1.txt")}),
	cty.SetVal([]cty.Value{cty.StringVal("b"), cty.StringVal("a")}), cty.SetVal([]cty.Value{cty.NumberIntVal(3), cty.NumberIntVal(1)}),
	cty.TupleVal([]cty.Value{cty.StringVal("x"), cty.NumberIntVal(1), cty.NullVal(cty.Bool)}), cty.EmptyTupleVal,
	cty.MapVal(map[string]cty.Value{"z": cty.StringVal("1"), "a": cty.StringVal("<2>"), "é": cty.StringVal("3")}),
	cty.MapValEmpty(cty.String), cty.EmptyObjectVal,
	cty.ObjectVal(map[string]cty.Value{"lr": cty.NumberFloatVal(0.001), "layers": cty.ListVal([]cty.Value{cty.NumberIntVal(32), cty.NumberIntVal(64)}),
		"name": cty.StringVal("cnn"), "opt": cty.NullVal(cty.String), "nested": cty.ObjectVal(map[string]cty.Value{"b": cty.True, "a": cty.False})}),
	cty.ListVal([]cty.Value{cty.MapVal(map[string]cty.Value{"k": cty.NumberIntVal(1)})}),
}

func TestMarshalParamMatchesCty(t *testing.T) {
	for _, v := range keyJSONValues {
		want, werr := ctyjson.Marshal(v, v.Type())
		got, gerr := marshalParam(v)
		if (werr != nil) != (gerr != nil) || !bytes.Equal(got, want) {
			t.Errorf("%#v: got %s (%v), cty gives %s (%v)", v, got, gerr, want, werr)
		}
	}
}

// TestMarshalParamFallsBack: values only cty's encoder handles give its result or its error.
func TestMarshalParamFallsBack(t *testing.T) {
	for _, v := range []cty.Value{cty.PositiveInfinity, cty.UnknownVal(cty.String), cty.StringVal("x").Mark("m"),
		cty.ListVal([]cty.Value{cty.UnknownVal(cty.String)})} {
		want, werr := ctyjson.Marshal(v, v.Type())
		got, gerr := marshalParam(v)
		if (werr != nil) != (gerr != nil) || !bytes.Equal(got, want) {
			t.Errorf("%#v: got %s (%v), cty gives %s (%v)", v, got, gerr, want, werr)
		}
	}
}

func FuzzMarshalParamString(f *testing.F) {
	for _, s := range []string{"", "a", "<>&", "\u2028", "\xff", "\"\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := cty.ListVal([]cty.Value{cty.StringVal(s), cty.StringVal(s + "x")})
		want, _ := ctyjson.Marshal(v, v.Type())
		got, _ := marshalParam(v)
		if !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s, cty gives %s", s, got, want)
		}
	})
}

func TestWhollyKnown(t *testing.T) {
	for _, v := range append(keyJSONValues, cty.UnknownVal(cty.String), cty.DynamicVal,
		cty.ListVal([]cty.Value{cty.StringVal("a"), cty.UnknownVal(cty.String)}),
		cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("x"), "b": cty.ObjectVal(map[string]cty.Value{"c": cty.UnknownVal(cty.Number)})}),
		cty.MapVal(map[string]cty.Value{"a": cty.UnknownVal(cty.String)}),
		cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.DynamicVal}),
		cty.StringVal("x").Mark("m"), cty.ListVal([]cty.Value{cty.UnknownVal(cty.String).Mark("m")})) {
		if got, want := whollyKnown(v), v.IsWhollyKnown(); got != want {
			t.Errorf("whollyKnown(%#v) = %v, want %v", v, got, want)
		}
	}
}

// naturalLessReference is the comparison for_each keys were sorted with before sortItems parsed
// each key once.
func naturalLessReference(a, b string) bool {
	fa, ea := strconv.ParseFloat(a, 64)
	fb, eb := strconv.ParseFloat(b, 64)
	if ea == nil && eb == nil {
		return fa < fb
	}
	return a < b
}

func TestSortItemsMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pool := []string{"10", "b", "2", "a", "1.5", "-3", "1e3", "x10", "02", "NaN", "Inf", "", "zz", "7"}
	for trial := 0; trial < 200; trial++ {
		var items []forEachItem
		for i := 0; i < 1+rng.IntN(20); i++ {
			items = append(items, forEachItem{key: pool[rng.IntN(len(pool))] + strconv.Itoa(rng.IntN(3)*trial%5)})
		}
		want := append([]forEachItem{}, items...)
		sort.SliceStable(want, func(i, j int) bool { return naturalLessReference(want[i].key, want[j].key) })
		sortItems(items)
		for i := range want {
			if items[i].key != want[i].key {
				t.Fatalf("trial %d: sortItems gives %v, the reference %v", trial, items, want)
			}
		}
	}
	// Items already in order pair by pair (sortItems then skips sorting when that is safe), more
	// than a stable sort's insertion blocks of 20, with numeric, string and mixed keys.
	for trial := 0; trial < 300; trial++ {
		var items []forEachItem
		for i := 0; i < 1+rng.IntN(70); i++ {
			switch trial % 3 {
			case 0:
				items = append(items, forEachItem{key: strconv.Itoa(rng.IntN(50))})
			case 1:
				items = append(items, forEachItem{key: pool[rng.IntN(len(pool))]})
			default:
				items = append(items, forEachItem{key: "k" + strconv.Itoa(rng.IntN(50))})
			}
		}
		sort.SliceStable(items, func(i, j int) bool { return naturalLessReference(items[i].key, items[j].key) })
		want := append([]forEachItem{}, items...)
		sort.SliceStable(want, func(i, j int) bool { return naturalLessReference(want[i].key, want[j].key) })
		sortItems(items)
		for i := range want {
			if items[i].key != want[i].key {
				t.Fatalf("sorted trial %d: sortItems gives %v, the reference %v", trial, items, want)
			}
		}
	}
}
