package runner

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/internal/testkinds"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/slurm"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/stages/builtin"
	"github.com/pcamflow/pcamflow/track"
)

// fakeEnv is a project folder with an in-memory store and tracker.
type fakeEnv struct {
	t     *testing.T
	dir   string
	store *memStore
	db    *memTracker
}

func newFakeEnv(t *testing.T) *fakeEnv {
	dir := t.TempDir()
	return &fakeEnv{t: t, dir: dir, store: newMemStore(filepath.Join(dir, ".pcamflow")), db: newMemTracker()}
}

func (f *fakeEnv) load(src string, vars ...string) *pipelines.Pipeline {
	f.t.Helper()
	p, diags := pipelines.Load(filepath.Join(f.dir, "p.hcl"), []byte(src), builtin.Registry(testkinds.All()...), pipelines.Options{Vars: vars})
	if diags.HasErrors() {
		f.t.Fatal(diags)
	}
	return p
}

func (f *fakeEnv) runner(src string, opt Options, vars ...string) (*Runner, *strings.Builder) {
	f.t.Helper()
	var out strings.Builder
	opt.Out = &lockedWriter{w: &out}
	r, err := New(f.load(src, vars...), f.store, f.db, f.dir, opt)
	if err != nil {
		f.t.Fatal(err)
	}
	return r, &out
}

func (f *fakeEnv) run(src string, opt Options, vars ...string) (*Summary, string) {
	f.t.Helper()
	r, out := f.runner(src, opt, vars...)
	sum, err := r.Run(context.Background())
	if err != nil {
		f.t.Fatalf("run: %v\n%s", err, out)
	}
	return sum, out.String()
}

func (f *fakeEnv) plan(src string, opt Options, vars ...string) map[string]PlannedNode {
	f.t.Helper()
	r, _ := f.runner(src, opt, vars...)
	plan, err := r.Plan(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]PlannedNode{}
	for _, pn := range plan {
		out[pn.Node] = pn
	}
	return out
}

// lockedWriter serialises writes of concurrent nodes.
type lockedWriter struct {
	mu chan struct{}
	w  *strings.Builder
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	if l.mu == nil {
		l.mu = make(chan struct{}, 1)
	}
	l.mu <- struct{}{}
	defer func() { <-l.mu }()
	return l.w.Write(p)
}

func resultOf(t *testing.T, sum *Summary, addr string) NodeResult {
	t.Helper()
	for _, r := range sum.Nodes {
		if r.Node == addr {
			return r
		}
	}
	t.Fatalf("no result for %s", addr)
	return NodeResult{}
}

const fakePipeline = `
variable "msg" {
  default = "hello"
}

command "a" {
  run     = ["sh", "-c", "echo ${var.msg} > out/a.txt"]
  outputs = ["out/a.txt"]
}

command "b" {
  for_each = ["x", "y"]
  run      = ["sh", "-c", "cat out/a.txt > out/b-${each.key}.txt; mkdir -p out/tree-${each.key}; echo t > out/tree-${each.key}/f"]
  inputs   = command.a.outputs
  outputs  = ["out/b-${each.key}.txt", "out/tree-${each.key}"]
}

command "c" {
  run = ["sh", "-c", "echo about to fail; exit 3"]
}

command "d" {
  run        = ["true"]
  depends_on = [command.c]
}
`

func TestRunOnFakes(t *testing.T) {
	f := newFakeEnv(t)
	sum, out := f.run(fakePipeline, Options{Jobs: 2})
	for addr, want := range map[string]state.Node{"command.a": state.Succeeded, `command.b["x"]`: state.Succeeded,
		`command.b["y"]`: state.Succeeded, "command.c": state.Failed, "command.d": state.Skipped} {
		if got := resultOf(t, sum, addr); got.State != want {
			t.Errorf("%s: %s, want %s\n%s", addr, got.State, want, out)
		}
	}
	if c := resultOf(t, sum, "command.c"); c.ExitCode != 3 || !strings.Contains(out, "| about to fail") {
		t.Errorf("failure of c: exit %d\n%s", c.ExitCode, out)
	}
	if sum.OK() {
		t.Error("a run with a failed node is OK")
	}
	a := f.db.rows("command.a")
	if len(a) != 1 || a[0].State != state.Succeeded || a[0].Executor != state.Local || len(a[0].Outputs) == 0 || a[0].Params == nil {
		t.Errorf("record of a: %+v", a)
	}
	if c := f.db.rows("command.c"); len(c) != 1 || c[0].ExitStatus != 3 || c[0].Error != "exit status 3" {
		t.Errorf("record of c: %+v", c)
	}
	if d := f.db.rows("command.d"); len(d) != 1 || d[0].State != state.Skipped || d[0].Reason != "upstream command.c did not succeed" {
		t.Errorf("record of d: %+v", d)
	}
	for _, r := range f.db.runs {
		if r.Status != state.RunFailed {
			t.Errorf("run status %s", r.Status)
		}
	}

	// A second run finds a and b in the cache and publishes nothing new.
	puts := f.store.puts
	sum, out = f.run(fakePipeline, Options{Jobs: 2})
	if resultOf(t, sum, "command.a").State != state.Cached || resultOf(t, sum, `command.b["y"]`).State != state.Cached || f.store.puts != puts {
		t.Errorf("second run: %v, %d new objects\n%s", sum.Nodes, f.store.puts-puts, out)
	}
	if rows := f.db.rows("command.a"); rows[1].State != state.Cached || !strings.HasPrefix(rows[1].Reason, "produced by run ") {
		t.Errorf("cached row: %+v", rows[1])
	}

	// A deleted output is restored; the plan says so first.
	os.RemoveAll(filepath.Join(f.dir, "out/tree-x"))
	if pn := f.plan(fakePipeline, Options{})[`command.b["x"]`]; pn.State != state.Cached || !pn.Restore {
		t.Errorf("plan of a node whose output was deleted: %+v", pn)
	}
	f.run(fakePipeline, Options{})
	if _, err := os.Stat(filepath.Join(f.dir, "out/tree-x/f")); err != nil {
		t.Errorf("the deleted tree output was not restored: %v", err)
	}

	// A damaged object is never used: the node fails saying so.
	rec, _, _ := f.store.GetRecord(resultOf(t, sum, "command.a").Key)
	f.store.corrupt[rec.Outputs["out/a.txt"].Digest] = true
	os.Remove(filepath.Join(f.dir, "out/a.txt"))
	sum, out = f.run(fakePipeline, Options{})
	if a := resultOf(t, sum, "command.a"); a.State != state.Failed || !strings.Contains(a.Err.Error(), "--force command.a") {
		t.Errorf("restoring a damaged object: %s %v\n%s", a.State, a.Err, out)
	}
}

func TestPlanReasonsOnFakes(t *testing.T) {
	f := newFakeEnv(t)
	plan := f.plan(fakePipeline, Options{})
	if pn := plan["command.a"]; pn.State != state.Planned || pn.Reasons[0] != "no earlier run" {
		t.Errorf("first plan of a: %+v", pn)
	}
	if pn := plan[`command.b["x"]`]; pn.Key != "" || pn.Reasons[0] != "inputs from command.a will be recomputed first" {
		t.Errorf("first plan of b: %+v", pn)
	}
	f.run(fakePipeline, Options{})
	plan = f.plan(fakePipeline, Options{}, "msg=changed")
	if pn := plan["command.a"]; pn.State != state.Planned || !strings.Contains(pn.Reasons[0], "parameter run") {
		t.Errorf("plan after a parameter change: %+v", pn)
	}
	plan = f.plan(fakePipeline, Options{Force: []string{"command.b"}})
	if pn := plan[`command.b["y"]`]; pn.State != state.Planned || pn.Reasons[0] != "forced with --force" {
		t.Errorf("plan of a forced stage: %+v", pn)
	}
	plan = f.plan(fakePipeline, Options{Targets: []string{`command.b["x"]`}})
	if len(plan) != 2 {
		t.Errorf("plan of one target node lists %d nodes, want it and its upstream", len(plan))
	}
	// Objects lost from the store: the record is there but cannot be restored.
	f.store.mu.Lock()
	for d := range f.store.objects {
		delete(f.store.objects, d)
	}
	f.store.mu.Unlock()
	if pn := f.plan(fakePipeline, Options{})["command.a"]; pn.State != state.Planned || pn.Reasons[0] != "cached outputs are missing from the object store" {
		t.Errorf("plan with lost objects: %+v", pn)
	}
	sum, _ := f.run(fakePipeline, Options{})
	if a := resultOf(t, sum, "command.a"); a.State != state.Succeeded || a.Reasons[0] != "its cached outputs are missing from the object store" {
		t.Errorf("run with lost objects: %+v", a)
	}
	if _, err := New(f.load(fakePipeline), f.store, f.db, f.dir, Options{Targets: []string{"command.nope"}}); err == nil {
		t.Error("an unknown target is accepted")
	}
}

func TestVerifyOnFakes(t *testing.T) {
	f := newFakeEnv(t)
	src := `
command "same" {
  run     = ["sh", "-c", "echo same > out/same.txt"]
  outputs = ["out/same.txt"]
}

command "flaky" {
  run     = ["sh", "-c", "date +%N > out/flaky.txt"]
  outputs = ["out/flaky.txt"]
}
`
	r, _ := f.runner(src, Options{})
	if _, err := r.Verify(context.Background(), "command.same", "v1"); err == nil || !strings.Contains(err.Error(), "run the pipeline first") {
		t.Errorf("verify before any run: %v", err)
	}
	f.run(src, Options{})
	r, _ = f.runner(src, Options{})
	twins, err := r.Verify(context.Background(), "command.same", "v2")
	if err != nil || len(twins) != 1 || !twins[0].Match {
		t.Errorf("verify of a deterministic node: %+v %v", twins, err)
	}
	twins, err = r.Verify(context.Background(), "command.flaky", "v3")
	if err != nil || len(twins) != 1 || twins[0].Match || twins[0].Differ[0] != "out/flaky.txt" {
		t.Errorf("verify of a non-deterministic node: %+v %v", twins, err)
	}
	if _, err := r.Verify(context.Background(), "command.none", "v4"); err == nil {
		t.Error("verify of an unknown node")
	}
}

func TestTrackerFailuresOnFakes(t *testing.T) {
	f := newFakeEnv(t)
	f.db.failOn = "BeginRun"
	r, _ := f.runner(fakePipeline, Options{})
	if _, err := r.Run(context.Background()); err == nil {
		t.Error("a run that cannot be recorded runs")
	}
	f.db.failOn = "StartNode"
	sum, _ := f.run(fakePipeline, Options{})
	if a := resultOf(t, sum, "command.a"); a.State != state.Failed || !strings.Contains(a.Err.Error(), "recording command.a") {
		t.Errorf("a node whose start cannot be recorded: %+v", a)
	}
	f.db.failOn = "InsertNodes"
	_, out := f.run(fakePipeline, Options{})
	if !strings.Contains(out, "warning: recording") {
		t.Errorf("a failure to record skipped nodes is not reported:\n%s", out)
	}
}

func TestFastPathOnFakes(t *testing.T) {
	f := newFakeEnv(t)
	src := `
command "a" {
  run     = ["sh", "-c", "cat in.txt > out/a.txt"]
  inputs  = ["in.txt", "dir/*.txt"]
  outputs = ["out/a.txt"]
}
`
	os.MkdirAll(filepath.Join(f.dir, "dir"), 0o755)
	os.WriteFile(filepath.Join(f.dir, "in.txt"), []byte("in\n"), 0o644)
	os.WriteFile(filepath.Join(f.dir, "dir/x.txt"), []byte("x\n"), 0o644)
	k, err := NewFastKey("p.hcl", []byte(src), nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FastNoop(f.store.Root(), k); err == nil {
		t.Error("a fast no-op before any run")
	}
	if sum, out := f.run(src, Options{Fast: &k}); !sum.OK() {
		t.Fatal(out)
	}
	// Everything was written just now: the racy-clean guard refuses it until 2 s have passed. Age
	// the fingerprint instead of sleeping.
	path := fastFile(f.store.Root(), k)
	var fp fingerprint
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &fp); err != nil {
		t.Fatal(err)
	}
	fp.Created = time.Now().Add(time.Minute).UnixNano()
	data, _ = json.Marshal(fp)
	os.WriteFile(path, data, 0o644)
	run, err := FastNoop(f.store.Root(), k)
	if err != nil {
		t.Fatalf("fast no-op after a successful run: %v", err)
	}
	if plan := run.Plan(); len(plan) != 1 || plan[0].State != state.Cached || plan[0].Executor != state.Local {
		t.Errorf("fast plan: %+v", plan)
	}
	os.WriteFile(filepath.Join(f.dir, "dir/x.txt"), []byte("changed\n"), 0o644)
	if _, err := FastNoop(f.store.Root(), k); err == nil || !strings.Contains(err.Error(), "changed") {
		t.Errorf("fast no-op after an input changed: %v", err)
	}
	k2, _ := NewFastKey("p.hcl", []byte(src+"\n"), nil, nil, "")
	if _, err := FastNoop(f.store.Root(), k2); err == nil {
		t.Error("fast no-op of another invocation")
	}
}

func TestRecorderWithoutTracker(t *testing.T) {
	rc := newRecorder((*track.DB)(nil), "r", os.Stderr)
	if rc.db != nil {
		t.Fatal("a nil *track.DB is a tracker")
	}
	p := loadPipeline(t, diamond)
	node, _ := p.Node("command.a")
	n := &prepared{node: node, stage: node.Stage, cfg: cty.EmptyObjectVal}
	rc.cached(n, &cache.Record{}, state.Local)
	rc.settledWithoutVisit(node, &NodeResult{State: state.Skipped})
	rc.failedEarly(node, nil, os.ErrNotExist)
	nr, err := rc.started(n, state.Local, nil, "")
	if err != nil || nr.ID != 0 || rc.metrics(nr) != nil {
		t.Errorf("started without a tracker: %+v %v", nr, err)
	}
	rc.finished(nr, &cache.Record{}, nil, 0)
	rc.submitted(1, "1")
	rc.jobFailed(1, os.ErrClosed)
	if got, err := rc.ingest("x"); got != nil || err != nil || rc.pruned(1, "n") != nil || rc.cachedNow(n, &cache.Record{}, state.Local) != 0 {
		t.Error("a recorder without a tracker records")
	}
	rc.flush()
	if rc.beginRun(p, nil, time.Now()) != nil || rc.finishRun(state.RunSucceeded) != nil {
		t.Error("run records without a tracker")
	}
}

func TestChildSpecErrors(t *testing.T) {
	f := newFakeEnv(t)
	src := `
counter "base" {
  tag = "b"
}

command "cmd" {
  run = ["true"]
}

command "up" {
  run     = ["true"]
  outputs = ["out/up"]
}

command "down" {
  run    = ["true"]
  inputs = command.up.outputs
}

fanout "f" {
  base = "counter.base"
}
`
	r, _ := f.runner(src, Options{})
	parent, _ := r.p.Node("fanout.f")
	base := func(attrs map[string]cty.Value) cty.Value { return cty.ObjectVal(attrs) }
	good := base(map[string]cty.Value{"tag": cty.StringVal("x")})
	for _, tc := range []struct {
		name string
		spec stages.ChildSpec
		want string
	}{
		{"unknown base", stages.ChildSpec{Base: "counter.nope", Config: good}, `no stage "counter.nope"`},
		{"nested parent", stages.ChildSpec{Base: "fanout.f", Config: good}, "runs children itself"},
		{"not an object", stages.ChildSpec{Base: "counter.base", Config: cty.StringVal("x")}, "must be an object"},
		{"null", stages.ChildSpec{Base: "counter.base"}, "must be an object"},
		{"unknown value", stages.ChildSpec{Base: "counter.base", Config: base(map[string]cty.Value{"tag": cty.UnknownVal(cty.String)})}, "unknown values"},
		{"unknown attribute", stages.ChildSpec{Base: "counter.base", Config: base(map[string]cty.Value{"epoch": cty.NumberIntVal(1)})}, `no attribute "epoch". Did you mean "epochs"?`},
		{"wrong type", stages.ChildSpec{Base: "counter.base", Config: base(map[string]cty.Value{"epochs": cty.StringVal("many")})}, `attribute "epochs"`},
		{"missing required", stages.ChildSpec{Base: "command.cmd", Config: base(map[string]cty.Value{})}, `"run" of kind command is required`},
		{"negative budget", stages.ChildSpec{Base: "counter.base", Config: good, Budget: -1}, "is negative"},
		{"budget of a command", stages.ChildSpec{Base: "command.cmd", Config: base(map[string]cty.Value{"run": cty.ListVal([]cty.Value{cty.StringVal("true")})}), Budget: 2}, "cannot stop at a budget"},
		{"invalid for the kind", stages.ChildSpec{Base: "counter.base", Config: base(map[string]cty.Value{"epochs": cty.NumberIntVal(0)})}, "epochs must be at least 1"},
		{"upstream not run", stages.ChildSpec{Base: "command.down", Config: base(map[string]cty.Value{"run": cty.ListVal([]cty.Value{cty.StringVal("true")}),
			"inputs": cty.ListVal([]cty.Value{cty.StringVal("out/up")})})}, "command.up (upstream of command.down) has not run"},
	} {
		_, err := r.prepareChild(parent, tc.spec, map[string]*cache.Record{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	n, err := r.prepareChild(parent, stages.ChildSpec{Base: "counter.base", Config: good, Seed: 7, Budget: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n.components["budget"] != "3" || n.resumeKey == "" || n.resumeKey == n.key || n.addr() != ChildAddr("fanout.f", n.key) {
		t.Errorf("budgeted child: components %v resume %s key %s addr %s", n.components, n.resumeKey, n.key, n.addr())
	}
	n0, _ := r.prepareChild(parent, stages.ChildSpec{Base: "counter.base", Config: good, Seed: 7}, nil)
	if n0.key != n.resumeKey || n0.resume() != n0.key {
		t.Errorf("the unbudgeted child's key %s is not the budgeted one's resume key %s", n0.key, n.resumeKey)
	}
}

// reconcileClient answers Poll with fixed task states and records cancellations.
type reconcileClient struct {
	slurm.Client
	tasks     []slurm.TaskStatus
	cancelled []string
}

func (c *reconcileClient) Poll(context.Context, []string) ([]slurm.TaskStatus, error) {
	return c.tasks, nil
}
func (c *reconcileClient) Cancel(_ context.Context, ids []string) error {
	c.cancelled = append(c.cancelled, ids...)
	return nil
}

func TestReconcileOnFakes(t *testing.T) {
	db := newMemTracker()
	ws := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.BeginRun(track.Run{ID: "r1", Pipeline: "p", Status: state.RunRunning}))
	node := func(addr, job string) *track.NodeRun {
		n := &track.NodeRun{RunID: "r1", Node: addr, Kind: "command", State: state.Running, Executor: state.Slurm, JobID: job}
		must(db.StartNode(n))
		return n
	}
	done, pending, gone, blocked := node("command.done", "10"), node("command.pending", "11"), node("command.gone", "12"), node("command.blocked", "13")
	res := filepath.Join(ws, "slurm", "r1", "results", "command.done.json")
	os.MkdirAll(filepath.Dir(res), 0o755)
	finished := *done
	finished.State, finished.Finished = state.Succeeded, time.Now()
	must(track.WriteNodeFile(res, &finished, nil))
	client := &reconcileClient{tasks: []slurm.TaskStatus{
		{Key: "11", JobID: "11", TaskID: -1, State: slurm.StatePending, Reason: "Priority"},
		{Key: "13", JobID: "13", TaskID: -1, State: slurm.StatePending, Reason: "DependencyNeverSatisfied"},
	}}
	var out strings.Builder
	must(Reconcile(context.Background(), db, ws, client, &out))
	want := map[int64]state.Node{done.ID: state.Succeeded, pending.ID: state.Running, gone.ID: state.Failed, blocked.ID: state.Skipped}
	for id, st := range want {
		n, _ := db.GetNode(id)
		if n.State != st {
			t.Errorf("%s: %s, want %s\n%s", n.Node, n.State, st, out.String())
		}
	}
	if len(client.cancelled) != 1 || client.cancelled[0] != "13" {
		t.Errorf("cancelled %v, want the job whose dependency failed", client.cancelled)
	}
	if r, _, _ := db.GetRun("r1"); r.Status != state.RunRunning {
		t.Errorf("a run with a pending node is %s", r.Status)
	}
	client.tasks = nil
	must(Reconcile(context.Background(), db, ws, client, &out))
	if r, _, _ := db.GetRun("r1"); r.Status != state.RunFailed {
		t.Errorf("a settled run with failures is %s\n%s", r.Status, out.String())
	}
	if err := Reconcile(context.Background(), (*track.DB)(nil), ws, client, &out); err != nil {
		t.Errorf("reconcile without a store: %v", err)
	}
}
