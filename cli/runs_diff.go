package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// flattenParams turns a resolved configuration (JSON) into its leaves: JSON path to the leaf's
// compact JSON text. Object members are joined with '.', array elements with [i]; an array of
// scalars (or an empty array or object) is one leaf, so `hidden_units: [128]` against `[256, 64]`
// is one difference, not three. An empty document has no leaves; a scalar document is the leaf "".
func flattenParams(raw json.RawMessage) (map[string]string, error) {
	out := map[string]string{}
	if len(bytes.TrimSpace(raw)) == 0 {
		return out, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("parameters are not valid JSON: %w", err)
	}
	flattenInto(out, "", v)
	return out, nil
}

// flattenInto adds the leaves of v under path to out.
func flattenInto(out map[string]string, path string, v any) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			break
		}
		for k, c := range x {
			p := k
			if path != "" {
				p = path + "." + k
			}
			flattenInto(out, p, c)
		}
		return
	case []any:
		if !allScalars(x) {
			for i, c := range x {
				flattenInto(out, fmt.Sprintf("%s[%d]", path, i), c)
			}
			return
		}
	}
	out[path] = compactJSON(v)
}

// compactJSON encodes a decoded JSON value compactly, without escaping <, > and & (the values are
// shown to people, not embedded in HTML).
func compactJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // values decoded from JSON always encode
	return strings.TrimSuffix(b.String(), "\n")
}

// allScalars reports whether no element of a is an object or an array.
func allScalars(a []any) bool {
	for _, v := range a {
		switch v.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}

// paramDiff is one parameter that differs between compared node runs: its JSON path and its value
// in each node run (compact JSON; nil where the node run does not have it).
type paramDiff struct {
	Path   string             `json:"path"`
	Values []*json.RawMessage `json:"values"`
}

// diffParams returns the parameters whose values are not the same in every document, sorted by
// path. Documents that are not valid JSON are reported as an error naming their position.
func diffParams(docs []json.RawMessage) ([]paramDiff, error) {
	flat := make([]map[string]string, len(docs))
	paths := map[string]bool{}
	for i, d := range docs {
		f, err := flattenParams(d)
		if err != nil {
			return nil, fmt.Errorf("node run #%d of the comparison: %w", i+1, err)
		}
		flat[i] = f
		for p := range f {
			paths[p] = true
		}
	}
	var out []paramDiff
	for _, p := range sortedKeys(paths) {
		vals := make([]*json.RawMessage, len(docs))
		same := true
		for i, f := range flat {
			if s, ok := f[p]; ok {
				r := json.RawMessage(s)
				vals[i] = &r
			}
			same = same && rawEqual(vals[i], vals[0])
		}
		if !same {
			out = append(out, paramDiff{Path: p, Values: vals})
		}
	}
	return out, nil
}

// rawEqual compares two optional JSON texts.
func rawEqual(a, b *json.RawMessage) bool {
	if a == nil || b == nil {
		return a == b
	}
	return bytes.Equal(*a, *b)
}

// paramCell formats a parameter value for a table: strings without quotes, other JSON as is,
// "(absent)" when the node run does not have the parameter.
func paramCell(v *json.RawMessage) string {
	if v == nil {
		return "(absent)"
	}
	var s string
	if json.Unmarshal(*v, &s) == nil && !strings.ContainsAny(s, " \t\n") && s != "" {
		return s
	}
	return string(*v)
}
