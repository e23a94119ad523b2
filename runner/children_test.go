package runner_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/runner"
)

// leaf is a command base whose children append to executions.log (so tests count executions).
const leaf = `
command "leaf" {
  run     = ["sh", "-c", "echo child $CHILD >> executions.log; echo leaf $CHILD > out/f-child-$CHILD.txt"]
  outputs = ["out/f-child-.txt"]
}
`

// TestChildrenAreCachedAndShared runs a fanout of three children of a command: each child is a
// node addressed PARENT.trial["KEY8"] that executes once and writes its outputs, and a rerun of the
// whole pipeline executes nothing.
func TestChildrenAreCachedAndShared(t *testing.T) {
	p := newProject(t)
	src := leaf + `
fanout "f" {
  base     = "command.leaf"
  count    = 3
  parallel = 2
}
`
	sum, out := p.run(src, runner.Options{})
	if !sum.OK() {
		t.Fatalf("first run failed:\n%s", out)
	}
	kids := children(sum, "fanout.f")
	if len(kids) != 3 || p.lines("executions.log", "child") != 4 { // 3 children + the leaf node itself
		t.Fatalf("first run: %d children, %d executions; want 3 and 4:\n%s", len(kids), p.lines("executions.log", "child"), out)
	}
	for _, k := range kids {
		if k.State != state.Succeeded || !strings.HasPrefix(k.Node, `fanout.f.trial["`) || k.Key[:8] != k.Node[len(`fanout.f.trial["`):len(`fanout.f.trial["`)+8] {
			t.Errorf("child %s: state %s key %s", k.Node, k.State, k.Key)
		}
	}
	for i := range 3 {
		if got := p.read("out/f-child-" + string(rune('0'+i)) + ".txt"); got != "leaf "+string(rune('0'+i))+"\n" {
			t.Errorf("child %d wrote %q", i, got)
		}
	}

	// A rerun finds the parent and, through it, everything in the cache.
	sum2, out2 := p.run(src, runner.Options{})
	if sum2.Count(state.Succeeded) != 0 {
		t.Errorf("a rerun executed %d node(s):\n%s", sum2.Count(state.Succeeded), out2)
	}
	if p.lines("executions.log", "child") != 4 {
		t.Errorf("a rerun executed children again:\n%s", p.read("executions.log"))
	}
}

// TestSecondParentReusesChildren gives two parents identical children: they execute once.
func TestSecondParentReusesChildren(t *testing.T) {
	p := newProject(t)
	// Children of a counter differ only by their tag, so both parents propose equal children.
	src := `
counter "base" {
  epochs = 2
  tag    = "base"
}

fanout "one" {
  base     = "counter.base"
  count    = 3
  parallel = 3
}

fanout "two" {
  base       = "counter.base"
  count      = 4
  depends_on = [fanout.one]
}
`
	sum, out := p.run(src, runner.Options{Jobs: 2})
	if !sum.OK() {
		t.Fatalf("run failed:\n%s", out)
	}
	one, two := children(sum, "fanout.one"), children(sum, "fanout.two")
	if len(one) != 3 || len(two) != 4 {
		t.Fatalf("children: %d of one, %d of two:\n%s", len(one), len(two), out)
	}
	cached := 0
	for _, k := range two {
		if k.State == state.Cached {
			cached++
		}
	}
	if cached != 3 {
		t.Errorf("the second parent found %d of its 4 children in the cache, want the 3 the first ran:\n%s", cached, out)
	}
	// Each child counted its 2 epochs once: tags 0, 1, 2 by the first parent, 3 by the second.
	for _, tag := range []string{"0", "1", "2", "3"} {
		if n := p.lines("epochs.log", tag+" epoch"); n != 2 {
			t.Errorf("child with tag %s ran %d epochs in total, want 2 (executed once):\n%s", tag, n, p.read("epochs.log"))
		}
	}
	// The children are recorded with their parent.
	_, nodes, err := p.db.LastRun("")
	if err != nil {
		t.Fatal(err)
	}
	parents := map[string]int{}
	for _, n := range nodes {
		if n.Parent != "" {
			parents[n.Parent]++
			if !strings.HasPrefix(n.Node, n.Parent+`.trial["`) || n.Kind != "counter" {
				t.Errorf("child record %s (kind %s) of %s", n.Node, n.Kind, n.Parent)
			}
		}
	}
	if parents["fanout.one"] != 3 || parents["fanout.two"] != 4 {
		t.Errorf("child records by parent: %v", parents)
	}
}

// TestChildEqualsHandWrittenNode checks that a child is the cache entry of a hand-written node of
// its base kind with the same configuration and seed.
func TestChildEqualsHandWrittenNode(t *testing.T) {
	p := newProject(t)
	src := `
counter "base" {
  epochs = 2
  tag    = "base"
}

counter "by_hand" {
  epochs = 2
  tag    = "1"
}

fanout "f" {
  base       = "counter.base"
  count      = 2
  depends_on = [counter.by_hand]
}
`
	sum, out := p.run(src, runner.Options{})
	if !sum.OK() {
		t.Fatalf("run failed:\n%s", out)
	}
	hand := result(t, sum, "counter.by_hand")
	var child runner.NodeResult
	for _, k := range children(sum, "fanout.f") {
		if k.Key == hand.Key {
			child = k
		}
	}
	if child.Node == "" {
		t.Fatalf("no child has the key of the hand-written node %s:\n%s", hand.Key, out)
	}
	if child.State != state.Cached {
		t.Errorf("the child equal to counter.by_hand %s, want cached", child.State)
	}
	if n := p.lines("epochs.log", "1 epoch"); n != 2 {
		t.Errorf("tag 1 ran %d epochs, want 2 (once)", n)
	}
}

// TestPlanListsKnownChildren checks that plan lists, after a run, the children of a parent: cached
// when the parent is, and as its last run left them when the parent will run again.
func TestPlanListsKnownChildren(t *testing.T) {
	p := newProject(t)
	src := `
counter "base" {
  tag = "base"
}

fanout "f" {
  base  = "counter.base"
  count = 2
}
`
	r, _ := p.runner(src, runner.Options{})
	plan, err := r.Plan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 2 {
		t.Errorf("before any run the plan lists %d lines, want the 2 nodes: %+v", len(plan), plan)
	}
	if sum, out := p.run(src, runner.Options{}); !sum.OK() {
		t.Fatalf("run failed:\n%s", out)
	}
	r, _ = p.runner(src, runner.Options{})
	plan, err = r.Plan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var kids []runner.PlannedNode
	for _, pn := range plan {
		if pn.Parent == "fanout.f" {
			kids = append(kids, pn)
		}
	}
	if len(kids) != 2 || kids[0].State != state.Cached || kids[0].Kind != "counter" {
		t.Errorf("plan after a run: %+v", plan)
	}
	// The parent will run (forced): its children are listed as its last run left them.
	r, _ = p.runner(src, runner.Options{Force: []string{"fanout.f"}})
	plan, err = r.Plan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, pn := range plan {
		if pn.Parent == "fanout.f" {
			n++
			if pn.State != state.Cached || len(pn.Reasons) == 0 || !strings.Contains(pn.Reasons[0], "last run") {
				t.Errorf("child of a forced parent: %+v", pn)
			}
		}
	}
	if n != 2 {
		t.Errorf("plan of a forced parent lists %d children, want 2: %+v", n, plan)
	}
}

// TestBudgetsSharePromotion runs a child to a budget of 2 epochs, then the same configuration to 4
// (a promotion: it resumes from epoch 2), then without a budget (its own key; the resume folder is
// then removed).
func TestBudgetsSharePromotion(t *testing.T) {
	p := newProject(t)
	src := func(budgets string) string {
		return `
counter "base" {
  epochs = 4
  tag    = "base"
}

fanout "f" {
  base    = "counter.base"
  count   = 1
  budgets = ` + budgets + `
}
`
	}
	for _, step := range []struct {
		budgets string
		epochs  []string // the epochs this step logs
	}{
		{"[2]", []string{"0 epoch 1", "0 epoch 2"}},
		{"[4]", []string{"0 epoch 3", "0 epoch 4"}},
		{"[]", nil}, // no budget: the full 4 epochs, resumed from the shared folder
	} {
		before := p.read("epochs.log")
		sum, out := p.run(src(step.budgets), runner.Options{})
		if !sum.OK() {
			t.Fatalf("budgets %s: run failed:\n%s", step.budgets, out)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimPrefix(p.read("epochs.log"), before), "\n") {
			if strings.HasPrefix(l, "0 ") { // the child's lines (the base node logs "base epoch N")
				got = append(got, l)
			}
		}
		if strings.Join(got, "|") != strings.Join(step.epochs, "|") {
			t.Errorf("budgets %s logged %q, want %q", step.budgets, got, step.epochs)
		}
		kids := children(sum, "fanout.f")
		if len(kids) != 1 || kids[0].State != state.Succeeded {
			t.Errorf("budgets %s: children %v", step.budgets, kids)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(p.ws, "resume"))
	if len(entries) != 0 {
		t.Errorf("the resume folder of the configuration was not removed after the child without budget published: %v", entries)
	}
}

// TestBudgetNeedsBudgetedKind checks that a budget on a kind that cannot stop at one fails the
// child with a clear error (and so the parent).
func TestBudgetNeedsBudgetedKind(t *testing.T) {
	p := newProject(t)
	sum, out := p.run(leaf+`
fanout "f" {
  base    = "command.leaf"
  count   = 1
  budgets = [2]
}
`, runner.Options{})
	f := result(t, sum, "fanout.f")
	if f.State != state.Failed || !strings.Contains(f.Err.Error(), "cannot stop at a budget") {
		t.Errorf("fanout with a budget on a command: %s %v\n%s", f.State, f.Err, out)
	}
}

// TestPruneMarksChild prunes a child: its record in this run becomes pruned with the note.
func TestPruneMarksChild(t *testing.T) {
	p := newProject(t)
	sum, out := p.run(`
counter "base" {
  tag = "base"
}

fanout "f" {
  base  = "counter.base"
  count = 2
  prune = true
}
`, runner.Options{})
	if !sum.OK() {
		t.Fatalf("run failed:\n%s", out)
	}
	_, nodes, _ := p.db.LastRun("")
	pruned := 0
	for _, n := range nodes {
		if n.State == state.Pruned {
			pruned++
			if n.Reason != "pruned by the fanout test kind" || n.Parent != "fanout.f" {
				t.Errorf("pruned record: %+v", n)
			}
		}
	}
	if pruned != 1 || !strings.Contains(out, "pruned   fanout.f.trial[") {
		t.Errorf("%d pruned record(s), want 1:\n%s", pruned, out)
	}
}

// TestDetachRefusesParents checks that a detached run refuses a parent node that must run, naming
// it, before submitting anything.
func TestDetachRefusesParents(t *testing.T) {
	p := newProject(t)
	src := `
counter "base" {
  tag = "base"
}

fanout "f" {
  base  = "counter.base"
  count = 2
}
`
	fs := newFakeSlurm(p, src)
	r, _ := p.runner(src, runner.Options{Slurm: fs.options()})
	_, err := r.Detach(context.Background())
	if err == nil || !strings.Contains(err.Error(), "fanout.f cannot run detached") {
		t.Errorf("Detach of a pipeline with a parent node: %v", err)
	}
	if len(fs.submitted()) != 0 {
		t.Errorf("Detach submitted %d job(s) before refusing", len(fs.submitted()))
	}
}

// TestChildrenOnSlurm runs the children of a parent whose stage runs on Slurm: each Run call is ONE
// job array of that call's cache misses (hits cost nothing), executed by `pcamflow exec` of the
// child's nodes-file entry, and the parent holds no job.
func TestChildrenOnSlurm(t *testing.T) {
	p := newProject(t)
	src := `
counter "base" {
  tag = "base"
}

fanout "f" {
  base     = "counter.base"
  count    = 4
  batches  = 2
  parallel = 3
  resources {
    executor = "slurm"
  }
}
`
	fs := newFakeSlurm(p, src)
	sum, out := p.run(src, runner.Options{Slurm: fs.options()})
	if !sum.OK() {
		t.Fatalf("run failed:\n%s", out)
	}
	specs := fs.submitted()
	if len(specs) != 2 {
		t.Fatalf("%d submissions, want 2 (one array per Run call):\n%s", len(specs), out)
	}
	for _, spec := range specs {
		if spec.Array == nil || len(spec.Array.Indices) != 2 || spec.Array.Parallel != 3 {
			t.Errorf("submission %+v, want an array of 2 tasks throttled to 3", spec.Array)
		}
	}
	if len(children(sum, "fanout.f")) != 4 {
		t.Errorf("children: %v", nodeNames(sum))
	}
	if log := p.read(result(t, sum, "fanout.f").LogPath[len(p.dir)+1:]); !strings.Contains(log, "waves: true") {
		t.Errorf("a parent whose children run on Slurm is not told that its Run calls are waves:\n%s", log)
	}
	// Grow the parent to 6 children: the 4 known ones are hits, the 2 new ones one array.
	src6 := strings.Replace(src, "count    = 4", "count    = 6", 1)
	fs.src = src6
	sum, out = p.run(src6, runner.Options{Slurm: fs.options()})
	if !sum.OK() {
		t.Fatalf("second run failed:\n%s", out)
	}
	specs = fs.submitted()[2:]
	total := 0
	for _, spec := range specs {
		total += len(spec.Array.Indices)
	}
	if len(specs) != 1 || total != 2 {
		t.Errorf("growing to 6 children submitted %d job(s) with %d task(s), want 1 array of the 2 new ones:\n%s", len(specs), total, out)
	}
	_, nodes, _ := p.db.LastRun("")
	for _, n := range nodes {
		if n.Parent == "fanout.f" && n.State == state.Succeeded && (n.Executor != state.Slurm || n.JobID == "") {
			t.Errorf("child %s executed on Slurm is recorded with executor %q job %q", n.Node, n.Executor, n.JobID)
		}
	}
}

// TestSeededStageOnSlurm runs a seeded stage on Slurm: its seed nodes go as one array and its
// aggregate node, which needs them, as its own job afterwards (it once waited for itself).
func TestSeededStageOnSlurm(t *testing.T) {
	p := newProject(t)
	src := `
seeded "s" {
  seeds = [1, 2, 3]
  resources {
    executor = "slurm"
  }
}
`
	fs := newFakeSlurm(p, src)
	ctx, cancel := context.WithTimeout(context.Background(), 60e9)
	defer cancel()
	r, out := p.runner(src, runner.Options{Slurm: fs.options()})
	sum, err := r.Run(ctx)
	if err != nil || !sum.OK() {
		t.Fatalf("run: %v\n%s", err, out)
	}
	specs := fs.submitted()
	if len(specs) != 2 || specs[0].Array == nil || len(specs[0].Array.Indices) != 3 || specs[1].Array != nil {
		t.Errorf("submissions %d, want an array of the 3 seeds then one job for the aggregate:\n%s", len(specs), out)
	}
	if got := p.read(".pcamflow/out/seeded.s/all.txt"); got != "1\n2\n3\n" {
		t.Errorf("aggregate wrote %q", got)
	}
}

// TestChildrenRunConcurrently has a parent call Run from several goroutines at once, each child
// proposed by two concurrent calls: every child executes once, and every call gets its outcomes.
func TestChildrenRunConcurrently(t *testing.T) {
	p := newProject(t)
	sum, out := p.run(`
counter "base" {
  tag = "base"
}

fanout "f" {
  base       = "counter.base"
  count      = 6
  batches    = 3
  parallel   = 3
  concurrent = true
}
`, runner.Options{})
	if !sum.OK() {
		t.Fatalf("run failed:\n%s", out)
	}
	for i := range 6 {
		if n := p.lines("epochs.log", string(rune('0'+i))+" epoch"); n != 3 {
			t.Errorf("child %d ran %d epochs, want 3 (executed once):\n%s", i, n, p.read("epochs.log"))
		}
	}
}

// TestChildReferentsAndWaves checks the optional interfaces of the runner's Children: a parent
// names its base by a reference, and learns whether its Run calls become Slurm arrays.
func TestChildReferentsAndWaves(t *testing.T) {
	p := newProject(t)
	sum, out := p.run(`
counter "base" {
  tag = "base"
}

fanout "f" {
  base_ref = counter.base
  count    = 2
}
`, runner.Options{})
	if !sum.OK() || len(children(sum, "fanout.f")) != 2 {
		t.Fatalf("a parent naming its base by reference:\n%s", out)
	}
	if log := p.read(result(t, sum, "fanout.f").LogPath[len(p.dir)+1:]); !strings.Contains(log, "waves: false") {
		t.Errorf("a local parent's children are not waves:\n%s", log)
	}
}

// TestCachedParentRestoresChildren deletes the outputs of a cached parent's children: the next run
// restores them (the parent's result points at them), and when a child's record is gone the parent
// is no longer cached and runs again, finding the other children in the cache.
func TestCachedParentRestoresChildren(t *testing.T) {
	p := newProject(t)
	src := leaf + `
fanout "f" {
  base  = "command.leaf"
  count = 2
}
`
	sum, out := p.run(src, runner.Options{})
	if !sum.OK() {
		t.Fatalf("run failed:\n%s", out)
	}
	kids := children(sum, "fanout.f")
	os.Remove(filepath.Join(p.dir, "out/f-child-1.txt"))
	sum, out = p.run(src, runner.Options{})
	if result(t, sum, "fanout.f").State != state.Cached || p.read("out/f-child-1.txt") != "leaf 1\n" {
		t.Errorf("a cached parent did not restore its child's output:\n%s", out)
	}
	// Lose one child's record: the parent reruns; the other child is a hit.
	os.Remove(filepath.Join(p.ws, "nodes", kids[0].Key[:2], kids[0].Key+".json"))
	sum, out = p.run(src, runner.Options{})
	if result(t, sum, "fanout.f").State != state.Succeeded || len(children(sum, "fanout.f")) != 2 {
		t.Errorf("a parent whose child's record is gone:\n%s", out)
	}
	// In all: each child once in the first run, and the one whose record was lost once more.
	if p.lines("executions.log", "child 0")+p.lines("executions.log", "child 1") != 3 {
		t.Errorf("executions (want the lost child twice and the other once):\n%s", p.read("executions.log"))
	}
}
