package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/slurm"
	"github.com/pcamflow/pcamflow/track"
)

// NodeResult is the outcome of one node in a run.
type NodeResult struct {
	Node     string
	State    string // StateCached, StateRan, StateFailed or StateSkipped
	Key      string
	Reasons  []string
	Err      error
	ExitCode int
	LogPath  string
	Duration time.Duration
	Outputs  map[string]cache.Output
}

// Summary is the outcome of a run.
type Summary struct {
	RunID    string
	Nodes    []NodeResult // in completion order
	Duration time.Duration
}

// Count returns how many nodes ended in state.
func (s *Summary) Count(state string) int {
	n := 0
	for _, r := range s.Nodes {
		if r.State == state {
			n++
		}
	}
	return n
}

// OK reports whether no node failed or was skipped.
func (s *Summary) OK() bool { return s.Count(StateFailed) == 0 && s.Count(StateSkipped) == 0 }

// scheduler holds the mutable state of one run.
type scheduler struct {
	r       *Runner
	runID   string
	mu      sync.Mutex
	exposed *exposures
	records map[string]*cache.Record
	results map[string]*NodeResult
	summary *Summary
	execSem chan struct{}
	rows    []*track.NodeRun // cached and skipped rows, written in one transaction
	sl      *slurmExec       // nil when no selected node runs on Slurm
	done    chan struct{}    // closed when the run's nodes have all settled
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
	sc := &scheduler{r: r, runID: track.NewRunID(start), exposed: newExposures(r.p),
		records: map[string]*cache.Record{}, results: map[string]*NodeResult{}, summary: &Summary{}}
	sc.summary.RunID = sc.runID
	if r.db != nil {
		run := track.Run{ID: sc.runID, Pipeline: r.p.Name, File: r.p.File, Args: r.opt.Args, Host: hostname(),
			PID: os.Getpid(), Started: start, Status: "running"}
		if err := r.db.BeginRun(run); err != nil {
			return nil, fmt.Errorf("recording the run: %w", err)
		}
	}
	nodes := r.selected()
	fmt.Fprintf(r.opt.Out, "run %s: pipeline %s, %d node(s), -j %d\n", sc.runID, r.p.Name, len(nodes), r.opt.Jobs)
	sc.loop(ctx, nodes)
	sc.summary.Duration = time.Since(start)
	if ctx.Err() == nil && sc.summary.OK() {
		for _, res := range sc.summary.Nodes {
			for _, o := range res.Outputs {
				r.touch(r.abs(o.Path))
			}
		}
		if err := r.writeFingerprint(sc.runID, sc.summary.Nodes); err != nil {
			fmt.Fprintf(r.opt.Out, "warning: saving the no-op fingerprint: %v\n", err)
		}
	}
	if r.db != nil {
		status := "succeeded"
		switch {
		case ctx.Err() != nil:
			status = "interrupted"
		case !sc.summary.OK():
			status = "failed"
		}
		if err := r.db.FinishRun(sc.runID, status, time.Now()); err != nil {
			return sc.summary, fmt.Errorf("recording the end of the run: %w", err)
		}
	}
	if err := r.store.FlushStatCache(); err != nil {
		fmt.Fprintf(r.opt.Out, "warning: saving the stat cache: %v\n", err)
	}
	return sc.summary, nil
}

// loop starts every node whose upstream nodes have succeeded, until every node has a result. Nodes
// check the cache concurrently (bounded by checkers); at most Options.Jobs execute at once.
func (sc *scheduler) loop(ctx context.Context, nodes []*pipelines.Node) {
	selected := map[string]bool{}
	for _, s := range nodes {
		selected[s.Addr] = true
	}
	indeg := map[string]int{}
	down := map[string][]string{}
	for _, s := range nodes {
		for _, u := range s.Upstream {
			if selected[u] {
				indeg[s.Addr]++
				down[u] = append(down[u], s.Addr)
			}
		}
	}
	sc.execSem = make(chan struct{}, sc.r.opt.Jobs)
	sc.done = make(chan struct{})
	defer close(sc.done)
	for _, n := range nodes {
		if sc.r.executorOf(n.Stage) == "slurm" {
			sc.sl = newSlurmExec(sc, sc.r.opt.Slurm, nodes)
			if sc.r.opt.Terminal {
				live := &liveOut{w: sc.r.opt.Out}
				sc.r.opt.Out, sc.sl.live = live, live // before any goroutine of this run starts
				defer live.close()
			}
			break
		}
	}
	checkSem := make(chan struct{}, checkers())
	done := make(chan *NodeResult, len(nodes))
	settled := map[string]bool{}
	start := func(s *pipelines.Node) {
		go func() {
			checkSem <- struct{}{}
			done <- sc.node(ctx, s, checkSem)
		}()
	}
	for _, s := range nodes {
		if indeg[s.Addr] == 0 {
			start(s)
		}
	}
	for remaining := len(nodes); remaining > 0; {
		res := <-done
		remaining--
		settled[res.Node] = true
		sc.finish(res)
		if res.State == StateFailed || res.State == StateSkipped {
			remaining -= sc.skipDownstream(res.Node, down, settled)
			continue
		}
		for _, d := range down[res.Node] {
			indeg[d]--
			if indeg[d] == 0 && !settled[d] {
				st, _ := sc.r.p.Node(d)
				start(st)
			}
		}
	}
	sc.flushRows()
	if sc.sl != nil && ctx.Err() != nil {
		sc.sl.cancelAll() // before returning: the process may exit right after
	}
}

// skipDownstream marks every unsettled node downstream of failed as skipped and returns how many.
func (sc *scheduler) skipDownstream(failed string, down map[string][]string, settled map[string]bool) int {
	n := 0
	queue := append([]string{}, down[failed]...)
	cause := map[string]string{}
	for _, d := range down[failed] {
		cause[d] = failed
	}
	for len(queue) > 0 {
		a := queue[0]
		queue = queue[1:]
		if settled[a] {
			continue
		}
		settled[a] = true
		n++
		sc.finish(&NodeResult{Node: a, State: StateSkipped, Reasons: []string{"upstream " + cause[a] + " did not succeed"}})
		for _, d := range down[a] {
			if _, seen := cause[d]; !seen {
				cause[d] = a
			}
			queue = append(queue, d)
		}
	}
	return n
}

// checkers is how many nodes may evaluate configurations and check the cache at once.
func checkers() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// finish records a node's result and prints its line.
func (sc *scheduler) finish(res *NodeResult) {
	sc.mu.Lock()
	sc.results[res.Node] = res
	sc.summary.Nodes = append(sc.summary.Nodes, *res)
	sc.mu.Unlock()
	if res.State == StateSkipped {
		n, _ := sc.r.p.Node(res.Node)
		sc.addRow(&track.NodeRun{RunID: sc.runID, Node: res.Node, Kind: n.Stage.Kind.Name(), State: track.NodeSkipped,
			Reason: strings.Join(res.Reasons, "; "), Started: time.Now(), Finished: time.Now(), Host: hostname(), Executor: "local"})
	}
	sc.print(res)
}

// print writes one progress line for a finished node.
func (sc *scheduler) print(res *NodeResult) {
	out := sc.r.opt.Out
	switch res.State {
	case StateCached:
		fmt.Fprintf(out, "  cached   %s\n", res.Node)
	case StateRan:
		fmt.Fprintf(out, "  ran      %s (%s) - %s\n", res.Node, res.Duration.Round(time.Millisecond), strings.Join(res.Reasons, "; "))
	case StateSkipped:
		fmt.Fprintf(out, "  skipped  %s - %s\n", res.Node, strings.Join(res.Reasons, "; "))
	case StateFailed:
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

// node prepares one node and looks it up in the cache while holding a checker slot (released
// through checkSem); on a miss it waits for an execution slot and the key's lock, looks again (another
// process may have produced it meanwhile), and executes.
func (sc *scheduler) node(ctx context.Context, node *pipelines.Node, checkSem chan struct{}) *NodeResult {
	released := false
	release := func() {
		if !released {
			released = true
			<-checkSem
		}
	}
	defer release()
	sc.mu.Lock()
	exposed, records := sc.exposed.stageValues(node), sc.recordsOf(node)
	sc.mu.Unlock()
	res := &NodeResult{Node: node.Addr}
	onSlurm := sc.sl != nil && sc.r.executorOf(node.Stage) == "slurm"
	n, err := sc.r.prepare(node, exposed, records)
	if err == nil && n.key == "" {
		err = errors.New("its configuration is not fully known after its upstream nodes finished")
	}
	if err != nil {
		res.State, res.Err = StateFailed, err
		sc.recordFailure(node, res, nil)
		if onSlurm {
			sc.sl.arrive(ctx, node.Stage)
		}
		return res
	}
	res.Key = n.key
	rec, hit, err := sc.lookup(n)
	if !hit && err == nil && !onSlurm {
		release()
		var unlock func()
		if unlock, err = sc.acquire(ctx, n.key); err == nil {
			defer unlock()
			rec, hit, err = sc.lookup(n)
		}
	}
	if onSlurm && (hit || err != nil) {
		sc.sl.arrive(ctx, node.Stage)
	}
	if !hit && err == nil && onSlurm {
		release()
	}
	if err != nil {
		res.State, res.Err = StateFailed, err
		sc.recordFailure(node, res, n)
		return res
	}
	if hit {
		res.State, res.Outputs = StateCached, rec.Outputs
		sc.recordCached(node, n, rec)
	} else {
		res.Reasons = why(sc.r.previous(node.Addr), n.components)
		if _, ok, _ := sc.r.store.GetRecord(n.key); ok {
			res.Reasons = []string{"its cached outputs are missing from the object store"}
		}
		if sc.r.forced(node) {
			res.Reasons = []string{"forced with --force"}
		}
		if onSlurm {
			rec = sc.executeSlurm(ctx, n, res)
		} else {
			rec = sc.execute(ctx, n, res)
		}
		if rec == nil {
			return res
		}
	}
	if err := sc.r.setRef(node.Addr, n.key); err != nil {
		res.State, res.Err = StateFailed, fmt.Errorf("updating the ref of %s: %w", node.Addr, err)
		return res
	}
	sc.mu.Lock()
	sc.records[node.Addr] = rec
	sc.exposed.set(node, exposedOf(node, n.cfg, rec, sc.records))
	sc.mu.Unlock()
	return res
}

// acquire takes an execution slot and the key's lock; the returned func releases both.
func (sc *scheduler) acquire(ctx context.Context, key string) (func(), error) {
	select {
	case sc.execSem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	unlock, err := sc.r.store.LockKey(ctx, key)
	if err != nil {
		<-sc.execSem
		return nil, fmt.Errorf("waiting for the cache lock: %w", err)
	}
	return func() { unlock(); <-sc.execSem }, nil
}

// recordsOf returns the records of the finished upstream nodes of node (caller holds sc.mu).
func (sc *scheduler) recordsOf(node *pipelines.Node) map[string]*cache.Record {
	records := make(map[string]*cache.Record, len(node.Upstream))
	for _, u := range node.Upstream {
		if r, ok := sc.records[u]; ok {
			records[u] = r
		}
	}
	return records
}

// lookup returns the cached record for n and restores its outputs, unless the node is forced.
func (sc *scheduler) lookup(n *prepared) (*cache.Record, bool, error) {
	if sc.r.forced(n.node) {
		return nil, false, nil
	}
	rec, ok, err := sc.r.store.GetRecord(n.key)
	if err != nil || !ok || !sc.r.complete(rec) {
		return nil, false, err
	}
	if err := sc.r.restoreAll(n.node, rec); err != nil {
		return nil, false, err
	}
	return rec, true, nil
}

// quarantine handles a cached output whose object does not match its digest: the damaged object is
// removed (so the next run recomputes and republishes it) and the node fails with an error that says
// so. A damaged object is never used as a result.
func (r *Runner) quarantine(addr string, o cache.Output, cause error) error {
	msg := fmt.Sprintf("restoring %s of %s from the cache: %v", o.Path, addr, cause)
	if o.Type == "file" {
		if err := os.Remove(r.store.ObjectPath(o.Digest)); err == nil {
			return fmt.Errorf("%s; the damaged object was removed, run again to recompute it", msg)
		}
	}
	return fmt.Errorf("%s; re-execute the stage with --force %s", msg, addr)
}
