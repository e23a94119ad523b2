package pipelines_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages/builtin"
)

// hostile builds a pipeline whose local "x" is expr, on line 2 after "  x = " (column 7).
func hostile(expr string) []byte {
	return []byte("locals {\n  x = " + expr + "\n}\n")
}

// TestShapeLimits: sources that would make the HCL parser or evaluator recurse without bound (and
// the Go runtime die with "stack overflow", which no recover catches) are refused with one
// diagnostic at the place where the limit is exceeded, before the parser sees them. The shapes of
// issue 13 are generated at their full size.
func TestShapeLimits(t *testing.T) {
	sum := func(n int) string { return strings.Repeat("1+", n-1) + "1" }
	cases := []struct {
		name    string
		src     []byte
		summary string
		line    int
		col     int
	}{
		{"70,000 parentheses", hostile(strings.Repeat("(", 70000) + "1" + strings.Repeat(")", 70000)),
			"Expression nested too deeply", 2, 7 + pipelines.MaxNesting - 1},
		{"1M unary minus", hostile(strings.Repeat("-", 1000000) + "1"),
			"Expression too long", 2, 7 + pipelines.MaxOperators},
		{"flat 1M-term sum", hostile(sum(1000000)),
			"Expression too long", 2, 7 + 2*pipelines.MaxOperators + 1},
		{"150k conditionals", hostile(strings.Repeat("true ? 1 : ", 150000) + "1"),
			"Expression too long", 2, 7 + 11*pipelines.MaxOperators + 5},
		{"nested templates", hostile(strings.Repeat(`"${`, 50000) + "x" + strings.Repeat(`}"`, 50000)),
			"Expression nested too deeply", 2, 8 + 3*(pipelines.MaxNesting/2-1)},
		{"nested objects", hostile(strings.Repeat("{a=", 50000) + "1" + strings.Repeat("}", 50000)),
			"Expression nested too deeply", 2, 7 + 3*(pipelines.MaxNesting-1)},
		{"index chain", hostile("[1]" + strings.Repeat("[0]", 600000)),
			"Expression too long", 2, 10 + 3*(pipelines.MaxOperators-1)},
		{"too big", []byte("# " + strings.Repeat("x", pipelines.MaxSourceBytes) + "\n"),
			"Pipeline file too large", 1, pipelines.MaxSourceBytes + 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, diags := pipelines.Load("hostile.hcl", tc.src, builtin.Registry(), pipelines.Options{})
			if p != nil || len(diags) != 1 || !diags.HasErrors() {
				t.Fatalf("got %d diagnostics %v, want exactly one error", len(diags), diags)
			}
			d := diags[0]
			if d.Summary != tc.summary || d.Subject == nil {
				t.Fatalf("diagnostic %q at %v, want %q with a subject", d.Summary, d.Subject, tc.summary)
			}
			if got, want := fmt.Sprintf("%d:%d", d.Subject.Start.Line, d.Subject.Start.Column), fmt.Sprintf("%d:%d", tc.line, tc.col); got != want {
				t.Errorf("at %s, want %s (%s)", got, want, d.Detail)
			}
			if !strings.Contains(d.Detail, "limit") {
				t.Errorf("the detail does not state the limit: %s", d.Detail)
			}
			// fmt and -var-file use the same check.
			if cd := pipelines.CheckSource("hostile.hcl", tc.src); len(cd) != 1 || cd[0].Summary != tc.summary {
				t.Errorf("CheckSource = %v", cd)
			}
		})
	}
}

// TestShapeLimitsAllowRealPipelines: a source right at the limits loads, and wide but shallow
// sources (long lists, many attributes, long traversals) are not affected.
func TestShapeLimitsAllowRealPipelines(t *testing.T) {
	n := pipelines.MaxNesting - 1 // the locals block's braces count as one level
	ops := pipelines.MaxOperators
	for name, src := range map[string][]byte{
		"deepest nesting":   hostile(strings.Repeat("(", n) + "1" + strings.Repeat(")", n)),
		"longest sum":       hostile(strings.Repeat("1+", ops) + "1"),
		"sum per list item": hostile("[" + strings.Repeat(strings.Repeat("1+", ops-1)+"1,", 20) + "]"),
		"100k list":         hostile("[" + strings.Repeat("1, ", 100000) + "]"),
		"long traversal":    hostile("{a=1}" + strings.Repeat(".a", 10)),
		"many attributes":   []byte("locals {\n" + strings.Repeat("  x = 1 + 2 - 3\n", 20000) + "}\n"),
	} {
		t.Run(name, func(t *testing.T) {
			if diags := pipelines.CheckSource("ok.hcl", src); diags.HasErrors() {
				t.Fatalf("refused: %v", diags)
			}
		})
	}
	// The whole load, with evaluation, at the limits.
	for _, src := range [][]byte{
		hostile(strings.Repeat("(", n) + "1" + strings.Repeat(")", n)),
		hostile(strings.Repeat("1+", ops) + "1"),
		hostile(strings.Repeat("-", ops) + "1"),
	} {
		if _, diags := pipelines.Load("ok.hcl", src, builtin.Registry(), pipelines.Options{}); diags.HasErrors() {
			t.Fatalf("refused: %v", diags)
		}
	}
}

// TestShapeLimitsInVariables: -var values and -var-file files are checked as well.
func TestShapeLimitsInVariables(t *testing.T) {
	src := []byte("variable \"n\" {\n  type = number\n}\n")
	deep := strings.Repeat("(", 70000) + "1" + strings.Repeat(")", 70000)
	_, diags := pipelines.Load("v.hcl", src, builtin.Registry(), pipelines.Options{Vars: []string{"n=" + deep}})
	if !hasSummary(diags, "Invalid value for variable n") || !strings.Contains(diags.Error(), "nested too deeply") {
		t.Fatalf("-var: %v", diags)
	}
	file := t.TempDir() + "/values.hcl"
	writeTestFile(t, file, "n = "+strings.Repeat("1+", 1000000)+"1\n")
	_, diags = pipelines.Load("v.hcl", src, builtin.Registry(), pipelines.Options{VarFiles: []string{file}})
	if !hasSummary(diags, "Expression too long") {
		t.Fatalf("-var-file: %v", diags)
	}
}

func hasSummary(diags hcl.Diagnostics, s string) bool {
	for _, d := range diags {
		if d.Summary == s {
			return true
		}
	}
	return false
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestShapeScannerSkipsTextAndComments: brackets and operators in comments, strings and heredocs
// are text, not code; interpolations inside them are code again.
func TestShapeScannerSkipsTextAndComments(t *testing.T) {
	many := strings.Repeat("(+", 20000)
	ok := map[string]string{
		"hash comment":   "# " + many + "\nx = 1\n",
		"slash comment":  "// " + many + "\nx = 1\n",
		"block comment":  "/* " + many + "\n" + many + " */\nx = 1\n",
		"quoted string":  `x = "` + many + `"` + "\n",
		"escaped quote":  `x = "\"` + many + `"` + "\n",
		"literal ${":     `x = "$${` + many + `"` + "\n",
		"heredoc":        "x = <<EOT\n" + many + "\n  EOT\ny = 1 + 2\n",
		"indent heredoc": "x = <<-EOT\n  " + many + "\n  EOT\n",
		"many strings":   "x = [" + strings.Repeat(`"a", `, 50000) + "]\n",
	}
	for name, src := range ok {
		if diags := pipelines.CheckSource("ok.hcl", []byte(src)); diags.HasErrors() {
			t.Errorf("%s: refused: %v", name, diags)
		}
	}
	deep := strings.Repeat("(", pipelines.MaxNesting+1) + "1" + strings.Repeat(")", pipelines.MaxNesting+1)
	bad := map[string]string{
		"in quoted interpolation":  `x = "${` + deep + `}"` + "\n",
		"in heredoc interpolation": "x = <<EOT\n${" + deep + "}\nEOT\n",
		"after a heredoc":          "x = <<EOT\n(((\nEOT\ny = " + deep + "\n",
		"after a comment":          "# ((((\nx = " + deep + "\n",
	}
	for name, src := range bad {
		if diags := pipelines.CheckSource("bad.hcl", []byte(src)); len(diags) != 1 || diags[0].Summary != "Expression nested too deeply" {
			t.Errorf("%s: got %v, want nested too deeply", name, diags)
		}
	}
}
