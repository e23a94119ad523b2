package pipelines

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/stages/command"
)

// TestNodeEvalAsEvalNode checks that evaluating the nodes of a stage with one shared context
// (nodeEval) gives what EvalNode gives node by node: the same configurations and, for the nodes
// that fail, the same diagnostics, rendered with the values of their own `each` even after later
// nodes were evaluated in the shared context.
func TestNodeEvalAsEvalNode(t *testing.T) {
	src := []byte(`
command "up" {
  run     = ["true"]
  outputs = ["a", "b", "c", "d", "e"]
}
command "fan" {
  for_each = range(5)
  run      = ["cat", command.up.outputs[each.value], "${each.key}"]
  outputs  = ["out/${each.key}"]
}
command "one" {
  run = ["cat", command.up.outputs[3]]
}
`)
	p, diags := Load("p.hcl", src, stages.NewRegistry(command.New()), Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	// command.up now exposes two outputs: the instances with each.value >= 2 and command.one fail.
	exposed := map[string]cty.Value{"command.up": cty.ObjectVal(map[string]cty.Value{
		"outputs": cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}),
	})}
	render := func(d hcl.Diagnostics) string {
		var b bytes.Buffer
		w := hcl.NewDiagnosticTextWriter(&b, map[string]*hcl.File{"p.hcl": {Bytes: src}}, 100, false)
		if err := w.WriteDiagnostics(d); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	failed := 0
	for _, addr := range []string{"command.fan", "command.one"} {
		s, _ := p.Stage(addr)
		ev := p.newNodeEval(s, exposed)
		var got []string
		var gotDiags []hcl.Diagnostics
		for _, n := range s.Nodes {
			cfg, d := ev.eval(n)
			got = append(got, fmt.Sprintf("%#v", cfg))
			gotDiags = append(gotDiags, d)
		}
		for i, n := range s.Nodes {
			cfg, d := p.EvalNode(n, exposed)
			if want := fmt.Sprintf("%#v", cfg); got[i] != want {
				t.Errorf("%s: configuration\n%s\nwant\n%s", n.Addr, got[i], want)
			}
			if g, w := render(gotDiags[i]), render(d); g != w {
				t.Errorf("%s: diagnostics\n%s\nwant\n%s", n.Addr, g, w)
			}
			if d.HasErrors() {
				failed++
			}
		}
	}
	if failed != 4 {
		t.Fatalf("%d nodes failed, want 4 (the test no longer tests diagnostics)", failed)
	}
	s, _ := p.Stage("command.fan")
	_, d := p.newNodeEval(s, exposed).eval(s.Nodes[3])
	if out := render(d); !bytes.Contains([]byte(out), []byte("each.value as 3.")) {
		t.Errorf("the diagnostic of instance 3 does not show its each.value:\n%s", out)
	}
}
