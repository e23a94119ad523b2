package pipelines

import (
	"encoding/json"
	"sort"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/pcamflow/pcamflow/internal/ctyelem"
)

// The canonical JSON of key parameters. Params used cty's JSON encoder (cty/json.Marshal), whose
// output is part of every cache key, so this encoder must produce exactly the same bytes; it only
// avoids that encoder's per-value paths, reflection and buffers, which cost as much as evaluating
// a small node when a pipeline has 100,000 of them. Values it does not handle (capsules, marks,
// infinities, unknowns) go to cty's encoder, which also gives the error. keyjson_test.go compares
// the two on a table of values and under fuzzing.

// marshalParam returns the JSON of a known value of its own type, byte for byte what
// ctyjson.Marshal(v, v.Type()) returns.
func marshalParam(v cty.Value) ([]byte, error) {
	if b, ok := appendJSON(make([]byte, 0, 64), v); ok {
		return b, nil
	}
	return ctyjson.Marshal(v, v.Type())
}

// appendJSON appends the JSON of v; ok is false when v holds something only cty's encoder handles.
func appendJSON(b []byte, v cty.Value) ([]byte, bool) {
	if v.IsMarked() || !v.IsKnown() {
		return b, false
	}
	if v.IsNull() {
		return append(b, "null"...), true
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return appendString(b, v.AsString()), true
	case ty == cty.Number:
		if v.RawEquals(cty.PositiveInfinity) || v.RawEquals(cty.NegativeInfinity) {
			return b, false
		}
		return v.AsBigFloat().Append(b, 'f', -1), true
	case ty == cty.Bool:
		if v.True() {
			return append(b, "true"...), true
		}
		return append(b, "false"...), true
	case ty.IsListType(), ty.IsSetType(), ty.IsTupleType():
		b = append(b, '[')
		first := true
		for e := range ctyelem.Values(v) {
			if !first {
				b = append(b, ',')
			}
			first = false
			var ok bool
			if b, ok = appendJSON(b, e); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	case ty.IsMapType():
		b = append(b, '{')
		first := true
		for it := v.ElementIterator(); it.Next(); { // a map iterates in key order
			if !first {
				b = append(b, ',')
			}
			first = false
			k, e := it.Element()
			b = appendString(b, k.AsString())
			b = append(b, ':')
			var ok bool
			if b, ok = appendJSON(b, e); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	case ty.IsObjectType():
		atys := ty.AttributeTypes()
		names := make([]string, 0, len(atys))
		for k := range atys {
			names = append(names, k)
		}
		sort.Strings(names)
		b = append(b, '{')
		for i, k := range names {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			var ok bool
			if b, ok = appendJSON(b, v.GetAttr(k)); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	}
	return b, false
}

// appendString appends s as encoding/json quotes it (HTML-safe escaping, invalid UTF-8 replaced):
// directly for the common case of printable ASCII without quotes, backslashes or <, >, &.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// whollyKnown is cty.Value.IsWhollyKnown without its sorting of object attributes.
func whollyKnown(v cty.Value) bool {
	if v.IsMarked() {
		return v.IsWhollyKnown()
	}
	if !v.IsKnown() {
		return false
	}
	if v.IsNull() {
		return true
	}
	ty := v.Type()
	switch {
	case ty.IsPrimitiveType(), ty.IsCapsuleType():
		return true
	case ty.IsObjectType():
		for name := range ty.AttributeTypes() {
			if !whollyKnown(v.GetAttr(name)) {
				return false
			}
		}
		return true
	case ty.IsListType(), ty.IsSetType(), ty.IsTupleType(), ty.IsMapType():
		for e := range ctyelem.Values(v) {
			if !whollyKnown(e) {
				return false
			}
		}
		return true
	}
	return v.IsWhollyKnown()
}
