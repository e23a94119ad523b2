package pipelines

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics renders diags for a terminal or a log: one "file:line:col: error: summary" line
// per diagnostic (the form editors and CI annotators understand), the source line with the subject
// underlined, and the detail sentence. sources maps file names to their bytes (Pipeline.Source, or
// whatever was parsed when loading failed).
func WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, sources map[string][]byte) {
	for i, d := range diags {
		if i > 0 {
			fmt.Fprintln(w)
		}
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		if d.Subject == nil {
			fmt.Fprintf(w, "%s: %s\n", sev, d.Summary)
		} else {
			r := d.Subject
			fmt.Fprintf(w, "%s:%d:%d: %s: %s\n", r.Filename, r.Start.Line, r.Start.Column, sev, d.Summary)
			writeSnippet(w, r, sources[r.Filename])
		}
		if d.Detail != "" {
			fmt.Fprintf(w, "  %s\n", d.Detail)
		}
	}
}

// writeSnippet prints the first source line of r with a caret underline.
func writeSnippet(w io.Writer, r *hcl.Range, src []byte) {
	lines := bytes.Split(src, []byte("\n"))
	if r.Start.Line < 1 || r.Start.Line > len(lines) {
		return
	}
	line := strings.TrimRight(string(lines[r.Start.Line-1]), "\r")
	line = strings.ReplaceAll(line, "\t", " ")
	gutter := fmt.Sprintf("%5d | ", r.Start.Line)
	fmt.Fprintf(w, "%s%s\n", gutter, line)
	start := r.Start.Column - 1
	if start > len(line) {
		start = len(line)
	}
	end := len(line)
	if r.End.Line == r.Start.Line && r.End.Column-1 <= len(line) {
		end = r.End.Column - 1
	}
	width := max(end-start, 1)
	fmt.Fprintf(w, "%s%s%s\n", strings.Repeat(" ", 5)+" | ", strings.Repeat(" ", start), strings.Repeat("^", width))
}

// posOf formats the start of a range as file:line:col for use inside diagnostic sentences.
func posOf(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}
