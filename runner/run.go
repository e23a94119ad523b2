package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/pipelines"
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
	exposed map[string]cty.Value
	records map[string]*cache.Record
	results map[string]*NodeResult
	summary *Summary
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
	sc := &scheduler{r: r, runID: track.NewRunID(start), exposed: map[string]cty.Value{},
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

// loop dispatches ready nodes to at most Jobs workers until every node has a result.
func (sc *scheduler) loop(ctx context.Context, nodes []*pipelines.Stage) {
	pending := map[string]*pipelines.Stage{}
	for _, s := range nodes {
		pending[s.Addr] = s
	}
	done := make(chan *NodeResult)
	running := 0
	for len(pending) > 0 || running > 0 {
		progressed := false
		for _, s := range nodes {
			if _, ok := pending[s.Addr]; !ok || running >= sc.r.opt.Jobs {
				continue
			}
			ready, failedUp := sc.readiness(s)
			if failedUp != "" {
				delete(pending, s.Addr)
				progressed = true
				sc.finish(&NodeResult{Node: s.Addr, State: StateSkipped, Reasons: []string{"upstream " + failedUp + " did not succeed"}})
				continue
			}
			if !ready {
				continue
			}
			delete(pending, s.Addr)
			running++
			go func(s *pipelines.Stage) { done <- sc.node(ctx, s) }(s)
		}
		if running == 0 {
			if len(pending) > 0 && progressed {
				continue // nodes were skipped; loop again to settle the rest
			}
			break // nothing runs and nothing can start: only possible when the selection is not closed upstream
		}
		res := <-done
		running--
		sc.finish(res)
	}
}

// readiness reports whether all upstream nodes of s have finished successfully, or names one that did not.
func (sc *scheduler) readiness(s *pipelines.Stage) (ready bool, failed string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	ready = true
	for _, u := range s.Upstream {
		res, ok := sc.results[u]
		if !ok {
			ready = false
			continue
		}
		if res.State == StateFailed || res.State == StateSkipped {
			return false, u
		}
	}
	return ready, ""
}

// finish records a node's result and prints its line.
func (sc *scheduler) finish(res *NodeResult) {
	sc.mu.Lock()
	sc.results[res.Node] = res
	sc.summary.Nodes = append(sc.summary.Nodes, *res)
	sc.mu.Unlock()
	if res.State == StateSkipped && sc.r.db != nil {
		s, _ := sc.r.p.Stage(res.Node)
		nr := &track.NodeRun{RunID: sc.runID, Node: res.Node, Kind: s.Kind.Name(), State: StateSkipped,
			Reason: strings.Join(res.Reasons, "; "), Started: time.Now(), Finished: time.Now(), Host: hostname(), Executor: "local"}
		if err := sc.r.db.InsertNode(nr); err != nil {
			fmt.Fprintf(sc.r.opt.Out, "warning: recording %s: %v\n", res.Node, err)
		}
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
			for _, l := range logTail(res.LogPath, 10) {
				fmt.Fprintf(out, "           | %s\n", l)
			}
		}
	}
}

// node prepares, looks up or executes one node.
func (sc *scheduler) node(ctx context.Context, s *pipelines.Stage) *NodeResult {
	sc.mu.Lock()
	exposed := copyMap(sc.exposed)
	records := copyMap(sc.records)
	sc.mu.Unlock()
	res := &NodeResult{Node: s.Addr}
	n, err := sc.r.prepare(s, exposed, records)
	if err == nil && n.key == "" {
		err = errors.New("its configuration is not fully known after its upstream nodes finished")
	}
	if err != nil {
		res.State, res.Err = StateFailed, err
		sc.recordFailure(s, res, nil)
		return res
	}
	res.Key = n.key
	unlock, err := sc.r.store.LockKey(ctx, n.key)
	if err != nil {
		res.State, res.Err = StateFailed, fmt.Errorf("waiting for the lock of %s: %w", s.Addr, err)
		return res
	}
	defer unlock()
	rec, hit, err := sc.lookup(n)
	if err != nil {
		res.State, res.Err = StateFailed, err
		sc.recordFailure(s, res, n)
		return res
	}
	if hit {
		res.State, res.Outputs = StateCached, rec.Outputs
		sc.recordCached(s, res, n, rec)
	} else {
		prev := sc.r.previous(s.Addr)
		res.Reasons = why(prev, n.components)
		if sc.r.forced(s.Addr) {
			res.Reasons = []string{"forced with --force"}
		}
		rec = sc.execute(ctx, n, res)
		if rec == nil {
			return res
		}
	}
	if err := sc.r.store.SetRef(sc.r.refName(s.Addr), n.key); err != nil {
		res.State, res.Err = StateFailed, fmt.Errorf("updating the ref of %s: %w", s.Addr, err)
		return res
	}
	sc.mu.Lock()
	sc.records[s.Addr] = rec
	sc.exposed[s.Addr] = exposedOf(s, n.cfg, rec)
	sc.mu.Unlock()
	return res
}

// lookup returns the cached record for n and restores its outputs, unless the node is forced.
func (sc *scheduler) lookup(n *prepared) (*cache.Record, bool, error) {
	if sc.r.forced(n.stage.Addr) {
		return nil, false, nil
	}
	rec, ok, err := sc.r.store.GetRecord(n.key)
	if err != nil || !ok || !sc.r.complete(rec) {
		return nil, false, err
	}
	for _, name := range sortedNames(rec.Outputs) {
		o := rec.Outputs[name]
		dst := sc.r.abs(o.Path)
		if a, err := sc.r.store.Digest(dst); err == nil && a.Digest == o.Digest && a.Type == o.Type {
			continue
		}
		if err := sc.r.store.Restore(o.Artifact, dst); err != nil {
			if errors.Is(err, cache.ErrCorrupt) || errors.Is(err, cache.ErrMissing) {
				return nil, false, fmt.Errorf("restoring %s of %s from the cache: %w (run `pcamflow gc` or --force %s)", o.Path, n.stage.Addr, err, n.stage.Addr)
			}
			return nil, false, fmt.Errorf("restoring %s of %s: %w", o.Path, n.stage.Addr, err)
		}
	}
	return rec, true, nil
}

func copyMap[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
