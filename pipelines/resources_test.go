package pipelines_test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages/builtin"
)

// TestResourceValues runs testdata/resources/cases.txt: every resource value is checked when the
// pipeline loads, with a diagnostic at the value that says what is accepted, in a stage's resources
// block and in the pipeline-wide slurm block alike.
func TestResourceValues(t *testing.T) {
	f, err := os.Open("testdata/resources/cases.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, "|")
		if len(parts) != 3 {
			t.Fatalf("bad case line %q", line)
		}
		assign, summary, detail := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1]), strings.TrimSpace(parts[2])
		detail = unquoteCase(detail)
		n++
		for _, block := range []string{"stage", "slurm"} {
			t.Run(block+"/"+assign, func(t *testing.T) {
				src := "command \"a\" {\n  run = [\"true\"]\n  resources {\n    " + assign + "\n  }\n}\n"
				if block == "slurm" {
					if strings.HasPrefix(assign, "executor") {
						t.Skip("executor is per stage")
					}
					src = "slurm {\n    " + assign + "\n}\ncommand \"a\" {\n  run = [\"true\"]\n}\n"
				}
				p, diags := pipelines.Load("res.hcl", []byte(src), builtin.Registry(), pipelines.Options{})
				if summary == "ok" {
					if diags.HasErrors() || p == nil {
						t.Fatalf("refused: %v", diags)
					}
					return
				}
				if len(diags) != 1 {
					t.Fatalf("got %d diagnostics %v, want one %q", len(diags), diags, summary)
				}
				d := diags[0]
				line := 4
				if block == "slurm" {
					line = 2
				}
				if d.Summary != summary || !strings.Contains(d.Detail, detail) || d.Subject == nil || d.Subject.Start.Line != line {
					t.Fatalf("got %v (detail %q), want %q containing %q on line %d", d, d.Detail, summary, detail, line)
				}
			})
		}
	}
	if n < 40 {
		t.Fatalf("only %d cases read", n)
	}
}

// unquoteCase turns \n in a case file into a newline.
func unquoteCase(s string) string {
	if u, err := strconv.Unquote(`"` + strings.ReplaceAll(s, `"`, `\"`) + `"`); err == nil {
		return u
	}
	return s
}

// TestResourcesAllReported: every bad value of one block is reported at once.
func TestResourcesAllReported(t *testing.T) {
	src := "command \"a\" {\n  run = [\"true\"]\n  resources {\n    gpus = 1.5\n    cpus = -1\n    mem = \"8GB\"\n    time = \"2h\"\n  }\n}\n"
	_, diags := pipelines.Load("res.hcl", []byte(src), builtin.Registry(), pipelines.Options{})
	if len(diags) != 4 {
		t.Fatalf("got %d diagnostics, want 4: %v", len(diags), diags)
	}
}
