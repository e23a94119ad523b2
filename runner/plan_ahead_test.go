package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages/builtin"
)

// aheadPipeline has more static nodes without upstream nodes than the planner prepares ahead
// (≥ 64): shards reading project files and a script, others that only echo (a part of them
// changed by var.tag), plus nodes that depend on them.
const aheadPipeline = `
variable "tag" {
  default = "a"
}
command "shard" {
  for_each = range(80)
  run      = ["sh", "step.sh", each.key]
  inputs   = ["data/${each.key % 7}.txt", "data/*.csv"]
  outputs  = ["out/${each.key}.txt"]
}
command "echo" {
  for_each = range(70)
  run      = ["sh", "-c", "mkdir -p echo && echo ${each.key} ${each.key % 3 == 0 ? var.tag : "x"} > echo/${each.key}.txt"]
  outputs  = ["echo/${each.key}.txt"]
}
command "join" {
  run     = ["sh", "-c", "cat out/*.txt echo/*.txt > all.txt"]
  inputs  = concat([for s in command.shard : s.outputs[0]], [for e in command.echo : e.outputs[0]])
  outputs = ["all.txt"]
}
`

// TestPlanAheadAsSequential compares plans (states, keys, reasons), prepared tasks and errors
// with and without preparing nodes ahead, in a fresh workspace, after a run, after a change of
// part of the nodes, and when preparing a node ahead fails.
func TestPlanAheadAsSequential(t *testing.T) {
	dir := t.TempDir()
	for i := range 7 {
		writeTestFile(t, filepath.Join(dir, "data", fmt.Sprintf("%d.txt", i)), fmt.Sprintf("data %d\n", i))
	}
	writeTestFile(t, filepath.Join(dir, "data", "x.csv"), "a,b\n")
	writeTestFile(t, filepath.Join(dir, "step.sh"), "mkdir -p out && cat data/*.txt > out/$1.txt\n")
	store, err := cache.Open(filepath.Join(dir, ".pcamflow"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	newRunner := func(vars ...string) *Runner {
		p, diags := pipelines.Load(filepath.Join(dir, "p.hcl"), []byte(aheadPipeline), builtin.Registry(), pipelines.Options{Vars: vars})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		r, err := New(p, store, nil, dir, Options{Jobs: 2, Out: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	type result struct {
		plan  []PlannedNode
		tasks map[string]string
		err   string
	}
	planWith := func(enabled bool, vars ...string) result {
		prepareAheadEnabled = enabled
		defer func() { prepareAheadEnabled = true }()
		r := newRunner(vars...)
		plan, err := r.Plan(context.Background())
		res := result{plan: plan, tasks: map[string]string{}}
		if err != nil { // the first error in walk order; the tasks of a failed plan mean nothing
			res.err = err.Error()
			return res
		}
		for addr, task := range r.tasks {
			res.tasks[addr] = fmtTask(task.Inputs, task.Optional, task.OutputNames())
		}
		return res
	}
	compare := func(what string, vars ...string) result {
		t.Helper()
		with, without := planWith(true, vars...), planWith(false, vars...)
		if !reflect.DeepEqual(with, without) {
			t.Errorf("%s: plans differ with and without preparing ahead:\n%+v\n%+v", what, with, without)
		}
		return with
	}

	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	pl := newPlanner(newRunner(), 151)
	pl.startAhead(pl.r.selected())
	if pl.ahead == nil || len(pl.ahead.slots) != 150 {
		t.Fatal("the planner does not prepare the 150 nodes without upstream nodes ahead")
	}
	pl.stopAhead()

	if got := compare("fresh workspace"); got.err != "" || len(got.plan) != 151 {
		t.Fatalf("fresh plan: %d nodes, error %q", len(got.plan), got.err)
	}
	r := newRunner()
	sum, err := r.Run(context.Background())
	if err != nil || !sum.OK() {
		t.Fatalf("run: %v (ok %v)", err, sum != nil && sum.OK())
	}
	cached := compare("after the run")
	for _, n := range cached.plan {
		if n.State != StateCached {
			t.Errorf("after the run %s is %s", n.Node, n.State)
		}
	}
	changed := compare("changed tag", "tag=b")
	states := map[string]int{}
	for _, n := range changed.plan {
		states[n.Node[:strings.IndexAny(n.Node, "[")+1]+string(n.State)]++
	}
	if want := map[string]int{"command.shard[cached": 80, "command.echo[cached": 46, "command.echo[run": 24, "run": 1}; !reflect.DeepEqual(states, want) {
		t.Errorf("after changing the tag: %v, want %v", states, want)
	}
	writeTestFile(t, filepath.Join(dir, "data", "3.txt"), "changed\n")
	compare("changed input")
	if err := os.Remove(filepath.Join(dir, "data", "5.txt")); err != nil {
		t.Fatal(err)
	}
	if got := compare("missing input"); got.err == "" || !strings.Contains(got.err, "data/5.txt") {
		t.Errorf("a missing input: error %q, want one naming it", got.err)
	}
}

// writeTestFile writes content to path, creating its folder.
func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
