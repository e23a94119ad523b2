package pipelines_test

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages/builtin"
)

// TestDiagnosticsNeverEchoRawBytes: a pipeline of binary garbage (NUL, terminal escapes, bell,
// invalid UTF-8, a bidirectional override) is reported without sending any of those bytes to the
// terminal, with the caret under the escaped character.
func TestDiagnosticsNeverEchoRawBytes(t *testing.T) {
	src := []byte("command \"a\" {\n  run = [\"x\"]\x00\x01\x1b[31mRED\x07\n}\n\xff\xfe junk \x1b]0;title\x07 \u202e\n\x00\x00\x00")
	_, diags := pipelines.Load("garbage.hcl", src, builtin.Registry(), pipelines.Options{
		Vars: []string{"x\x1b[2J=1"}})
	if !diags.HasErrors() {
		t.Fatal("garbage loaded")
	}
	var buf bytes.Buffer
	pipelines.WriteDiagnostics(&buf, diags, map[string][]byte{"garbage.hcl": src})
	out := buf.String()
	if !utf8.ValidString(out) {
		t.Fatalf("output is not valid UTF-8:\n%q", out)
	}
	for _, r := range out {
		if r != '\n' && !unicode.IsPrint(r) {
			t.Fatalf("output contains %U:\n%s", r, out)
		}
	}
	for _, want := range []string{
		`    2 |   run = ["x"]\x00\x01\x1b[31mRED\x07` + "\n" + `      |              ^^^^` + "\n",
		`    4 | \xff\xfe junk \x1b]0;title\x07 \u202e`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestDiagnosticsLongLine: a diagnostic in a very long line shows a window around the subject,
// not the whole line, and the caret stays under the subject.
func TestDiagnosticsLongLine(t *testing.T) {
	src := []byte("locals {\n  x = [" + strings.Repeat("1, ", 100000) + "nope]\n}\n")
	_, diags := pipelines.Load("long.hcl", src, builtin.Registry(), pipelines.Options{})
	if !diags.HasErrors() {
		t.Fatal("loaded")
	}
	var buf bytes.Buffer
	pipelines.WriteDiagnostics(&buf, diags, map[string][]byte{"long.hcl": src})
	lines := strings.Split(buf.String(), "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "long.hcl:2:300008: error:") {
		t.Fatalf("unexpected output:\n%s", buf.String())
	}
	snippet, caret := lines[1], lines[2]
	if n := utf8.RuneCountInString(snippet); n > 140 {
		t.Fatalf("snippet of %d characters", n)
	}
	at := strings.Index(caret, "^")
	if got := string([]rune(snippet)[utf8.RuneCountInString(caret[:at]):][:4]); got != "nope" {
		t.Fatalf("caret under %q, want under nope:\n%s\n%s", got, snippet, caret)
	}
}
