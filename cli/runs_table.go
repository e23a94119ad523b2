package cli

import (
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"
)

// textTable is a plain-text table: a header row and data rows of cells, printed with two-space
// indentation and two spaces between columns. Columns listed in right are right-aligned (numbers).
type textTable struct {
	header []string
	rows   [][]string
	right  map[int]bool
}

// newTextTable starts a table with the given column headers.
func newTextTable(header ...string) *textTable {
	return &textTable{header: header, right: map[int]bool{}}
}

// add appends one row; missing cells print as empty.
func (t *textTable) add(cells ...string) { t.rows = append(t.rows, cells) }

// alignRight right-aligns the columns at the given indices.
func (t *textTable) alignRight(cols ...int) {
	for _, c := range cols {
		t.right[c] = true
	}
}

// write prints the table. Trailing spaces are trimmed from every line.
func (t *textTable) write(w io.Writer) {
	widths := make([]int, len(t.header))
	for i, h := range t.header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.rows {
		for i := range min(len(r), len(widths)) {
			widths[i] = max(widths[i], utf8.RuneCountInString(r[i]))
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		b.WriteString(" ")
		for i, wd := range widths {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			pad := strings.Repeat(" ", wd-utf8.RuneCountInString(c))
			b.WriteString(" ")
			if t.right[i] {
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
			b.WriteString(" ")
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(t.header)
	for _, r := range t.rows {
		line(r)
	}
}

// metricCell formats a metric value for a table cell: four significant digits below 1000, whole numbers
// above, and NaN/+Inf/-Inf spelled out.
func metricCell(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.Abs(v) >= 1000:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.4g", v)
}
