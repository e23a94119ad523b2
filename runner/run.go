package runner

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/slurm"
	"github.com/pcamflow/pcamflow/track"
)

// Legacy names of the node states (see state.Node), kept for callers of the runner.
const (
	StateCached  = state.Cached    // a record with this key exists; outputs are restored if needed
	StateRun     = state.Planned   // will execute (plan)
	StateRan     = state.Succeeded // executed successfully (printed "ran")
	StateFailed  = state.Failed    // execution or preparation failed
	StateSkipped = state.Skipped   // not executed because an upstream node failed
)

// NodeResult is the outcome of one node in a run.
type NodeResult struct {
	Node     string
	Kind     string
	State    state.Node // Succeeded, Cached, Failed, Skipped or Interrupted
	Key      string
	Reasons  []string
	Err      error
	ExitCode int
	LogPath  string
	Duration time.Duration
	Outputs  map[string]cache.Output
	// Parent is the parent's address for a child node (DESIGN.md §7), "" otherwise.
	Parent string
	// Children are the children a parent node ran, as its record lists them.
	Children []ChildRef

	visited bool // settled by a visit (which recorded it), not by the walk
}

// Summary is the outcome of a run.
type Summary struct {
	RunID    string
	Nodes    []NodeResult // in completion order (children included, with Parent set)
	Duration time.Duration
}

// Count returns how many nodes ended in state.
func (s *Summary) Count(st state.Node) int {
	n := 0
	for _, r := range s.Nodes {
		if r.State == st {
			n++
		}
	}
	return n
}

// OK reports whether no node failed, was skipped or was interrupted.
func (s *Summary) OK() bool {
	return s.Count(state.Failed) == 0 && s.Count(state.Skipped) == 0 && s.Count(state.Interrupted) == 0
}

// execution is one run of the pipeline (Run), or of one node (Exec): the state its walk, its
// executors and the children of its parent nodes share.
type execution struct {
	r     *Runner
	runID string
	rec   *recorder

	mu      sync.Mutex
	exposed *exposures
	records map[string]*cache.Record
	summary *Summary

	local *localExec
	slurm *slurmExec    // nil unless a node or a child of this run executes on Slurm
	done  chan struct{} // closed when the run's nodes have all settled
}

func (r *Runner) newExecution(runID string) *execution {
	x := &execution{r: r, runID: runID, rec: newRecorder(r.db, runID, r.opt.Out), exposed: newExposures(r.p),
		records: map[string]*cache.Record{}, summary: &Summary{RunID: runID}, done: make(chan struct{})}
	x.local = newLocalExec(x)
	return x
}

// Run executes every selected node that is not cached, at most Options.Jobs at once. Downstream
// nodes of a failed node are skipped. It returns an error only when the run itself could not be
// carried out; node failures are in the summary.
func (r *Runner) Run(ctx context.Context) (*Summary, error) {
	unlock, err := r.store.LockWorkspace(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("locking the workspace: %w", err)
	}
	defer unlock()
	start := time.Now()
	x := r.newExecution(track.NewRunID(start))
	if err := x.rec.beginRun(r.p, r.opt.Args, start); err != nil {
		return nil, err
	}
	nodes := r.selected()
	fmt.Fprintf(r.opt.Out, "run %s: pipeline %s, %d node(s), -j %d\n", x.runID, r.p.Name, len(nodes), r.opt.Jobs)
	x.walk(ctx, nodes)
	x.summary.Duration = time.Since(start)
	if ctx.Err() == nil && x.summary.OK() {
		for _, res := range x.summary.Nodes {
			for _, o := range res.Outputs {
				r.touch(r.abs(o.Path))
			}
			for _, c := range res.Children { // the children of a cached parent were restored, not run
				if crec, ok, _ := r.store.GetRecord(c.Key); ok {
					for _, o := range crec.Outputs {
						r.touch(r.abs(o.Path))
					}
				}
			}
		}
		if err := r.writeFingerprint(x.runID, x.summary.Nodes); err != nil {
			fmt.Fprintf(r.opt.Out, "warning: saving the no-op fingerprint: %v\n", err)
		}
	}
	status := state.RunSucceeded
	switch {
	case ctx.Err() != nil:
		status = state.RunInterrupted
	case !x.summary.OK():
		status = state.RunFailed
	}
	if err := x.rec.finishRun(status); err != nil {
		return x.summary, err
	}
	if err := r.store.FlushStatCache(); err != nil {
		fmt.Fprintf(r.opt.Out, "warning: saving the stat cache: %v\n", err)
	}
	if ctx.Err() == nil {
		r.updateRefIndex()
	}
	return x.summary, nil
}

// walk runs the execute visitor over nodes: every node whose upstream succeeded is prepared and
// looked up in the cache (at most checkers() at once) and, on a miss, executed by its executor.
func (x *execution) walk(ctx context.Context, nodes []*pipelines.Node) {
	defer close(x.done)
	for _, n := range nodes {
		if x.r.executorOf(n.Stage) == state.Slurm {
			x.slurm = newSlurmExec(x, x.r.opt.Slurm, nodes)
			if x.r.opt.Terminal {
				live := &liveOut{w: x.r.opt.Out}
				x.r.opt.Out, x.slurm.live = live, live // before any goroutine of this run starts
				x.rec.out = live
				defer live.close()
			}
			break
		}
	}
	w := &walk{nodes: nodes, limit: checkers(), visit: x.visit, settled: x.settle}
	_ = w.run(ctx) // the execute visitor reports failures as results, never as errors
	x.rec.flush()
	if x.slurm != nil && ctx.Err() != nil {
		x.slurm.cancelAll() // before returning: the process may exit right after
	}
}

// checkers is how many nodes may evaluate configurations and check the cache at once.
func checkers() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// visit is the execute visitor: it prepares one node and looks it up in the cache while holding a
// walk slot; on a miss it gives the slot back and hands the node to its executor.
func (x *execution) visit(ctx context.Context, node *pipelines.Node, yield func()) (*NodeResult, error) {
	x.mu.Lock()
	exposed, records := x.exposed.stageValues(node), x.recordsOf(node)
	x.mu.Unlock()
	res := &NodeResult{Node: node.Addr, Kind: node.Stage.Kind.Name(), visited: true}
	onSlurm := x.slurm != nil && x.r.runsOnSlurm(node)
	n, err := x.r.prepare(node, exposed, records)
	if err == nil && n.key == "" {
		err = errors.New("its configuration is not fully known after its upstream nodes finished")
	}
	if err != nil {
		res.State, res.Err = state.Failed, err
		x.rec.failedEarly(node, nil, err)
		if onSlurm {
			x.slurm.arrive(ctx, node)
		}
		return res, nil
	}
	res.Key = n.key
	rec, hit, err := x.r.lookup(n)
	if err != nil || hit {
		if onSlurm {
			x.slurm.arrive(ctx, node)
		}
	}
	switch {
	case err != nil:
		res.State, res.Err = state.Failed, err
		x.rec.failedEarly(node, n, err)
		return res, nil
	case hit:
		res.State, res.Outputs = state.Cached, rec.Outputs
		x.rec.cached(n, rec, state.Local)
	default:
		res.Reasons = x.r.reasons(node, n)
		yield()
		if onSlurm {
			rec = x.slurm.execute(ctx, n, res)
		} else if rec, hit = x.local.execute(ctx, n, res, nil); hit {
			res.LogPath = ""
		}
		if rec == nil {
			if res.State == state.Interrupted {
				x.rec.settledWithoutVisit(node, res)
			}
			return res, nil
		}
	}
	if err := x.r.setRef(node.Addr, n.key); err != nil {
		res.State, res.Err = state.Failed, fmt.Errorf("updating the ref of %s: %w", node.Addr, err)
		return res, nil
	}
	res.Children = childrenOf(rec)
	x.mu.Lock()
	x.records[node.Addr] = rec
	x.exposed.set(node, exposedOf(node, n.cfg, rec, x.records))
	x.mu.Unlock()
	return res, nil
}

// settle records a node the walk settled without visiting it, adds the result to the summary and
// prints its line.
func (x *execution) settle(res *NodeResult) {
	if !res.visited {
		if node, ok := x.r.p.Node(res.Node); ok {
			res.Kind = node.Stage.Kind.Name()
			x.rec.settledWithoutVisit(node, res)
		}
	}
	x.report(res)
}

// report adds a result (of a node or a child) to the summary and prints its line.
func (x *execution) report(res *NodeResult) {
	x.mu.Lock()
	x.summary.Nodes = append(x.summary.Nodes, *res)
	x.mu.Unlock()
	x.print(res)
}

// recordsOf returns the records of the finished upstream nodes of node (caller holds x.mu).
func (x *execution) recordsOf(node *pipelines.Node) map[string]*cache.Record {
	records := make(map[string]*cache.Record, len(node.Upstream))
	for _, u := range node.Upstream {
		if r, ok := x.records[u]; ok {
			records[u] = r
		}
	}
	return records
}

// print writes one progress line for a settled node.
func (x *execution) print(res *NodeResult) {
	out := x.r.opt.Out
	switch res.State {
	case state.Cached:
		fmt.Fprintf(out, "  cached   %s\n", res.Node)
	case state.Succeeded:
		fmt.Fprintf(out, "  ran      %s (%s) - %s\n", res.Node, res.Duration.Round(time.Millisecond), strings.Join(res.Reasons, "; "))
	case state.Skipped:
		fmt.Fprintf(out, "  skipped  %s - %s\n", res.Node, strings.Join(res.Reasons, "; "))
	case state.Interrupted:
		fmt.Fprintf(out, "  stopped  %s - %s\n", res.Node, strings.Join(res.Reasons, "; "))
	case state.Failed:
		fmt.Fprintf(out, "  FAILED   %s: %v\n", res.Node, res.Err)
		if res.LogPath != "" {
			fmt.Fprintf(out, "           log: %s\n", res.LogPath)
			if tail, err := slurm.TailFile(res.LogPath, 10); err == nil && tail != "" {
				for _, l := range strings.Split(strings.TrimRight(tail, "\n"), "\n") {
					fmt.Fprintf(out, "           | %s\n", l)
				}
			}
		}
	}
}
