package pipelines_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages/builtin"
)

func load(t *testing.T, path string, opt pipelines.Options) (*pipelines.Pipeline, hcl.Diagnostics) {
	t.Helper()
	return pipelines.LoadFile(path, builtin.Registry(), opt)
}

func TestValidPipelines(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*.hcl")
	if len(files) == 0 {
		t.Fatal("no valid test pipelines")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p, diags := load(t, f, pipelines.Options{})
			if diags.HasErrors() {
				t.Fatalf("unexpected diagnostics: %s", diags.Error())
			}
			if p == nil || len(p.Order) != len(p.Stages) {
				t.Fatalf("pipeline not fully ordered")
			}
		})
	}
}

func TestDiamondStructure(t *testing.T) {
	p, diags := load(t, "testdata/valid/diamond.hcl", pipelines.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if p.Name != "diamond" || p.Seed != 7 {
		t.Errorf("name/seed = %q/%d", p.Name, p.Seed)
	}
	var order []string
	for _, s := range p.Order {
		order = append(order, s.Addr)
	}
	if got := strings.Join(order, ","); got != "command.a,command.b,command.c,command.d" {
		t.Errorf("order = %s", got)
	}
	d, _ := p.Stage("command.d")
	if got := strings.Join(d.Upstream, ","); got != "command.a,command.b,command.c" {
		t.Errorf("upstream of d = %s", got)
	}
	if d.Resources == nil || d.Resources.Partition != "thin_course" || d.Resources.Time != "00:10:00" {
		t.Errorf("resources = %+v", d.Resources)
	}
	if got := p.Locals["upper"].AsString(); got != "HELLO" {
		t.Errorf("local.upper = %q", got)
	}
}

// TestInvalidPipelines checks that every invalid file yields the expected diagnostics at the expected
// positions, with a sentence that helps.
func TestInvalidPipelines(t *testing.T) {
	type want struct {
		pos     string // "line:col"
		summary string
		detail  string // substring of the detail
	}
	cases := map[string][]want{
		"syntax.hcl":           {{"3:1", "Missing item separator", ""}},
		"unknown_block.hcl":    {{"1:1", "Unsupported block type", `Did you mean "command"?`}},
		"unknown_attr.hcl":     {{"3:3", "Unsupported argument", `Did you mean "outputs"?`}},
		"wrong_type.hcl":       {{"2:9", "Incorrect attribute value type", "list of string"}},
		"missing_required.hcl": {{"1:13", "Missing required argument", `"run" is required`}},
		"duplicate_stage.hcl":  {{"5:9", "Duplicate stage name", "already declared at"}},
		"undefined_stage.hcl":  {{"8:13", "Reference to undeclared stage", `Did you mean "command.prep"?`}},
		"undefined_output.hcl": {{"8:33", "Reference to undeclared output", `Did you mean "data"?`}},
		"undefined_var.hcl":    {{"6:16", "Reference to undeclared variable", `Did you mean "data_dir"?`}},
		"cycle.hcl": {
			{"3:14", "Dependency cycle", "command.a refers to command.c"},
			{"15:14", "Dependency cycle", "command.c refers to command.b"},
			{"9:14", "Dependency cycle", "command.b refers to command.a"},
		},
		"many.hcl": {
			{"2:10", "Invalid seed", "whole number"},
			{"7:3", "Unsupported argument", ""},
			{"11:25", "Reference to undeclared variable", ""},
			{"6:12", "Empty command", ""},
			{"12:17", "Reference to undeclared stage", ""},
		},
	}
	for file, wants := range cases {
		t.Run(file, func(t *testing.T) {
			p, diags := load(t, filepath.Join("testdata/invalid", file), pipelines.Options{})
			if p != nil || !diags.HasErrors() {
				t.Fatalf("expected errors, got pipeline %v", p)
			}
			for _, w := range wants {
				if !hasDiag(diags, w.pos, w.summary, w.detail) {
					t.Errorf("missing diagnostic %s %q (%q); got:\n%s", w.pos, w.summary, w.detail, render(diags, file))
				}
			}
			for _, d := range diags {
				if d.Severity == hcl.DiagError && d.Subject == nil {
					t.Errorf("diagnostic without a source range: %s", d.Summary)
				}
			}
		})
	}
}

func hasDiag(diags hcl.Diagnostics, pos, summary, detail string) bool {
	for _, d := range diags {
		if d.Subject == nil {
			continue
		}
		at := strings.Join([]string{itoa(d.Subject.Start.Line), itoa(d.Subject.Start.Column)}, ":")
		if at == pos && d.Summary == summary && strings.Contains(d.Detail, detail) {
			return true
		}
	}
	return false
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(i)) }

func fmtInt(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			break
		}
	}
	return string(b[n:])
}

func render(diags hcl.Diagnostics, file string) string {
	var buf bytes.Buffer
	src, _ := os.ReadFile(filepath.Join("testdata/invalid", file))
	pipelines.WriteDiagnostics(&buf, diags, map[string][]byte{filepath.Join("testdata/invalid", file): src})
	return buf.String()
}
