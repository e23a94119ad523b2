package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// The outputs of the sweep, threshold, evaluate and benchmark kinds are shown by a tolerant reader
// of their JSON: it does not know every field, it lays out what it finds. Scalars become key/value
// rows, {value, lo, hi}-like objects become "value [lo, hi]", {mean, std} objects "mean ± std",
// arrays of objects become tables with one column per field.

// decodeJSON decodes data keeping numbers exact.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// asFloat returns v as a number when it is one.
func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	}
	return 0, false
}

// pick returns the first of names that m holds.
func pick(m map[string]any, names ...string) (any, bool) {
	for _, n := range names {
		if v, ok := m[n]; ok {
			return v, true
		}
	}
	return nil, false
}

// Field names recognised as a point estimate and the bounds of an interval.
var (
	pointNames = []string{"value", "estimate", "point", "mean", "auc", "metric"}
	loNames    = []string{"lo", "low", "lower", "ci_lo", "ci_low", "ci_lower", "lower_bound"}
	hiNames    = []string{"hi", "high", "upper", "ci_hi", "ci_high", "ci_upper", "upper_bound"}
)

// intervalExtras are fields an interval object may carry besides its point and bounds.
var intervalExtras = []string{"n", "level", "resamples", "ci", "ci95", "ci_95", "interval", "std", "stdev", "sd"}

// interval formats {value, lo, hi} (or {value, ci: [lo, hi]}) as "value [lo, hi]" and {mean, std}
// as "mean ± std"; ok is false for other objects, including objects with fields beyond those (the
// worst slice {slice, value, lo, hi} is a record, not a number).
func interval(m map[string]any) (string, bool) {
	for k := range m {
		if !slices.Contains(pointNames, k) && !slices.Contains(loNames, k) && !slices.Contains(hiNames, k) && !slices.Contains(intervalExtras, k) {
			return "", false
		}
	}
	pv, hasPoint := pick(m, pointNames...)
	p, isNum := asFloat(pv)
	if !hasPoint || !isNum {
		return "", false
	}
	lo, okLo := pick(m, loNames...)
	hi, okHi := pick(m, hiNames...)
	if !okLo || !okHi {
		if ci, ok := pick(m, "ci", "ci95", "interval", "ci_95"); ok {
			if a, ok := ci.([]any); ok && len(a) == 2 {
				lo, hi, okLo, okHi = a[0], a[1], true, true
			}
		}
	}
	l, ok1 := asFloat(lo)
	h, ok2 := asFloat(hi)
	if okLo && okHi && ok1 && ok2 {
		return fmt.Sprintf("%s [%s, %s]", num(p), num(l), num(h)), true
	}
	if sd, ok := pick(m, "std", "stdev", "sd"); ok {
		if s, ok := asFloat(sd); ok {
			return fmt.Sprintf("%s ± %s", num(p), num(s)), true
		}
	}
	if len(m) == 1 {
		return num(p), true
	}
	return "", false
}

// cell formats any JSON value for a table cell.
func cell(v any) string {
	if m, ok := v.(map[string]any); ok {
		if s, ok := interval(m); ok {
			return s
		}
	}
	if a, ok := v.([]any); ok {
		if len(a) > 8 || !allScalar(a) {
			return fmt.Sprintf("(%d values)", len(a)) // a per-epoch curve or a list of records
		}
		parts := make([]string, len(a))
		for i, x := range a {
			parts[i] = cell(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return scalar(v)
}

func allScalar(a []any) bool {
	for _, x := range a {
		switch x.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}

// isTable reports whether v is a non-empty array of objects.
func isTable(v any) bool {
	a, ok := v.([]any)
	if !ok || len(a) == 0 {
		return false
	}
	for _, x := range a {
		if _, ok := x.(map[string]any); !ok {
			return false
		}
	}
	return true
}

// jsonBlocks lays out a decoded JSON document: a key/value table of its scalar and interval fields,
// then one table per array of objects and one key/value table per nested object, each captioned
// with its path. Arrays of objects show at most maxRows rows. skip says which top-level keys to
// leave out (shown elsewhere).
func jsonBlocks(title string, v any, maxRows int, skip func(key string) bool) []block {
	var out []block
	kv := table{Caption: title, Head: []string{"field", "value"}, Numeric: []bool{false, true}}
	var nested []string
	m, isObj := v.(map[string]any)
	if !isObj {
		if isTable(v) {
			return []block{rowsTable(title, v.([]any), maxRows)}
		}
		return []block{para{title + ": " + cell(v)}}
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if skip != nil && skip(k) {
			continue
		}
		x := m[k]
		if sub, ok := x.(map[string]any); ok {
			if s, ok := interval(sub); ok {
				kv.Rows = append(kv.Rows, []string{k, s})
				continue
			}
			nested = append(nested, k)
			continue
		}
		if isTable(x) {
			nested = append(nested, k)
			continue
		}
		kv.Rows = append(kv.Rows, []string{k, cell(x)})
	}
	if len(kv.Rows) > 0 {
		out = append(out, kv)
	}
	sort.SliceStable(nested, func(i, j int) bool { return headlineRank(nested[i]) < headlineRank(nested[j]) })
	for _, k := range nested {
		name := title + " › " + k
		if isTable(m[k]) {
			out = append(out, rowsTable(name, m[k].([]any), maxRows))
		} else {
			out = append(out, jsonBlocks(name, m[k], maxRows, nil)...)
		}
	}
	return out
}

// rowsTable lays out an array of objects: one row per object, one column per field (nested
// objects of scalars are flattened one level as parent.child), in order of first appearance.
func rowsTable(title string, rows []any, maxRows int) table {
	var cols []string
	seen := map[string]bool{}
	flat := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		f := map[string]any{}
		obj := r.(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			x := obj[k]
			if sub, ok := x.(map[string]any); ok {
				if _, isIv := interval(sub); !isIv {
					for _, sk := range slices.Sorted(maps.Keys(sub)) {
						f[k+"."+sk] = sub[sk]
					}
					continue
				}
			}
			f[k] = x
		}
		for _, k := range slices.Sorted(maps.Keys(f)) {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
		flat = append(flat, f)
	}
	sort.SliceStable(cols, func(i, j int) bool { return columnRank(cols[i]) < columnRank(cols[j]) })
	t := table{Caption: title, Head: cols, Numeric: make([]bool, len(cols))}
	for i, f := range flat {
		if maxRows > 0 && i == maxRows {
			t.Caption += fmt.Sprintf(" (first %d of %d rows)", maxRows, len(flat))
			break
		}
		row := make([]string, len(cols))
		for j, c := range cols {
			v, ok := f[c]
			if !ok {
				row[j] = ""
				continue
			}
			row[j] = cell(v)
			if _, isNum := asFloat(v); isNum {
				t.Numeric[j] = true
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// leadColumns are shown first, in this order, when a table has them: what identifies a row, its
// state and its result.
var leadColumns = []string{"trial", "index", "id", "number", "name", "partition", "split", "slice", "batch", "batch_size",
	"state", "objective", "value", "epochs"}

// columnRank orders table columns: leadColumns first, the rest after them (stable: sorted).
func columnRank(c string) int {
	for i, l := range leadColumns {
		if c == l {
			return i
		}
	}
	return len(leadColumns)
}

// headlines are nested objects shown first, in this order: the results before how they were made.
var headlines = []string{"metrics", "at_threshold", "worst_slice", "trials", "slices", "baselines", "confusion"}

// headlineRank orders the nested tables of a document: headlines first, the rest after them.
func headlineRank(k string) int {
	if i := slices.Index(headlines, k); i >= 0 {
		return i
	}
	return len(headlines)
}
