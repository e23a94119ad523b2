package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/track"
)

// execute runs a prepared node, publishes its outputs and commits its record. It returns nil and
// fills res on failure.
func (sc *scheduler) execute(ctx context.Context, n *prepared, res *NodeResult) *cache.Record {
	s := n.stage
	logPath := filepath.Join(sc.r.store.Root(), "logs", sc.runID, logName(n.node.Addr))
	res.LogPath = logPath
	nr := &track.NodeRun{RunID: sc.runID, Node: n.node.Addr, Kind: s.Kind.Name(), Key: n.key, State: "running",
		Reason: strings.Join(res.Reasons, "; "), Params: paramsJSON(n), Started: time.Now(), Host: hostname(),
		LogPath: logPath, Executor: "local"}
	if sc.r.db != nil {
		if err := sc.r.db.StartNode(nr); err != nil {
			res.State, res.Err = StateFailed, fmt.Errorf("recording %s: %w", s.Addr, err)
			return nil
		}
		db, out := sc.r.db, sc.r.opt.Out
		n.metrics = func(step int, values map[string]float64) {
			if err := db.LogMetrics(nr.ID, step, values); err != nil {
				fmt.Fprintf(out, "warning: recording metrics of %s: %v\n", nr.Node, err)
			}
		}
	}
	fmt.Fprintf(sc.r.opt.Out, "  running  %s\n", n.node.Addr)
	start := time.Now()
	rec, err := sc.r.ExecuteNode(ctx, n, sc.runID, logPath)
	res.Duration = time.Since(start)
	nr.Finished = time.Now()
	if err != nil {
		res.State, res.Err = StateFailed, err
		var ee *stages.ExitError
		if errors.As(err, &ee) {
			res.ExitCode = ee.Code
		} else {
			res.ExitCode = -1
		}
		nr.State, nr.ExitStatus, nr.Error = StateFailed, res.ExitCode, err.Error()
	} else {
		res.State, res.Outputs = StateRan, rec.Outputs
		nr.State = track.NodeSucceeded
		nr.Outputs, _ = json.Marshal(rec.Outputs)
	}
	if sc.r.db != nil {
		if err := sc.r.db.FinishNode(nr); err != nil {
			fmt.Fprintf(sc.r.opt.Out, "warning: recording the end of %s: %v\n", s.Addr, err)
		}
	}
	if err != nil {
		return nil
	}
	return rec
}

// ExecuteNode executes a prepared node with the local executor: it runs the kind in a scratch
// directory with its log at logPath, publishes every output into the object store, materialises
// managed outputs, and commits the node record. Nothing is committed unless every step succeeded, so
// an interrupted execution leaves at most unreferenced objects and temporary files for gc.
func (r *Runner) ExecuteNode(ctx context.Context, n *prepared, runID, logPath string) (*cache.Record, error) {
	s := n.stage
	resume := filepath.Join(r.store.Root(), "resume", n.key)
	started := time.Now()
	env, cleanup, err := r.runKind(ctx, n, logPath, resume)
	defer cleanup()
	if err != nil {
		return nil, err
	}
	rec := &cache.Record{Key: n.key, Node: n.node.Addr, Kind: s.Kind.Name(), Version: s.Kind.Version(),
		Components: n.components, Outputs: map[string]cache.Output{}, RunID: runID, Host: hostname(),
		LogPath: logPath, Started: started, Finished: time.Now()}
	for _, name := range n.task.OutputNames() {
		out, err := r.publish(n.node, name, n.task.Outputs[name], env.OutputPaths[name])
		if err != nil {
			return nil, err
		}
		rec.Outputs[name] = out
	}
	if err := r.store.PutRecord(rec); err != nil {
		return nil, fmt.Errorf("committing the cache record of %s: %w", s.Addr, err)
	}
	_ = os.RemoveAll(resume) // the progress of an interrupted execution is no longer needed
	return rec, nil
}

// runKind executes the node's kind with its log at logPath and resumeDir as its resume folder,
// leaving the outputs at env.OutputPaths (project paths, or a scratch folder that cleanup removes).
func (r *Runner) runKind(ctx context.Context, n *prepared, logPath, resumeDir string) (*stages.Env, func(), error) {
	s := n.stage
	// The CLI loads pipelines with a lazy collector (GOGC 400); stage kinds that stream data or
	// train hold large live heaps, where that would multiply peak memory, so executions use the
	// default unless the user set GOGC.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(100)
	}
	cleanup := func() {}
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, cleanup, fmt.Errorf("creating the log folder: %w", err)
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, cleanup, fmt.Errorf("creating the log of %s: %w", s.Addr, err)
	}
	scratch, err := r.store.TempDir(strings.TrimSuffix(logName(n.node.Addr), ".log"))
	if err != nil {
		logFile.Close()
		return nil, cleanup, fmt.Errorf("creating a scratch folder for %s: %w", s.Addr, err)
	}
	cleanup = func() { logFile.Close(); os.RemoveAll(scratch) }
	env := &stages.Env{Node: n.node.Addr, Config: n.cfg, Task: n.task, ProjectDir: r.project, ScratchDir: scratch,
		OutputPaths: map[string]string{}, Seed: r.seedOf(n.node), Log: logFile, InputDigests: map[string]string{},
		ResumeDir: resumeDir, Metrics: n.metrics, Progress: r.opt.Progress, Terminal: r.opt.Terminal}
	if env.Progress == nil {
		env.Progress = io.Discard
	}
	if n.node.Aggregate {
		env.Parts = partsOf(n.node, n.records)
	}
	for k, v := range n.components {
		if path, ok := strings.CutPrefix(k, "input:"); ok {
			env.InputDigests[path] = v
		}
	}
	if err := os.MkdirAll(filepath.Join(scratch, "out"), 0o755); err != nil {
		return nil, cleanup, fmt.Errorf("creating the output folder of %s: %w", s.Addr, err)
	}
	for name, o := range n.task.Outputs {
		if o.Path != "" {
			env.OutputPaths[name] = r.abs(o.Path)
		} else {
			env.OutputPaths[name] = filepath.Join(scratch, "out", name)
		}
	}
	execute := s.Kind.Execute
	if sk, ok := s.Kind.(stages.Seeded); ok && n.node.Aggregate {
		execute = sk.Aggregate
	}
	if err := execute(ctx, env); err != nil {
		if ctx.Err() != nil {
			return nil, cleanup, fmt.Errorf("interrupted: %w", err)
		}
		return nil, cleanup, err
	}
	return env, cleanup, nil
}

// publish stores one output and, for managed outputs, materialises it under the workspace.
func (r *Runner) publish(node *pipelines.Node, name string, decl stages.Output, produced string) (cache.Output, error) {
	a, err := r.store.Put(produced)
	if err != nil {
		return cache.Output{}, fmt.Errorf("publishing output %q of %s: %w", name, node.Addr, err)
	}
	path := decl.Path
	if path == "" {
		path = filepath.Join(r.store.Root(), "out", strings.TrimSuffix(logName(node.Addr), ".log"), name)
		if err := r.store.Restore(a, path); err != nil {
			return cache.Output{}, fmt.Errorf("materialising output %q of %s: %w", name, node.Addr, err)
		}
	}
	return cache.Output{Artifact: a, Path: path}, nil
}

// paramsJSON is the resolved configuration as JSON, for the run record, with the node's seed and
// instance key added ("seed", "instance") so that seed instances of one stage can be told apart.
func paramsJSON(n *prepared) json.RawMessage {
	b, err := ctyjson.Marshal(n.cfg, n.cfg.Type())
	if err != nil {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return b
	}
	m["seed"], _ = json.Marshal(n.seed)
	if n.node.Key != "" {
		m["instance"], _ = json.Marshal(n.node.Key)
	}
	out, err := json.Marshal(m)
	if err != nil {
		return b
	}
	return out
}

// outputsOf converts a record's outputs for stages.Kind.Expose.
func outputsOf(rec *cache.Record) map[string]stages.Output {
	if rec == nil {
		return nil
	}
	out := map[string]stages.Output{}
	for name, o := range rec.Outputs {
		out[name] = stages.Output{Path: o.Path, Type: o.Type, Digest: o.Digest}
	}
	return out
}

// recordCached queues the run row of a cache hit.
func (sc *scheduler) recordCached(node *pipelines.Node, n *prepared, rec *cache.Record) {
	s := node.Stage
	outs, _ := json.Marshal(rec.Outputs)
	now := time.Now()
	sc.addRow(&track.NodeRun{RunID: sc.runID, Node: node.Addr, Kind: s.Kind.Name(), Key: n.key, State: track.NodeCached,
		Reason: "produced by run " + rec.RunID, Params: paramsJSON(n), Started: now, Finished: now,
		Host: hostname(), LogPath: rec.LogPath, Outputs: outs, Executor: "local"})
}

// addRow queues a one-shot node row (cached, skipped).
func (sc *scheduler) addRow(nr *track.NodeRun) {
	if sc.r.db == nil {
		return
	}
	sc.mu.Lock()
	sc.rows = append(sc.rows, nr)
	sc.mu.Unlock()
}

// flushRows writes the queued rows in one transaction.
func (sc *scheduler) flushRows() {
	sc.mu.Lock()
	rows := sc.rows
	sc.rows = nil
	sc.mu.Unlock()
	if sc.r.db == nil || len(rows) == 0 {
		return
	}
	if err := sc.r.db.InsertNodes(rows); err != nil {
		fmt.Fprintf(sc.r.opt.Out, "warning: recording %d cached/skipped node(s): %v\n", len(rows), err)
	}
}

// recordFailure writes the run row of a node that failed before executing.
func (sc *scheduler) recordFailure(node *pipelines.Node, res *NodeResult, n *prepared) {
	s := node.Stage
	if sc.r.db == nil {
		return
	}
	nr := &track.NodeRun{RunID: sc.runID, Node: node.Addr, Kind: s.Kind.Name(), State: StateFailed, Error: res.Err.Error(),
		Started: time.Now(), Finished: time.Now(), Host: hostname(), ExitStatus: -1, Executor: "local"}
	if n != nil {
		nr.Key, nr.Params = n.key, paramsJSON(n)
	}
	if err := sc.r.db.InsertNode(nr); err != nil {
		fmt.Fprintf(sc.r.opt.Out, "warning: recording %s: %v\n", s.Addr, err)
	}
}

// sortedNames returns the keys of an output map in order.
func sortedNames(m map[string]cache.Output) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// executorOf names where a stage runs by its resources block.
func executorOf(s *pipelines.Stage) string {
	if s.Resources != nil && s.Resources.Executor != "" {
		return s.Resources.Executor
	}
	return "local"
}

// logName turns a node address into a log file name (instance keys may hold quotes and slashes).
func logName(addr string) string {
	return strings.NewReplacer("/", "_", `"`, "", "[", ".", "]", "").Replace(addr) + ".log"
}

// executeSlurm sends a prepared node to Slurm with the other nodes of its stage and waits for it.
// The job commits the cache record and a result file; the node's tracking row is updated from the
// result file, or marked failed with the job's outcome when the job died before writing it.
func (sc *scheduler) executeSlurm(ctx context.Context, n *prepared, res *NodeResult) *cache.Record {
	nr := &track.NodeRun{RunID: sc.runID, Node: n.node.Addr, Kind: n.stage.Kind.Name(), Key: n.key, State: track.NodeRunning,
		Reason: strings.Join(res.Reasons, "; "), Params: paramsJSON(n), Started: time.Now(), Host: hostname(), Executor: "slurm"}
	if sc.r.db != nil {
		if err := sc.r.db.StartNode(nr); err != nil {
			fmt.Fprintf(sc.r.opt.Out, "warning: recording %s: %v\n", n.node.Addr, err)
		}
	}
	start := time.Now()
	rec, err := sc.sl.run(ctx, n, nr.ID)
	res.Duration = time.Since(start)
	if err != nil {
		res.State, res.Err, res.ExitCode = StateFailed, err, -1
		if sc.r.db != nil && nr.ID != 0 {
			if cur, gerr := sc.r.db.GetNode(nr.ID); gerr == nil && cur.State == track.NodeRunning {
				cur.State, cur.Error, cur.Finished, cur.ExitStatus = track.NodeFailed, err.Error(), time.Now(), -1
				_ = sc.r.db.FinishNode(cur)
			}
		}
		return nil
	}
	res.State, res.Outputs, res.LogPath = StateRan, rec.Outputs, rec.LogPath
	return rec
}
