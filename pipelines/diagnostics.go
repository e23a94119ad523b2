package pipelines

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics renders diags for a terminal or a log: one "file:line:col: error: summary" line
// per diagnostic (the form editors and CI annotators understand), the source line with the subject
// underlined, and the detail sentence. sources maps file names to their bytes (Pipeline.Source, or
// whatever was parsed when loading failed). Nothing from the input reaches the terminal raw: control
// characters, invalid UTF-8 and invisible format characters (such as bidirectional overrides) are
// shown as escapes (\x00, \u202e), and a long source line is cut to a window around the subject.
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
			fmt.Fprintf(w, "%s: %s\n", sev, Printable(d.Summary))
		} else {
			r := d.Subject
			fmt.Fprintf(w, "%s:%d:%d: %s: %s\n", Printable(r.Filename), r.Start.Line, r.Start.Column, sev, Printable(d.Summary))
			writeSnippet(w, r, sources[r.Filename])
		}
		if d.Detail != "" {
			fmt.Fprintf(w, "  %s\n", Printable(d.Detail))
		}
	}
}

// snippetWidth is the most characters of a source line a diagnostic shows.
const snippetWidth = 120

// writeSnippet prints the source line of r's start, escaped and cut to a window around the subject,
// with a caret underline.
func writeSnippet(w io.Writer, r *hcl.Range, src []byte) {
	line, from, to, ok := subjectLine(r, src)
	if !ok {
		return
	}
	// Only the bytes around the subject can be shown: cut the rest before rendering (a hostile line
	// may have millions of characters).
	cutLeft, cutRight := false, false
	if from > 4*snippetWidth {
		lo := from - 4*snippetWidth
		for lo < from && !utf8.RuneStart(line[lo]) {
			lo++
		}
		line, from, to, cutLeft = line[lo:], from-lo, to-lo, true
	}
	if len(line)-from > 8*snippetWidth {
		hi := from + 8*snippetWidth
		for hi > from && !utf8.RuneStart(line[hi]) {
			hi--
		}
		line, to, cutRight = line[:hi], min(to, hi), true
	}
	// Render the line piece by piece, keeping the display column where each byte starts.
	var b strings.Builder
	cols := make([]int, 0, 64) // cols[k]: display column of the k-th rune
	offs := make([]int, 0, 64) // offs[k]: byte offset of the k-th rune in line
	col := 0
	for off := 0; off < len(line); {
		r, size := utf8.DecodeRune(line[off:])
		piece := escapeRune(r, line[off:off+size])
		cols, offs = append(cols, col), append(offs, off)
		b.WriteString(piece)
		col += utf8.RuneCountInString(piece)
		off += size
	}
	text := []rune(b.String())
	colAt := func(byteOff int) int {
		for k, o := range offs {
			if o >= byteOff {
				return cols[k]
			}
		}
		return len(text)
	}
	start, end := colAt(from), colAt(to)
	width := max(end-start, 1)
	lo := 0
	if len(text) > snippetWidth {
		lo = max(0, min(start-snippetWidth/3, len(text)-snippetWidth))
	}
	hi := min(len(text), lo+snippetWidth)
	shown := string(text[lo:hi])
	lead := start - lo
	if lo > 0 || cutLeft {
		shown, lead = "…"+shown, lead+1
	}
	if hi < len(text) || cutRight {
		shown += "…"
	}
	width = min(width, max(hi-start, 1))
	gutter := fmt.Sprintf("%5d | ", r.Start.Line)
	fmt.Fprintf(w, "%s%s\n", gutter, shown)
	fmt.Fprintf(w, "%s%s%s\n", strings.Repeat(" ", 5)+" | ", strings.Repeat(" ", lead), strings.Repeat("^", width))
}

// subjectLine returns the source line holding r's start (without its newline) and the byte
// offsets, within that line, of r's start and of its end (the line's end when r spans lines).
// It uses r's byte offsets when they are consistent with src, else its line and column.
func subjectLine(r *hcl.Range, src []byte) (line []byte, from, to int, ok bool) {
	if r.Start.Line < 1 {
		return nil, 0, 0, false
	}
	b := r.Start.Byte
	if b < 0 || b > len(src) || (b == 0 && r.Start.Line > 1) {
		lines := bytes.Split(src, []byte("\n"))
		if r.Start.Line > len(lines) {
			return nil, 0, 0, false
		}
		line = bytes.TrimRight(lines[r.Start.Line-1], "\r")
		from = byteOfColumn(line, r.Start.Column)
		to = len(line)
		if r.End.Line == r.Start.Line {
			to = byteOfColumn(line, r.End.Column)
		}
		return line, from, max(to, from), true
	}
	lineStart := bytes.LastIndexByte(src[:b], '\n') + 1
	lineEnd := len(src)
	if i := bytes.IndexByte(src[b:], '\n'); i >= 0 {
		lineEnd = b + i
	}
	line = bytes.TrimRight(src[lineStart:lineEnd], "\r")
	from = min(b-lineStart, len(line))
	to = len(line)
	if r.End.Line == r.Start.Line && r.End.Byte >= b && r.End.Byte-lineStart <= len(line) {
		to = r.End.Byte - lineStart
	}
	return line, from, to, true
}

// byteOfColumn is the byte offset of the 1-based column col (counted in runes) of line.
func byteOfColumn(line []byte, col int) int {
	off := 0
	for c := 1; c < col && off < len(line); c++ {
		_, size := utf8.DecodeRune(line[off:])
		off += size
	}
	return off
}

// escapeRune is how one rune of the input is shown: itself when printable, a space for a tab, and
// an escape otherwise (\xNN for invalid bytes and ASCII controls, \uNNNN for other invisible
// characters).
func escapeRune(r rune, raw []byte) string {
	switch {
	case r == '\t':
		return " "
	case r == utf8.RuneError && len(raw) == 1:
		return fmt.Sprintf("\\x%02x", raw[0])
	case r < 0x20 || r == 0x7f:
		return fmt.Sprintf("\\x%02x", r)
	case !unicode.IsPrint(r):
		return fmt.Sprintf("\\u%04x", r)
	}
	return string(raw)
}

// Printable returns s with every character that could act on a terminal escaped as in diagnostic
// snippets (see WriteDiagnostics); newlines and tabs are kept.
func Printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || (r != '\n' && r != '\t' && !unicode.IsPrint(r)) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for off := 0; off < len(s); {
		r, size := utf8.DecodeRuneInString(s[off:])
		if r == '\n' || r == '\t' {
			b.WriteRune(r)
		} else {
			b.WriteString(escapeRune(r, []byte(s[off:off+size])))
		}
		off += size
	}
	return b.String()
}

// posOf formats the start of a range as file:line:col for use inside diagnostic sentences.
func posOf(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}
