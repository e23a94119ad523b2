package runner_test

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/runner"
)

const resolvePipeline = `
command "a" {
  run     = ["sh", "-c", "mkdir -p out; echo a > out/a.txt"]
  outputs = ["out/a.txt"]
}
command "b" {
  for_each = ["x", "y"]
  run      = ["sh", "-c", "cat out/a.txt > out/b-${each.key}.txt"]
  inputs   = command.a.outputs
  outputs  = ["out/b-${each.key}.txt"]
}
`

// TestResolve evaluates references against the cache: before the run it names the missing node,
// after it returns the value a downstream stage sees and the nodes it depends on.
func TestResolve(t *testing.T) {
	p := newProject(t)
	r, _ := p.runner(resolvePipeline, runner.Options{})
	if _, err := r.Resolve(`command.b["x"].outputs`); err == nil || !strings.Contains(err.Error(), "command.a is not in the cache with its current inputs: run the pipeline first") {
		t.Errorf("before the run: %v", err)
	}
	p.run(resolvePipeline, runner.Options{})
	r, _ = p.runner(resolvePipeline, runner.Options{})
	res, err := r.Resolve(`command.b["y"].outputs`)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Value.Index(cty.NumberIntVal(0)).AsString(); got != "out/b-y.txt" {
		t.Errorf("value %q", got)
	}
	var addrs []string
	for _, n := range res.Nodes {
		addrs = append(addrs, n.Addr)
		if n.Record == nil || n.Record.Key == "" {
			t.Errorf("%s has no record", n.Addr)
		}
		if n.Referenced != strings.HasPrefix(n.Addr, "command.b") {
			t.Errorf("%s: referenced %v", n.Addr, n.Referenced)
		}
	}
	if got := strings.Join(addrs, " "); got != `command.a command.b["x"] command.b["y"]` {
		t.Errorf("nodes %s", got)
	}
	for expr, want := range map[string]string{
		"command.bb":        `has no stage command.bb. Did you mean "command.b"?`,
		"command":           `"command" is not a stage reference: write KIND.NAME`,
		"1 +":               `is not a reference such as train.NAME`,
		"42":                `refers to no stage`,
		`command.b["z"]`:    `command.b["z"]`,
		"command.a.missing": `command.a.missing`,
	} {
		if _, err := r.Resolve(expr); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Resolve(%q): %v, want an error containing %q", expr, err, want)
		}
	}
}
