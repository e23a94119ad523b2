package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/internal/atomicfile"
	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/slurm"
)

// The attached Slurm executor: cache misses become tasks of Slurm job arrays that run
// `pcamflow exec` on a compute node against the same workspace; one tracker watches every job of
// the run with one squeue call per poll interval. The nodes of a stage go to Slurm together, as one
// job (array); the children of one stages.Children.Run call go as one array.

// SlurmOptions configures the Slurm executor of a run.
type SlurmOptions struct {
	// Client runs the Slurm commands; nil uses the command-line tools on PATH.
	Client slurm.Client
	// Command is the argv prefix that runs `pcamflow exec` for this pipeline on a compute node:
	// the binary, global options, "exec", the pipeline file and variables. The executor appends
	// --run-id, --nodes-file and --index.
	Command []string
	// Env is exported into every job (for example PATH).
	Env map[string]string
	// PollInterval is the time between two squeue calls (default 2 s).
	PollInterval time.Duration
}

// ExecSpec is one line of a nodes file: the node a task of a Slurm job executes.
type ExecSpec struct {
	// Node is the node address.
	Node string `json:"node"`
	// NodeRunID is the tracking row of the node, updated when its result file is ingested.
	NodeRunID int64 `json:"node_run_id,omitempty"`
	// Result is where the job writes its result record.
	Result string `json:"result"`
	// Child describes a child node (DESIGN.md §7), which is not a node of the pipeline file: the
	// compute node rebuilds it from its base stage, configuration, seed and budget.
	Child *ChildExec `json:"child,omitempty"`
	// Force re-executes the node even when its key is cached (the run named it with --force).
	Force bool `json:"force,omitempty"`
}

// ChildExec is what `pcamflow exec` needs to rebuild a child node (see stages.ChildSpec).
type ChildExec struct {
	Parent string `json:"parent"`
	Base   string `json:"base"`
	// Config is the child's configuration with its type (cty's JSON form {"value": ..., "type": ...}).
	Config json.RawMessage `json:"config"`
	Seed   int64           `json:"seed"`
	Budget int             `json:"budget,omitempty"`
	Label  string          `json:"label,omitempty"`
}

// childExec describes a prepared child for a nodes file.
func childExec(n *prepared) (*ChildExec, error) {
	cfg, err := json.Marshal(ctyjson.SimpleJSONValue{Value: n.cfg})
	if err != nil {
		return nil, fmt.Errorf("encoding the configuration of %s: %w", n.addr(), err)
	}
	return &ChildExec{Parent: n.parent, Base: n.stage.Addr, Config: cfg, Seed: n.seed, Budget: n.budget, Label: n.label}, nil
}

// slurmExec submits the Slurm nodes of a run and watches them all with one squeue call per poll
// interval.
type slurmExec struct {
	x      *execution
	opt    SlurmOptions
	client slurm.Client
	dir    string // <workspace>/slurm/<run-id>

	mu       sync.Mutex
	tracker  *slurm.Tracker
	pending  map[string]*group // static groups by key, until submitted
	expected map[string]int    // selected nodes per static group
	arrived  map[string]int
	jobs     map[string]*group // by job id
	started  bool
	active   []string // job ids submitted by this run

	cancelMu sync.Mutex // serialises cancelAll
	live     *liveOut   // the terminal's live job table, nil when not on a terminal
}

// group is nodes that go to Slurm as one job, or one job array.
type group struct {
	name    string              // file name of its nodes and spec files, e.g. "command.fan"
	label   string              // what the output calls it: a stage address, or PARENT.trial
	res     pipelines.Resources // sbatch options
	array   bool                // an array even for one node
	nodes   []*prepared
	waiters []chan slurmResult
	spec    slurm.JobSpec
	retries int
}

type slurmResult struct {
	outcome slurm.Outcome
	err     error
}

func newSlurmExec(x *execution, opt SlurmOptions, nodes []*pipelines.Node) *slurmExec {
	client := opt.Client
	if client == nil {
		client = &slurm.CLI{}
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = 2 * time.Second
	}
	se := &slurmExec{x: x, opt: opt, client: client, dir: filepath.Join(x.r.store.Root(), "slurm", x.runID),
		tracker: slurm.NewTracker(client), pending: map[string]*group{}, expected: map[string]int{},
		arrived: map[string]int{}, jobs: map[string]*group{}}
	for _, n := range nodes {
		if x.r.runsOnSlurm(n) {
			se.expected[groupKey(n)]++
		}
	}
	return se
}

// groupKey names the static group of a node: its stage, except that the aggregate node of a
// seeded stage, which runs after the stage's seed nodes, goes to Slurm on its own.
// The instances of a for_each stage whose resources use `each` go out as one job array per distinct
// set of resources (partition = each.value: one array per partition).
func groupKey(n *pipelines.Node) string {
	if n.Aggregate {
		return n.Stage.Addr + " aggregate"
	}
	if n.Resources != nil {
		res := *n.Resources
		res.DeclRange = hcl.Range{}
		return fmt.Sprintf("%s %+v", n.Stage.Addr, res)
	}
	return n.Stage.Addr
}

// groupName is the file name of a node's static group (nodes file, job log): the stage's, or for a
// group of instances with their own resources the first instance's address.
func groupName(n *pipelines.Node) string {
	switch {
	case n.Aggregate:
		return FileName(n.Stage.Addr) + ".aggregate"
	case n.Resources != nil:
		return FileName(n.Addr)
	}
	return FileName(n.Stage.Addr)
}

// arrive notes that a node of a Slurm stage will not be submitted (cached or failed early), so
// that the stage's array does not wait for it.
func (se *slurmExec) arrive(ctx context.Context, n *pipelines.Node) {
	se.mu.Lock()
	defer se.mu.Unlock()
	se.arrived[groupKey(n)]++
	se.flushLocked(ctx, groupKey(n))
}

// execute sends a prepared node to Slurm with the other nodes of its stage and waits for it. The
// job commits the cache record and a result file; the node's tracking row is updated from the
// result file, or marked failed with the job's outcome when the job died before writing it.
func (se *slurmExec) execute(ctx context.Context, n *prepared, res *NodeResult) *cache.Record {
	nr, err := se.x.rec.started(n, state.Slurm, res.Reasons, "")
	if err != nil {
		fmt.Fprintf(se.x.r.opt.Out, "warning: %v\n", err)
	}
	n.nodeRunID = nr.ID
	start := time.Now()
	rec, err := se.run(ctx, n)
	res.Duration = time.Since(start)
	if err != nil {
		res.State, res.Err, res.ExitCode = state.Failed, err, -1
		se.x.rec.jobFailed(nr.ID, err)
		return nil
	}
	res.State, res.Outputs, res.LogPath = state.Succeeded, rec.Outputs, rec.LogPath
	return rec
}

// run submits a prepared node with the other nodes of its static group and waits for its outcome.
// On success it returns the record the job committed.
func (se *slurmExec) run(ctx context.Context, n *prepared) (*cache.Record, error) {
	ch := make(chan slurmResult, 1)
	key := groupKey(n.node)
	se.mu.Lock()
	g := se.pending[key]
	if g == nil {
		res := se.x.r.nodeResources(n.node)
		g = &group{name: groupName(n.node), label: n.stage.Addr, res: res, array: n.stage.ForEach(), retries: res.Retries}
		se.pending[key] = g
	}
	g.nodes = append(g.nodes, n)
	g.waiters = append(g.waiters, ch)
	se.arrived[key]++
	se.flushLocked(ctx, key)
	se.mu.Unlock()
	return se.wait(ctx, n, ch)
}

// wait waits for the outcome of a submitted node and collects its record.
func (se *slurmExec) wait(ctx context.Context, n *prepared, ch chan slurmResult) (*cache.Record, error) {
	var res slurmResult
	select {
	case res = <-ch:
	case <-ctx.Done():
		return nil, fmt.Errorf("interrupted while waiting for Slurm: %w", ctx.Err())
	}
	if res.err != nil {
		return nil, res.err
	}
	if err := res.outcome.Err(); err != nil {
		return nil, err
	}
	return se.collect(n)
}

// runChildren submits the cache misses of one Children.Run call as ONE job array (one per base
// stage, should a call mix bases) and waits for all of them. It returns each child's record, nil
// where the child failed (its result says why).
func (se *slurmExec) runChildren(ctx context.Context, c *children, call int, ns []*prepared, results []*NodeResult) []*cache.Record {
	recs := make([]*cache.Record, len(ns))
	byBase := map[string][]int{}
	var bases []string
	for i, n := range ns {
		if _, seen := byBase[n.stage.Addr]; !seen {
			bases = append(bases, n.stage.Addr)
		}
		byBase[n.stage.Addr] = append(byBase[n.stage.Addr], i)
	}
	chans := make([]chan slurmResult, len(ns))
	starts := make([]time.Time, len(ns))
	for bi, base := range bases {
		idx := byBase[base]
		res := se.x.r.resources(ns[idx[0]].stage)
		if ps := c.parent.stage.Resources; ps != nil {
			res = res.Merge(*ps)
		}
		res.Parallel = c.bound
		name := fmt.Sprintf("%s.trial-%d", FileName(c.parent.addr()), call)
		if len(bases) > 1 {
			name += fmt.Sprintf("-%d", bi+1)
		}
		g := &group{name: name, label: c.parent.addr() + ".trial", res: res, array: true, retries: res.Retries}
		for _, i := range idx {
			nr, err := se.x.rec.started(ns[i], state.Slurm, results[i].Reasons, "")
			if err != nil {
				fmt.Fprintf(se.x.r.opt.Out, "warning: %v\n", err)
			}
			ns[i].nodeRunID = nr.ID
			chans[i] = make(chan slurmResult, 1)
			starts[i] = time.Now()
			g.nodes = append(g.nodes, ns[i])
			g.waiters = append(g.waiters, chans[i])
		}
		se.mu.Lock()
		spec, err := se.jobSpec(g)
		if err == nil {
			err = se.submitLocked(ctx, g, spec)
		}
		se.mu.Unlock()
		if err != nil {
			for _, w := range g.waiters {
				w <- slurmResult{err: err}
			}
		}
	}
	var wg sync.WaitGroup
	for i, n := range ns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec, err := se.wait(ctx, n, chans[i])
			res := results[i]
			res.Duration = time.Since(starts[i])
			if err != nil {
				res.State, res.Err, res.ExitCode = state.Failed, err, -1
				se.x.rec.jobFailed(n.nodeRunID, err)
				return
			}
			res.State, res.Outputs, res.LogPath = state.Succeeded, rec.Outputs, rec.LogPath
			recs[i] = rec
		}()
	}
	wg.Wait()
	return recs
}

// flushLocked submits a static group once every selected node of it has arrived.
func (se *slurmExec) flushLocked(ctx context.Context, key string) {
	g := se.pending[key]
	if g == nil || se.arrived[key] < se.expected[key] {
		return
	}
	delete(se.pending, key)
	sort.Sort(byNodeOrder{g, se.x.r.p})
	spec, err := se.jobSpec(g)
	if err == nil {
		err = se.submitLocked(ctx, g, spec)
	}
	if err != nil {
		for _, w := range g.waiters {
			w <- slurmResult{err: err}
		}
	}
}

// resultFile is where the job of a node writes its result.
func (se *slurmExec) resultFile(addr string) string {
	return filepath.Join(se.dir, "results", FileName(addr)+".json")
}

// jobSpec renders the sbatch options and command of a group and writes its nodes file.
func (se *slurmExec) jobSpec(g *group) (slurm.JobSpec, error) {
	if err := os.MkdirAll(filepath.Join(se.dir, "results"), 0o755); err != nil {
		return slurm.JobSpec{}, fmt.Errorf("creating the Slurm folder of the run: %w", err)
	}
	var specs []ExecSpec
	for _, n := range g.nodes {
		es := ExecSpec{Node: n.addr(), NodeRunID: n.nodeRunID, Result: se.resultFile(n.addr()),
			Force: n.parent == "" && se.x.r.forced(n.node)}
		if n.parent != "" {
			ce, err := childExec(n)
			if err != nil {
				return slurm.JobSpec{}, err
			}
			es.Child = ce
		}
		specs = append(specs, es)
	}
	nodesFile := filepath.Join(se.dir, g.name+".nodes.json")
	data, _ := json.MarshalIndent(specs, "", "  ")
	if err := atomicfile.Write(nodesFile, data, 0o644); err != nil {
		return slurm.JobSpec{}, err
	}
	res := g.res
	cmd := append(append([]string{}, se.opt.Command...), "--run-id", se.x.runID, "--nodes-file", nodesFile, "--index")
	spec := slurm.JobSpec{Name: "pcamflow:" + g.label, Partition: res.Partition, Account: res.Account, QOS: res.QOS,
		Constraint: res.Constraint, CPUs: res.CPUs, Mem: res.Mem, Time: res.Time, GPUs: res.GPUs, ExtraArgs: res.ExtraArgs,
		WorkDir: se.x.r.project, Env: se.opt.Env, ResultDir: filepath.Join(se.dir, "exit"),
		// A job that Slurm requeues after a node failure or preemption runs the node again; a
		// training node then resumes from its last epoch checkpoint.
		Requeue: true}
	indices := make([]int, len(g.nodes))
	for i := range indices {
		indices[i] = i
	}
	if len(g.nodes) == 1 && !g.array {
		spec.Command = append(cmd, "0")
		spec.Output = filepath.Join(se.dir, g.name+"-%j.out")
	} else {
		spec.Array = &slurm.ArraySpec{Indices: indices, Parallel: res.Parallel}
		spec.Command = append(cmd, slurm.ArrayTaskID)
		spec.Output = filepath.Join(se.dir, g.name+"-%A_%a.out")
	}
	if err := os.MkdirAll(spec.ResultDir, 0o755); err != nil {
		return slurm.JobSpec{}, err
	}
	return spec, spec.Validate()
}

// submitLocked submits spec for g and starts watching it.
func (se *slurmExec) submitLocked(ctx context.Context, g *group, spec slurm.JobSpec) error {
	id, err := se.client.Submit(ctx, spec)
	if err != nil {
		return fmt.Errorf("submitting %s to Slurm: %w", g.label, err)
	}
	g.spec = spec
	if err := se.tracker.Add(id, spec); err != nil {
		return err
	}
	se.jobs[id] = g
	se.active = append(se.active, id)
	if err := writeSpec(se.dir, g.name, id, spec); err != nil {
		fmt.Fprintf(se.x.r.opt.Out, "warning: saving the job spec of %s: %v\n", g.label, err)
	}
	fmt.Fprintf(se.x.r.opt.Out, "  slurm    %s submitted as %s %s\n", g.label, jobWhat(spec), id)
	se.recordJobIDs(g, id, spec)
	if !se.started {
		se.started = true
		go se.poll(ctx)
	}
	return nil
}

// jobWhat describes a submission: "job" or "array job (N tasks, --array=...)".
func jobWhat(spec slurm.JobSpec) string {
	if spec.Array == nil {
		return "job"
	}
	return fmt.Sprintf("array job (%d tasks, --array=%s)", len(spec.Array.Indices), slurm.CompactRanges(spec.Array.Indices))
}

// recordJobIDs stores the job id of every submitted node in its tracking row.
func (se *slurmExec) recordJobIDs(g *group, id string, spec slurm.JobSpec) {
	for i, n := range g.nodes {
		if n.nodeRunID == 0 || (spec.Array != nil && !slices.Contains(spec.Array.Indices, i)) {
			continue
		}
		jobID := id
		if spec.Array != nil {
			jobID = fmt.Sprintf("%s_%d", id, i)
		}
		se.x.rec.submitted(n.nodeRunID, jobID)
	}
}

// poll watches every submitted job until the run ends, delivering outcomes to the waiting nodes.
func (se *slurmExec) poll(ctx context.Context) {
	ticker := time.NewTicker(se.opt.PollInterval)
	defer ticker.Stop()
	for {
		se.mu.Lock()
		events, err := se.tracker.Poll(ctx)
		if err != nil && ctx.Err() == nil {
			fmt.Fprintf(se.x.r.opt.Out, "  slurm    poll failed (will retry): %v\n", err)
		}
		for _, e := range events {
			se.event(ctx, e)
		}
		if se.live != nil {
			se.live.show(jobTable(se.tracker.Tasks(), se.labelOf))
		}
		se.mu.Unlock()
		select {
		case <-ctx.Done():
			se.cancelAll()
			return
		case <-se.x.done:
			return
		case <-ticker.C:
		}
	}
}

// event reports one state change and, once a job's tasks are all final, delivers or retries them.
func (se *slurmExec) event(ctx context.Context, e slurm.Event) {
	g := se.jobs[e.JobID]
	if g == nil {
		return
	}
	label := g.label
	if e.TaskID >= 0 && e.TaskID < len(g.nodes) {
		label = g.nodes[e.TaskID].addr()
	}
	if se.live == nil || e.Outcome != nil { // on a terminal the live table shows the transitions
		fmt.Fprintf(se.x.r.opt.Out, "  slurm    %s: %s\n", label, e.String())
	}
	if e.Outcome == nil {
		return
	}
	outcomes := se.tracker.Outcomes(e.JobID)
	want := 1
	if g.spec.Array != nil {
		want = len(g.spec.Array.Indices)
	}
	if len(outcomes) < want {
		return
	}
	delete(se.jobs, e.JobID) // settled: later events of this job in the same poll change nothing
	se.active = slices.DeleteFunc(se.active, func(id string) bool { return id == e.JobID })
	failed := slurm.FailedIndices(outcomes)
	if len(failed) > 0 && g.retries > 0 && ctx.Err() == nil && g.spec.Array != nil {
		g.retries--
		spec, err := slurm.RetrySpec(se.grow(g), failed)
		if err == nil {
			fmt.Fprintf(se.x.r.opt.Out, "  slurm    %s: %d task(s) failed; resubmitting only --array=%s (%d retr(ies) left)\n",
				g.label, len(failed), slurm.CompactRanges(failed), g.retries)
			for _, o := range outcomes {
				if !o.Failed() {
					se.deliver(g, o)
				}
			}
			if err = se.submitLocked(ctx, g, spec); err == nil {
				return
			}
		}
		fmt.Fprintf(se.x.r.opt.Out, "  slurm    retry of %s failed: %v\n", g.label, err)
	} else if len(failed) > 0 && g.retries > 0 && ctx.Err() == nil {
		g.retries--
		fmt.Fprintf(se.x.r.opt.Out, "  slurm    %s failed; resubmitting (%d retr(ies) left)\n", g.label, g.retries)
		if err := se.submitLocked(ctx, g, se.grow(g)); err == nil {
			return
		}
	}
	for _, o := range outcomes {
		se.deliver(g, o)
	}
}

// deliver hands a task's outcome to the node waiting for it (once).
func (se *slurmExec) deliver(g *group, o slurm.Outcome) {
	i := o.TaskID
	if i < 0 {
		i = 0
	}
	if i >= len(g.waiters) || g.waiters[i] == nil {
		return
	}
	g.waiters[i] <- slurmResult{outcome: o}
	g.waiters[i] = nil
}

// collect ingests the result file of a finished node and returns the record its job committed.
func (se *slurmExec) collect(n *prepared) (*cache.Record, error) {
	if _, err := se.x.rec.ingest(se.resultFile(n.addr())); err != nil {
		return nil, fmt.Errorf("the Slurm job of %s finished but its result could not be read: %w", n.addr(), err)
	}
	rec, ok, err := se.x.r.store.GetRecord(n.key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("the Slurm job of %s succeeded but committed no cache record for key %s (its inputs differed on the compute node?)", n.addr(), n.key[:12])
	}
	if err := se.x.r.restoreAll(n.addr(), rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// cancelAll cancels every job this run submitted that has not finished (on Ctrl-C). It is safe to
// call more than once and from several goroutines: a second caller waits until the first has
// cancelled and reported, so the process cannot exit in between.
func (se *slurmExec) cancelAll() {
	se.cancelMu.Lock()
	defer se.cancelMu.Unlock()
	se.mu.Lock()
	ids := append([]string{}, se.active...)
	se.active = nil
	se.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := se.client.Cancel(ctx, ids); err != nil {
		fmt.Fprintf(se.x.r.opt.Out, "  slurm    cancelling jobs %s failed: %v\n", strings.Join(ids, " "), err)
		return
	}
	fmt.Fprintf(se.x.r.opt.Out, "  slurm    cancelled job(s) %s (scancel)\n", strings.Join(ids, " "))
}

// byNodeOrder sorts a group's nodes (and their waiters) into pipeline order, so array task i is the
// i-th instance of the stage.
type byNodeOrder struct {
	g *group
	p *pipelines.Pipeline
}

func (o byNodeOrder) Len() int { return len(o.g.nodes) }
func (o byNodeOrder) Less(i, j int) bool {
	return o.p.NodeIndex(o.g.nodes[i].addr()) < o.p.NodeIndex(o.g.nodes[j].addr())
}
func (o byNodeOrder) Swap(i, j int) {
	o.g.nodes[i], o.g.nodes[j] = o.g.nodes[j], o.g.nodes[i]
	o.g.waiters[i], o.g.waiters[j] = o.g.waiters[j], o.g.waiters[i]
}

// grow returns the group's job spec with the time limit and memory scaled for a retry by the
// stage's retry_time_factor and retry_mem_factor (unchanged when they are unset or invalid).
func (se *slurmExec) grow(g *group) slurm.JobSpec {
	spec, err := slurm.Grow(g.spec, g.res.RetryTimeFactor, g.res.RetryMemFactor)
	if err != nil {
		fmt.Fprintf(se.x.r.opt.Out, "  slurm    %s: not growing resources for the retry: %v\n", g.label, err)
		return g.spec
	}
	if spec.Time != g.spec.Time || spec.Mem != g.spec.Mem {
		fmt.Fprintf(se.x.r.opt.Out, "  slurm    %s: retry with time %s, mem %s\n", g.label, orDefault(spec.Time), orDefault(spec.Mem))
	}
	return spec
}

func orDefault(s string) string {
	if s == "" {
		return "(default)"
	}
	return s
}

// labelOf names the node a task executes.
func (se *slurmExec) labelOf(t slurm.TaskStatus) string {
	g := se.jobs[t.JobID]
	if g == nil {
		return ""
	}
	if t.TaskID >= 0 && t.TaskID < len(g.nodes) {
		return g.nodes[t.TaskID].addr()
	}
	return strings.TrimSpace(g.label)
}

// specFile is where the job spec of a submission is kept, for reconciliation and review.
func specFile(dir, name string) string {
	return filepath.Join(dir, name+".spec.json")
}

// writeSpec saves a submitted job spec with its job id.
func writeSpec(dir, name, id string, spec slurm.JobSpec) error {
	data, err := json.MarshalIndent(map[string]any{"job_id": id, "spec": spec}, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(specFile(dir, name), data, 0o644)
}
