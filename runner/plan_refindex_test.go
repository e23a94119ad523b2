package runner_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pcamflow/pcamflow/runner"
)

// refIndexPipeline is a fan-out of n command nodes under a pipeline seed, plus a join.
func refIndexPipeline(n, seed int) string {
	return fmt.Sprintf(`
pipeline "p" {
  seed = %d
}
command "shard" {
  for_each = range(%d)
  run      = ["sh", "-c", "echo ${each.key} > out/${each.key}.txt"]
  outputs  = ["out/${each.key}.txt"]
}
command "single" {
  run     = ["sh", "-c", "echo one > single.txt"]
  outputs = ["single.txt"]
}
command "join" {
  run     = ["sh", "-c", "cat out/*.txt | wc -l > all.txt"]
  inputs  = [for s in command.shard : s.outputs[0]]
  outputs = ["all.txt"]
}
`, seed, n)
}

// planReasons plans src and returns each node's reasons.
func planReasons(t *testing.T, p *project, src string) map[string][]string {
	t.Helper()
	r, _ := p.runner(src, runner.Options{})
	plan, err := r.Plan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string][]string{}
	for _, n := range plan {
		reasons[n.Node] = n.Reasons
	}
	return reasons
}

// TestPlanReasonsFromRefIndex checks that a run leaves a ref index, that a plan of a changed
// pipeline gives the same reasons with and without it, and that a run changing some refs brings
// it up to date.
func TestPlanReasonsFromRefIndex(t *testing.T) {
	p := newProject(t)
	if sum, out := p.run(refIndexPipeline(40, 1), runner.Options{Jobs: 2}); !sum.OK() {
		t.Fatalf("run failed:\n%s", out)
	}
	index := filepath.Join(p.ws, "refs.index")
	if _, err := os.Stat(index); err != nil {
		t.Fatalf("no ref index after a run: %v", err)
	}
	withIndex := planReasons(t, p, refIndexPipeline(40, 2))
	if got := withIndex[`command.shard["7"]`]; len(got) != 1 || got[0] != "pipeline seed 1 -> 2" {
		t.Errorf("reason of a shard = %q, want the seed change", got)
	}
	saved, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(index); err != nil {
		t.Fatal(err)
	}
	if without := planReasons(t, p, refIndexPipeline(40, 2)); !reflect.DeepEqual(withIndex, without) {
		t.Errorf("reasons differ with the ref index and without:\n%v\n%v", withIndex, without)
	}

	// Run a part of the changed pipeline: its refs move, the old index no longer describes them
	// (it is put back first, as if this run had been another process) and the run rewrites it.
	if err := os.WriteFile(index, saved, 0o644); err != nil {
		t.Fatal(err)
	}
	if sum, out := p.run(refIndexPipeline(40, 2), runner.Options{Targets: []string{"command.single"}}); !sum.OK() {
		t.Fatalf("run failed:\n%s", out)
	}
	now, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	if string(now) == string(saved) {
		t.Error("the ref index was not rewritten by a run that moved a ref")
	}
	reasons := planReasons(t, p, refIndexPipeline(40, 3))
	if got := reasons["command.single"]; len(got) != 1 || got[0] != "pipeline seed 2 -> 3" {
		t.Errorf("reason of the re-run node = %q, want the seed change from its last run", got)
	}
	if got := reasons[`command.shard["0"]`]; len(got) != 1 || !strings.HasPrefix(got[0], "pipeline seed 1 -> 3") {
		t.Errorf("reason of a shard = %q, want the change from its last run", got)
	}
}
