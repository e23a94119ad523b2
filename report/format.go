package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pcamflow/pcamflow/plots"
)

// dash stands for a value that is not there.
const dash = "–"

// num formats a metric value with 4 decimals, or a dash when it is not finite.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dash
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

// exact formats a value with all its digits (twin-run losses must show every bit that differs).
func exact(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dash
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// count formats an integer with thousands separators.
func count(n int) string { return plots.Thousands(int64(n)) }

// signed formats an integer with thousands separators and a sign ("+1,024", "-258,048", "0").
func signed(n int) string {
	if n > 0 {
		return "+" + count(n)
	}
	return count(n)
}

// meanStd formats "mean ± std (n)".
func meanStd(mean, std float64, n int) string {
	if n <= 1 {
		return num(mean)
	}
	return fmt.Sprintf("%s ± %s (n=%d)", num(mean), num(std), n)
}

// when formats a time in UTC, or a dash for the zero time.
func when(t time.Time) string {
	if t.IsZero() {
		return dash
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// took formats the time between two instants, or a dash when either is unknown.
func took(a, b time.Time) string {
	if a.IsZero() || b.IsZero() {
		return dash
	}
	return b.Sub(a).Round(time.Millisecond).String()
}

// orDash returns s, or a dash when s is empty.
func orDash(s string) string {
	if s == "" {
		return dash
	}
	return s
}

// slug turns a node address or file path into a file-name part: lowercase letters, digits and
// single hyphens.
func slug(s string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			hyphen = false
		} else if !hyphen && b.Len() > 0 {
			b.WriteByte('-')
			hyphen = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// scalar formats a decoded JSON value for a table cell: numbers with up to 4 decimals, strings
// as they are, arrays and objects as compact JSON.
func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return dash
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			if math.Abs(x) >= 10000 {
				return plots.Thousands(int64(x))
			}
			return strconv.FormatFloat(x, 'f', 0, 64)
		}
		if math.Abs(x) < 1e-3 {
			return strconv.FormatFloat(x, 'g', 4, 64)
		}
		return num(x)
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return x.String()
		}
		return scalar(f)
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// paramLines shows a resolved configuration (a JSON object) one attribute a line, "name = value"
// with the value as compact JSON, leaving out unset (null) attributes and fields; raw that is not
// a JSON object is returned as it is.
func paramLines(raw []byte) string {
	v, err := decodeJSON(raw)
	m, ok := v.(map[string]any)
	if err != nil || !ok {
		return string(raw)
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] == nil {
			continue
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(withoutNulls(m[k]))
		fmt.Fprintf(&b, "%s = %s", k, buf.String())
	}
	return b.String()
}

// withoutNulls returns v with null object fields removed, recursively.
func withoutNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, c := range x {
			if c != nil {
				out[k] = withoutNulls(c)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, c := range x {
			out[i] = withoutNulls(c)
		}
		return out
	}
	return v
}
