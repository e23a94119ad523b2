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

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/internal/atomicfile"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/slurm"
)

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
}

// slurmExec submits Slurm nodes of a run, one job array per stage, and watches them all with one
// squeue call per poll interval.
type slurmExec struct {
	sc     *scheduler
	opt    SlurmOptions
	client slurm.Client
	dir    string // <workspace>/slurm/<run-id>

	mu       sync.Mutex
	tracker  *slurm.Tracker
	batches  map[string]*batch // by stage address, until submitted
	expected map[string]int    // selected nodes per Slurm stage
	arrived  map[string]int
	jobs     map[string]*batch // by job id
	started  bool
	active   []string // job ids submitted by this run

	cancelMu sync.Mutex // serialises cancelAll
	live     *liveOut   // the terminal's live job table, nil when not on a terminal
}

// batch is the nodes of one stage that go to Slurm together.
type batch struct {
	stage   *pipelines.Stage
	nodes   []*prepared
	waiters []chan slurmResult
	spec    slurm.JobSpec
	retries int
}

type slurmResult struct {
	outcome slurm.Outcome
	err     error
}

func newSlurmExec(sc *scheduler, opt SlurmOptions, nodes []*pipelines.Node) *slurmExec {
	client := opt.Client
	if client == nil {
		client = &slurm.CLI{}
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = 2 * time.Second
	}
	se := &slurmExec{sc: sc, opt: opt, client: client, dir: filepath.Join(sc.r.store.Root(), "slurm", sc.runID),
		tracker: slurm.NewTracker(client), batches: map[string]*batch{}, expected: map[string]int{},
		arrived: map[string]int{}, jobs: map[string]*batch{}}
	for _, n := range nodes {
		if sc.r.executorOf(n.Stage) == "slurm" {
			se.expected[n.Stage.Addr]++
		}
	}
	return se
}

// arrive notes that a node of a Slurm stage will not be submitted (cached or failed early), so
// that the stage's array does not wait for it.
func (se *slurmExec) arrive(ctx context.Context, s *pipelines.Stage) {
	se.mu.Lock()
	defer se.mu.Unlock()
	se.arrived[s.Addr]++
	se.flushLocked(ctx, s)
}

// run submits a prepared node with the other nodes of its stage and waits for its outcome. On
// success it returns the record the job committed.
func (se *slurmExec) run(ctx context.Context, n *prepared, nodeRunID int64) (*cache.Record, error) {
	ch := make(chan slurmResult, 1)
	se.mu.Lock()
	b := se.batches[n.stage.Addr]
	if b == nil {
		b = &batch{stage: n.stage, retries: se.sc.r.resources(n.stage).Retries}
		se.batches[n.stage.Addr] = b
	}
	b.nodes = append(b.nodes, n)
	b.waiters = append(b.waiters, ch)
	n.nodeRunID = nodeRunID
	se.arrived[n.stage.Addr]++
	se.flushLocked(ctx, n.stage)
	se.mu.Unlock()
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

// flushLocked submits the stage's batch once every selected node of the stage has arrived.
func (se *slurmExec) flushLocked(ctx context.Context, s *pipelines.Stage) {
	b := se.batches[s.Addr]
	if b == nil || se.arrived[s.Addr] < se.expected[s.Addr] {
		return
	}
	delete(se.batches, s.Addr)
	sort.Sort(byNodeOrder{b, se.sc.r.p})
	spec, err := se.jobSpec(b)
	if err == nil {
		err = se.submitLocked(ctx, b, spec)
	}
	if err != nil {
		for _, w := range b.waiters {
			w <- slurmResult{err: err}
		}
	}
}

// jobSpec renders the sbatch options and command of a batch and writes its nodes file.
func (se *slurmExec) jobSpec(b *batch) (slurm.JobSpec, error) {
	if err := os.MkdirAll(filepath.Join(se.dir, "results"), 0o755); err != nil {
		return slurm.JobSpec{}, fmt.Errorf("creating the Slurm folder of the run: %w", err)
	}
	name := strings.TrimSuffix(logName(b.stage.Addr), ".log")
	var specs []ExecSpec
	for _, n := range b.nodes {
		specs = append(specs, ExecSpec{Node: n.node.Addr, NodeRunID: n.nodeRunID,
			Result: filepath.Join(se.dir, "results", strings.TrimSuffix(logName(n.node.Addr), ".log")+".json")})
	}
	nodesFile := filepath.Join(se.dir, name+".nodes.json")
	data, _ := json.MarshalIndent(specs, "", "  ")
	if err := atomicfile.Write(nodesFile, data, 0o644); err != nil {
		return slurm.JobSpec{}, err
	}
	res := se.sc.r.resources(b.stage)
	cmd := append(append([]string{}, se.opt.Command...), "--run-id", se.sc.runID, "--nodes-file", nodesFile, "--index")
	spec := slurm.JobSpec{Name: "pcamflow:" + b.stage.Addr, Partition: res.Partition, Account: res.Account, QOS: res.QOS,
		Constraint: res.Constraint, CPUs: res.CPUs, Mem: res.Mem, Time: res.Time, GPUs: res.GPUs, ExtraArgs: res.ExtraArgs,
		WorkDir: se.sc.r.project, Env: se.opt.Env, ResultDir: filepath.Join(se.dir, "exit"),
		// A job that Slurm requeues after a node failure or preemption runs the node again; a
		// training node then resumes from its last epoch checkpoint.
		Requeue: true}
	indices := make([]int, len(b.nodes))
	for i := range indices {
		indices[i] = i
	}
	if len(b.nodes) == 1 && !b.stage.ForEach() {
		spec.Command = append(cmd, "0")
		spec.Output = filepath.Join(se.dir, name+"-%j.out")
	} else {
		spec.Array = &slurm.ArraySpec{Indices: indices, Parallel: res.Parallel}
		spec.Command = append(cmd, slurm.ArrayTaskID)
		spec.Output = filepath.Join(se.dir, name+"-%A_%a.out")
	}
	if err := os.MkdirAll(spec.ResultDir, 0o755); err != nil {
		return slurm.JobSpec{}, err
	}
	return spec, spec.Validate()
}

// submitLocked submits spec for b and starts watching it.
func (se *slurmExec) submitLocked(ctx context.Context, b *batch, spec slurm.JobSpec) error {
	id, err := se.client.Submit(ctx, spec)
	if err != nil {
		return fmt.Errorf("submitting %s to Slurm: %w", b.stage.Addr, err)
	}
	b.spec = spec
	if err := se.tracker.Add(id, spec); err != nil {
		return err
	}
	se.jobs[id] = b
	se.active = append(se.active, id)
	if err := writeSpec(se, b.stage, id, spec); err != nil {
		fmt.Fprintf(se.sc.r.opt.Out, "warning: saving the job spec of %s: %v\n", b.stage.Addr, err)
	}
	what := "job"
	if spec.Array != nil {
		what = fmt.Sprintf("array job (%d tasks, --array=%s)", len(spec.Array.Indices), slurm.CompactRanges(spec.Array.Indices))
	}
	fmt.Fprintf(se.sc.r.opt.Out, "  slurm    %s submitted as %s %s\n", b.stage.Addr, what, id)
	se.recordJobIDs(b, id, spec)
	if !se.started {
		se.started = true
		go se.poll(ctx)
	}
	return nil
}

// recordJobIDs stores the job id of every submitted node in its tracking row.
func (se *slurmExec) recordJobIDs(b *batch, id string, spec slurm.JobSpec) {
	db := se.sc.r.db
	if db == nil {
		return
	}
	for i, n := range b.nodes {
		if n.nodeRunID == 0 || (spec.Array != nil && !slices.Contains(spec.Array.Indices, i)) {
			continue
		}
		jobID := id
		if spec.Array != nil {
			jobID = fmt.Sprintf("%s_%d", id, i)
		}
		nr, err := db.GetNode(n.nodeRunID)
		if err != nil {
			continue
		}
		nr.JobID, nr.Executor = jobID, "slurm"
		_ = db.UpdateNode(nr)
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
			fmt.Fprintf(se.sc.r.opt.Out, "  slurm    poll failed (will retry): %v\n", err)
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
		case <-se.sc.done:
			return
		case <-ticker.C:
		}
	}
}

// event reports one state change and, once a job's tasks are all final, delivers or retries them.
func (se *slurmExec) event(ctx context.Context, e slurm.Event) {
	b := se.jobs[e.JobID]
	if b == nil {
		return
	}
	label := b.stage.Addr
	if e.TaskID >= 0 && e.TaskID < len(b.nodes) {
		label = b.nodes[e.TaskID].node.Addr
	}
	if se.live == nil || e.Outcome != nil { // on a terminal the live table shows the transitions
		fmt.Fprintf(se.sc.r.opt.Out, "  slurm    %s: %s\n", label, e.String())
	}
	if e.Outcome == nil {
		return
	}
	outcomes := se.tracker.Outcomes(e.JobID)
	want := 1
	if b.spec.Array != nil {
		want = len(b.spec.Array.Indices)
	}
	if len(outcomes) < want {
		return
	}
	delete(se.jobs, e.JobID) // settled: later events of this job in the same poll change nothing
	se.active = slices.DeleteFunc(se.active, func(id string) bool { return id == e.JobID })
	failed := slurm.FailedIndices(outcomes)
	if len(failed) > 0 && b.retries > 0 && ctx.Err() == nil && b.spec.Array != nil {
		b.retries--
		spec, err := slurm.RetrySpec(se.grow(b), failed)
		if err == nil {
			fmt.Fprintf(se.sc.r.opt.Out, "  slurm    %s: %d task(s) failed; resubmitting only --array=%s (%d retr(ies) left)\n",
				b.stage.Addr, len(failed), slurm.CompactRanges(failed), b.retries)
			for _, o := range outcomes {
				if !o.Failed() {
					se.deliver(b, o)
				}
			}
			if err = se.submitLocked(ctx, b, spec); err == nil {
				return
			}
		}
		fmt.Fprintf(se.sc.r.opt.Out, "  slurm    retry of %s failed: %v\n", b.stage.Addr, err)
	} else if len(failed) > 0 && b.retries > 0 && ctx.Err() == nil {
		b.retries--
		fmt.Fprintf(se.sc.r.opt.Out, "  slurm    %s failed; resubmitting (%d retr(ies) left)\n", b.stage.Addr, b.retries)
		if err := se.submitLocked(ctx, b, se.grow(b)); err == nil {
			return
		}
	}
	for _, o := range outcomes {
		se.deliver(b, o)
	}
}

// deliver hands a task's outcome to the node waiting for it (once).
func (se *slurmExec) deliver(b *batch, o slurm.Outcome) {
	i := o.TaskID
	if i < 0 {
		i = 0
	}
	if i >= len(b.waiters) || b.waiters[i] == nil {
		return
	}
	b.waiters[i] <- slurmResult{outcome: o}
	b.waiters[i] = nil
}

// collect ingests the result file of a finished node and returns the record its job committed.
func (se *slurmExec) collect(n *prepared) (*cache.Record, error) {
	result := filepath.Join(se.dir, "results", strings.TrimSuffix(logName(n.node.Addr), ".log")+".json")
	if db := se.sc.r.db; db != nil {
		if _, err := db.IngestNodeFile(result); err != nil {
			return nil, fmt.Errorf("the Slurm job of %s finished but its result could not be read: %w", n.node.Addr, err)
		}
	}
	rec, ok, err := se.sc.r.store.GetRecord(n.key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("the Slurm job of %s succeeded but committed no cache record for key %s (its inputs differed on the compute node?)", n.node.Addr, n.key[:12])
	}
	if err := se.sc.r.restoreAll(n.node, rec); err != nil {
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
		fmt.Fprintf(se.sc.r.opt.Out, "  slurm    cancelling jobs %s failed: %v\n", strings.Join(ids, " "), err)
		return
	}
	fmt.Fprintf(se.sc.r.opt.Out, "  slurm    cancelled job(s) %s (scancel)\n", strings.Join(ids, " "))
}

// resources merges a stage's resources over the pipeline-wide slurm defaults.
func (r *Runner) resources(s *pipelines.Stage) pipelines.Resources {
	var res pipelines.Resources
	if r.p.Slurm != nil {
		res = *r.p.Slurm
	}
	if s.Resources != nil {
		res = res.Merge(*s.Resources)
	}
	return res
}

// executorOf says where a stage's nodes run in this run: the --executor override, else the
// stage's resources block, else local.
func (r *Runner) executorOf(s *pipelines.Stage) string {
	if r.opt.Executor != "" {
		return r.opt.Executor
	}
	return executorOf(s)
}

// byNodeOrder sorts a batch's nodes (and their waiters) into pipeline order, so array task i is the
// i-th instance of the stage.
type byNodeOrder struct {
	b *batch
	p *pipelines.Pipeline
}

func (o byNodeOrder) Len() int { return len(o.b.nodes) }
func (o byNodeOrder) Less(i, j int) bool {
	return o.p.NodeIndex(o.b.nodes[i].node.Addr) < o.p.NodeIndex(o.b.nodes[j].node.Addr)
}
func (o byNodeOrder) Swap(i, j int) {
	o.b.nodes[i], o.b.nodes[j] = o.b.nodes[j], o.b.nodes[i]
	o.b.waiters[i], o.b.waiters[j] = o.b.waiters[j], o.b.waiters[i]
}

// grow returns the batch's job spec with the time limit and memory scaled for a retry by the
// stage's retry_time_factor and retry_mem_factor (unchanged when they are unset or invalid).
func (se *slurmExec) grow(b *batch) slurm.JobSpec {
	res := se.sc.r.resources(b.stage)
	spec, err := slurm.Grow(b.spec, res.RetryTimeFactor, res.RetryMemFactor)
	if err != nil {
		fmt.Fprintf(se.sc.r.opt.Out, "  slurm    %s: not growing resources for the retry: %v\n", b.stage.Addr, err)
		return b.spec
	}
	if spec.Time != b.spec.Time || spec.Mem != b.spec.Mem {
		fmt.Fprintf(se.sc.r.opt.Out, "  slurm    %s: retry with time %s, mem %s\n", b.stage.Addr, orDefault(spec.Time), orDefault(spec.Mem))
	}
	return spec
}

func orDefault(s string) string {
	if s == "" {
		return "(default)"
	}
	return s
}
