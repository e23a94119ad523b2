package pipelines_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/pcamflow/pcamflow/pipelines"
)

// TestParallelInstancesAsSequential checks that evaluating a for_each stage's instances on every
// core while loading gives what evaluating them one by one gives: the same diagnostics (one
// instance in the middle fails) and, for every node, the same configuration, task and exposed
// value.
func TestParallelInstancesAsSequential(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one core: instances are evaluated one by one")
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "p.hcl")
	src := `
command "shard" {
  for_each = range(700)
  run      = ["sh", "-c", "echo ${each.key} > out/${each.key}.txt"]
  outputs  = ["out/${each.key}.txt"]
}
command "bad" {
  for_each = range(600)
  run      = ["echo", ["a", "b"][each.key == "450" ? 5 : 0]]
}
command "join" {
  run     = ["sh", "-c", "cat out/*.txt"]
  inputs  = [for s in command.shard : s.outputs[0]]
  outputs = ["all.txt"]
}
`
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	describe := func(parallelFrom int) (string, map[string]string) {
		defer pipelines.SetParallelInstances(parallelFrom)()
		p, diags := load(t, f, pipelines.Options{})
		nodes := map[string]string{}
		if p == nil {
			return diags.Error(), nodes
		}
		for _, n := range p.Nodes {
			cfg, task, exposed, checked := n.Checked()
			sv, static := n.StaticExposed()
			nodes[n.Addr] = fmt.Sprintf("%#v %+v %#v %v %#v %v", cfg, task, exposed, checked, sv, static)
		}
		return diags.Error(), nodes
	}
	seqDiags, seq := describe(1 << 30)
	parDiags, par := describe(2)
	if seqDiags == "" {
		t.Fatal("the failing instance gave no diagnostic")
	}
	if parDiags != seqDiags {
		t.Errorf("diagnostics differ:\nparallel:   %s\nsequential: %s", parDiags, seqDiags)
	}
	if len(seq) == 0 || len(par) != len(seq) {
		t.Fatalf("%d nodes in parallel, %d sequential", len(par), len(seq))
	}
	for addr, want := range seq {
		if par[addr] != want {
			t.Errorf("%s differs:\nparallel:   %.300s\nsequential: %.300s", addr, par[addr], want)
		}
	}
}
