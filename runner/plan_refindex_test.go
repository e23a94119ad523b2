package runner_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/pcamflow/pcamflow/runner"
)

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
	if sum, out := p.run(string(fanoutSource(40, 1)), runner.Options{Jobs: 2}); !sum.OK() {
		t.Fatalf("run failed:\n%s", out)
	}
	index := filepath.Join(p.ws, "refs.index")
	if _, err := os.Stat(index); err != nil {
		t.Fatalf("no ref index after a run: %v", err)
	}
	withIndex := planReasons(t, p, string(fanoutSource(40, 2)))
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
	if without := planReasons(t, p, string(fanoutSource(40, 2))); !reflect.DeepEqual(withIndex, without) {
		t.Errorf("reasons differ with the ref index and without:\n%v\n%v", withIndex, without)
	}

	// Run a part of the changed pipeline: its refs move, the old index no longer describes them
	// (it is put back first, as if this run had been another process) and the run rewrites it.
	if err := os.WriteFile(index, saved, 0o644); err != nil {
		t.Fatal(err)
	}
	if sum, out := p.run(string(fanoutSource(40, 2)), runner.Options{Targets: []string{"command.shard"}, Jobs: 2}); !sum.OK() {
		t.Fatalf("run failed:\n%s", out)
	}
	now, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	if string(now) == string(saved) {
		t.Error("the ref index was not rewritten by a run that moved refs")
	}
	reasons := planReasons(t, p, string(fanoutSource(40, 3)))
	if got := reasons[`command.shard["0"]`]; len(got) != 1 || got[0] != "pipeline seed 2 -> 3" {
		t.Errorf("reason of a re-run shard = %q, want the seed change from its last run", got)
	}
}
