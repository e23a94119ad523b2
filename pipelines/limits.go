package pipelines

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// Limits on the shape of a pipeline source. The HCL parser and evaluator recurse once per level of
// brackets and once per operator of a chain such as 1+1+1 (the tree of a chain is as deep as the
// chain is long), and Go cannot recover from running out of stack: a file of 70,000 parentheses or
// a 1,000,000-term sum would end the process with "fatal error: stack overflow". CheckSource
// refuses such a source before the parser sees it. No hand-written pipeline comes near the limits.
const (
	// MaxSourceBytes is the largest pipeline or variable file accepted (2 MiB).
	MaxSourceBytes = 2 << 20
	// MaxNesting is the deepest nesting of brackets, braces, parentheses, quoted strings and ${ }
	// interpolations (a block's braces count as one level).
	MaxNesting = 256
	// MaxOperators is the longest chain of operators in one expression: binary and unary
	// operators, the ? of conditionals and [ ] indexing, counted from the start of the expression
	// through every enclosing bracket (a comma, = or a new item starts a new expression).
	MaxOperators = 10000
)

// CheckSource returns one error diagnostic, placed where the limit is exceeded, when src (named
// filename) is larger than MaxSourceBytes or nests or chains deeper than MaxNesting and
// MaxOperators allow; nil otherwise. Syntax errors are left to the parser.
func CheckSource(filename string, src []byte) hcl.Diagnostics {
	if len(src) > MaxSourceBytes {
		pos := posAt(src, MaxSourceBytes)
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Pipeline file too large",
			Detail: fmt.Sprintf("The file has %d bytes; the limit is %d (%d MiB). Pipeline files describe stages, not data: "+
				"put long lists in a data file the stage reads as an input.", len(src), MaxSourceBytes, MaxSourceBytes>>20),
			Subject: &hcl.Range{Filename: filename, Start: pos, End: pos}}}
	}
	return newShapeScanner(filename, src, true).scan()
}

// checkExpressionSource is CheckSource for a lone expression, such as the text of -var name=value.
func checkExpressionSource(filename string, src []byte) hcl.Diagnostics {
	if len(src) > MaxSourceBytes {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Value too large",
			Detail: fmt.Sprintf("The value has %d bytes; the limit is %d.", len(src), MaxSourceBytes)}}
	}
	return newShapeScanner(filename, src, false).scan()
}

// levelKind is what opened a level of the shape scanner's stack.
type levelKind uint8

const (
	levelBody    levelKind = iota // the file, or a lone expression
	levelBrace                    // { } of a block or an object: newlines separate items
	levelBracket                  // [ ] or ( ): newlines are ignored
	levelInterp                   // ${ } or %{ } inside a template
	levelQuote                    // "..." template
	levelHeredoc                  // <<ID ... ID template
)

// level is one open level: its kind, the heredoc's end marker, and the operators counted in it
// since its last separator.
type level struct {
	kind   levelKind
	marker string
	ops    int
}

// shapeScanner measures nesting and operator chains in one pass over the bytes. It understands
// just enough of HCL's lexical structure (comments, quoted and heredoc templates with their
// interpolations, escapes) to count brackets and operators in code only; it overcounts in doubtful
// cases (a "-" inside an identifier or an exponent), which the limits' margin absorbs. It allocates
// nothing per token: HCL's own lexer needs about 100 bytes per token and seconds for a hostile
// file of millions of tokens.
type shapeScanner struct {
	filename  string
	src       []byte
	i         int // byte offset
	line, col int // position of src[i]
	stack     []level
	total     int // operators counted in every level of the stack
}

func newShapeScanner(filename string, src []byte, body bool) *shapeScanner {
	first := level{kind: levelBody}
	if !body {
		first.kind = levelBracket // a lone expression: newlines do not end it
	}
	return &shapeScanner{filename: filename, src: src, line: 1, col: 1, stack: []level{first}}
}

// top is the innermost open level.
func (s *shapeScanner) top() *level { return &s.stack[len(s.stack)-1] }

// advance moves past n bytes, keeping line and column (in runes) up to date.
func (s *shapeScanner) advance(n int) {
	for end := min(s.i+n, len(s.src)); s.i < end; {
		c := s.src[s.i]
		switch {
		case c == '\n':
			s.line, s.col = s.line+1, 1
			s.i++
		case c < utf8.RuneSelf:
			s.col++
			s.i++
		default:
			_, size := utf8.DecodeRune(s.src[s.i:])
			s.col++
			s.i += size
		}
	}
}

// here is the range of the n bytes at the current position (on one line).
func (s *shapeScanner) here(n int) *hcl.Range {
	start := hcl.Pos{Line: s.line, Column: s.col, Byte: s.i}
	end := hcl.Pos{Line: s.line, Column: s.col + n, Byte: s.i + n}
	return &hcl.Range{Filename: s.filename, Start: start, End: end}
}

// at reports whether the source continues with p at the current position.
func (s *shapeScanner) at(p string) bool {
	return len(s.src)-s.i >= len(p) && string(s.src[s.i:s.i+len(p)]) == p
}

// scan walks the whole source and returns the first limit exceeded, if any.
func (s *shapeScanner) scan() hcl.Diagnostics {
	for s.i < len(s.src) {
		var d hcl.Diagnostics
		switch s.top().kind {
		case levelQuote, levelHeredoc:
			d = s.template()
		default:
			d = s.code()
		}
		if d != nil {
			return d
		}
	}
	return nil
}

// code handles one step in code: a comment, a bracket, a string or heredoc start, a separator or
// an operator; anything else is skipped.
func (s *shapeScanner) code() hcl.Diagnostics {
	c := s.src[s.i]
	switch {
	case c == '#' || s.at("//"):
		for s.i < len(s.src) && s.src[s.i] != '\n' {
			s.advance(1)
		}
	case s.at("/*"):
		s.advance(2)
		for s.i < len(s.src) && !s.at("*/") {
			s.advance(1)
		}
		s.advance(2)
	case c == '{':
		return s.open(levelBrace, "", 1)
	case c == '(':
		return s.open(levelBracket, "", 1)
	case c == '[':
		// x[i][j]... builds a chain of index expressions as deep as it is long.
		if d := s.operator(1); d != nil {
			return d
		}
		return s.open(levelBracket, "", 1)
	case c == '}' || c == ')' || c == ']':
		s.close()
		s.advance(1)
	case c == '"':
		return s.open(levelQuote, "", 1)
	case s.at("<<"):
		return s.heredoc()
	case c == ',' || s.at("=>"):
		s.separate()
		s.advance(1)
	case c == '=' && !s.at("=="):
		s.separate()
		s.advance(1)
	case c == '\n':
		if k := s.top().kind; k == levelBody || k == levelBrace {
			s.separate()
		}
		s.advance(1)
	case s.at("==") || s.at("!=") || s.at("<=") || s.at(">=") || s.at("&&") || s.at("||"):
		return s.operator(2)
	case strings.IndexByte("+-*/%<>!?", c) >= 0:
		return s.operator(1)
	default:
		s.advance(1)
	}
	return nil
}

// template handles one step inside a quoted or heredoc template: an escape, an interpolation, the
// end of the template, or literal text.
func (s *shapeScanner) template() hcl.Diagnostics {
	t := s.top()
	c := s.src[s.i]
	switch {
	case s.at("$${") || s.at("%%{"):
		s.advance(3)
	case s.at("${") || s.at("%{"):
		return s.open(levelInterp, "", 2)
	case t.kind == levelQuote && c == '\\':
		s.advance(2)
	case t.kind == levelQuote && (c == '"' || c == '\n'): // a newline is the parser's error to report
		s.close()
		s.advance(1)
	case t.kind == levelHeredoc && c == '\n':
		s.advance(1)
		end := s.i
		for end < len(s.src) && s.src[end] != '\n' {
			end++
		}
		if strings.TrimSpace(string(s.src[s.i:end])) == t.marker {
			s.close()
			s.advance(end - s.i)
		}
	default:
		s.advance(1)
	}
	return nil
}

// heredoc opens a <<ID or <<-ID template when the rest of the line is its marker; otherwise the
// < is an operator.
func (s *shapeScanner) heredoc() hcl.Diagnostics {
	j := s.i + 2
	if j < len(s.src) && s.src[j] == '-' {
		j++
	}
	k := j
	for k < len(s.src) && (isIdentByte(s.src[k])) {
		k++
	}
	if k == j || k >= len(s.src) || (s.src[k] != '\n' && s.src[k] != '\r') {
		return s.operator(1)
	}
	if d := s.open(levelHeredoc, string(s.src[j:k]), k-s.i); d != nil {
		return d
	}
	return nil
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// open pushes a level for the n-byte opener at the current position.
func (s *shapeScanner) open(kind levelKind, marker string, n int) hcl.Diagnostics {
	if len(s.stack) > MaxNesting {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Expression nested too deeply",
			Detail: fmt.Sprintf("Brackets, braces, parentheses, strings and ${ } nest more than %d levels deep here "+
				"(the limit, so that checking the file cannot exhaust the stack). Simplify the expression, "+
				"or compute parts of it in locals.", MaxNesting),
			Subject: s.here(n)}}
	}
	s.stack = append(s.stack, level{kind: kind, marker: marker})
	s.advance(n)
	return nil
}

// close pops the innermost level; an unbalanced closer is the parser's to report.
func (s *shapeScanner) close() {
	if len(s.stack) > 1 {
		s.total -= s.top().ops
		s.stack = s.stack[:len(s.stack)-1]
	}
}

// separate starts a new expression in the innermost level.
func (s *shapeScanner) separate() {
	s.total -= s.top().ops
	s.top().ops = 0
}

// operator counts the n-byte operator at the current position and reports when the chain it
// belongs to is now too long.
func (s *shapeScanner) operator(n int) hcl.Diagnostics {
	if s.total >= MaxOperators {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Expression too long",
			Detail: fmt.Sprintf("This expression chains more than %d operators (the limit, so that checking the file cannot "+
				"exhaust the stack). Split it into several locals.", MaxOperators),
			Subject: s.here(n)}}
	}
	s.top().ops++
	s.total++
	s.advance(n)
	return nil
}

// posAt returns the line and column of byte offset off in src.
func posAt(src []byte, off int) hcl.Pos {
	line, start := 1, 0
	for i := 0; i < off; i++ {
		if src[i] == '\n' {
			line, start = line+1, i+1
		}
	}
	return hcl.Pos{Line: line, Column: utf8.RuneCount(src[start:off]) + 1, Byte: off}
}
