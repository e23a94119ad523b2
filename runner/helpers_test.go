package runner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/internal/testkinds"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/runner"
	"github.com/pcamflow/pcamflow/slurm"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/stages/builtin"
	"github.com/pcamflow/pcamflow/track"
)

// project is a temporary project with a workspace (real object store and tracking store).
type project struct {
	t     *testing.T
	dir   string
	ws    string
	store *cache.Store
	db    *track.DB
	reg   *stages.Registry
}

func newProject(t *testing.T) *project {
	t.Helper()
	dir := t.TempDir()
	ws := filepath.Join(dir, ".pcamflow")
	store, err := cache.Open(ws)
	if err != nil {
		t.Fatal(err)
	}
	db, err := track.Open(filepath.Join(ws, "pcamflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(); store.Close() })
	return &project{t: t, dir: dir, ws: ws, store: store, db: db, reg: builtin.Registry(testkinds.All()...)}
}

// load loads pipeline source.
func (p *project) load(src string, vars ...string) *pipelines.Pipeline {
	p.t.Helper()
	pl, diags := pipelines.Load(filepath.Join(p.dir, "p.hcl"), []byte(src), p.reg, pipelines.Options{Vars: vars})
	if diags.HasErrors() {
		p.t.Fatalf("loading the pipeline: %v", diags)
	}
	return pl
}

// runner returns a runner of src over the workspace; out collects its output.
func (p *project) runner(src string, opt runner.Options) (*runner.Runner, *syncBuffer) {
	p.t.Helper()
	out := &syncBuffer{}
	if opt.Out == nil {
		opt.Out = out
	}
	r, err := runner.New(p.load(src), p.store, p.db, p.dir, opt)
	if err != nil {
		p.t.Fatal(err)
	}
	return r, out
}

// run runs src and returns the summary and the output.
func (p *project) run(src string, opt runner.Options) (*runner.Summary, string) {
	p.t.Helper()
	r, out := p.runner(src, opt)
	sum, err := r.Run(context.Background())
	if err != nil {
		p.t.Fatalf("run: %v\n%s", err, out)
	}
	return sum, out.String()
}

// read returns a project file's content ("" when missing).
func (p *project) read(rel string) string {
	b, _ := os.ReadFile(filepath.Join(p.dir, rel))
	return string(b)
}

// lines counts the lines of a project file that contain s.
func (p *project) lines(rel, s string) int {
	n := 0
	for _, l := range strings.Split(p.read(rel), "\n") {
		if l != "" && strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// result returns the result of node addr in a summary.
func result(t *testing.T, sum *runner.Summary, addr string) runner.NodeResult {
	t.Helper()
	for _, r := range sum.Nodes {
		if r.Node == addr {
			return r
		}
	}
	t.Fatalf("no result for %s in %v", addr, nodeNames(sum))
	return runner.NodeResult{}
}

// children returns the results of the children of parent, in completion order.
func children(sum *runner.Summary, parent string) []runner.NodeResult {
	var out []runner.NodeResult
	for _, r := range sum.Nodes {
		if r.Parent == parent {
			out = append(out, r)
		}
	}
	return out
}

func nodeNames(sum *runner.Summary) []string {
	var out []string
	for _, r := range sum.Nodes {
		out = append(out, r.Node+"="+string(r.State))
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fakeSlurm is a slurm.Client that runs every task of a submitted job in this process, as a
// compute node would: `pcamflow exec` of the nodes-file entry (Runner.Exec with its own runner and
// store over the same workspace, no tracking store) and its result file. It counts submissions.
type fakeSlurm struct {
	p   *project
	src string

	mu     sync.Mutex
	next   int
	specs  []slurm.JobSpec
	tasks  map[string]*slurm.TaskStatus // by task key
	calls  atomic.Int64
	failOn func(node string) bool // tasks whose node matches fail with exit 1 before running
	hold   chan struct{}          // when set, tasks stay running until it is closed, then end without running
}

func newFakeSlurm(p *project, src string) *fakeSlurm {
	return &fakeSlurm{p: p, src: src, next: 100, tasks: map[string]*slurm.TaskStatus{}}
}

// Submit implements slurm.Client.
func (f *fakeSlurm) Submit(_ context.Context, spec slurm.JobSpec) (string, error) {
	f.calls.Add(1)
	f.mu.Lock()
	f.next++
	id := strconv.Itoa(f.next)
	f.specs = append(f.specs, spec)
	indices := []int{-1}
	if spec.Array != nil {
		indices = spec.Array.Indices
	}
	for _, i := range indices {
		key := id
		if i >= 0 {
			key = fmt.Sprintf("%s_%d", id, i)
		}
		f.tasks[key] = &slurm.TaskStatus{Key: key, JobID: id, RawID: key, TaskID: i, State: slurm.StateRunning}
	}
	f.mu.Unlock()
	for _, i := range indices {
		go f.runTask(spec, id, i)
	}
	return id, nil
}

// runTask executes one task of a job like `pcamflow exec --nodes-file F --index I` would.
func (f *fakeSlurm) runTask(spec slurm.JobSpec, id string, i int) {
	if f.hold != nil {
		<-f.hold
		return
	}
	arg := func(name string) string {
		for j, a := range spec.Command {
			if a == name && j+1 < len(spec.Command) {
				return spec.Command[j+1]
			}
		}
		return ""
	}
	index := max(i, 0)
	key, jobID := id, id
	if i >= 0 {
		key, jobID = fmt.Sprintf("%s_%d", id, i), fmt.Sprintf("%s_%d", id, i)
	}
	code := f.exec(arg("--nodes-file"), index, arg("--run-id"), jobID)
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tasks[key]
	t.State, t.ExitCode, t.ExitKnown = slurm.StateCompleted, code, true
	if code != 0 {
		t.State = slurm.StateFailed
	}
}

// exec runs entry index of a nodes file and returns the exit code.
func (f *fakeSlurm) exec(nodesFile string, index int, runID, jobID string) int {
	data, err := os.ReadFile(nodesFile)
	if err != nil {
		return 2
	}
	var specs []runner.ExecSpec
	if json.Unmarshal(data, &specs) != nil || index >= len(specs) {
		return 2
	}
	spec := specs[index]
	started := time.Now()
	if f.failOn != nil && f.failOn(spec.Node) {
		_ = runner.WriteResult(spec, runID, nil, fmt.Errorf("injected failure"), started, jobID, nil)
		return 1
	}
	store, err := cache.Open(f.p.ws)
	if err != nil {
		return 2
	}
	defer store.Close()
	r, err := runner.New(f.p.load(f.src), store, nil, f.p.dir, runner.Options{})
	if err != nil {
		return 2
	}
	res, execErr := r.Exec(context.Background(), spec, runID, nil)
	if err := runner.WriteResult(spec, runID, res, execErr, started, jobID, nil); err != nil || execErr != nil {
		return 1
	}
	return 0
}

// Poll implements slurm.Client.
func (f *fakeSlurm) Poll(_ context.Context, jobIDs []string) ([]slurm.TaskStatus, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []slurm.TaskStatus
	for _, t := range f.tasks {
		if slices.Contains(jobIDs, t.JobID) {
			s := *t
			s.ExitKnown, s.ExitCode = false, 0 // squeue does not report exit codes
			out = append(out, s)
		}
	}
	return out, nil
}

// Details implements slurm.Client.
func (f *fakeSlurm) Details(_ context.Context, jobIDs []string) ([]slurm.TaskStatus, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []slurm.TaskStatus
	for _, t := range f.tasks {
		if slices.Contains(jobIDs, t.JobID) {
			out = append(out, *t)
		}
	}
	return out, nil
}

// Cancel implements slurm.Client.
func (f *fakeSlurm) Cancel(context.Context, []string) error { f.calls.Add(1); return nil }

// Requeue implements slurm.Client.
func (f *fakeSlurm) Requeue(context.Context, []string) error { f.calls.Add(1); return nil }

// Invocations implements slurm.Client.
func (f *fakeSlurm) Invocations() int64 { return f.calls.Load() }

// submitted returns the job specs submitted so far.
func (f *fakeSlurm) submitted() []slurm.JobSpec {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.specs)
}

// slurmOptions returns Slurm options that use the fake client.
func (f *fakeSlurm) options() runner.SlurmOptions {
	return runner.SlurmOptions{Client: f, Command: []string{"pcamflow", "exec"}, PollInterval: 20 * time.Millisecond}
}
