package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages"
)

// The local executor: a node executes in this process, in a scratch folder, with its log in the
// workspace; its outputs are published into the object store and its record committed only when
// every step succeeded.

// localExec runs cache misses in this process, at most Options.Jobs at once.
type localExec struct {
	x     *execution
	slots chan struct{}
}

func newLocalExec(x *execution) *localExec {
	return &localExec{x: x, slots: make(chan struct{}, x.r.opt.Jobs)}
}

// execute runs a cache miss: it takes an execution slot (slots, or the parent's slots for a
// child) and the key's lock, looks the key up again (another process may have produced it
// meanwhile), and executes. It returns the record and whether it was found in the cache after
// all; it returns nil and fills res when the node failed or never started.
func (le *localExec) execute(ctx context.Context, n *prepared, res *NodeResult, slots chan struct{}) (*cache.Record, bool) {
	x := le.x
	if slots == nil {
		slots = le.slots
	}
	unlock, err := acquire(ctx, x.r.store, slots, n.key)
	if err != nil {
		if ctx.Err() != nil {
			res.State, res.Reasons = state.Interrupted, []string{notStartedReason}
			return nil, false
		}
		res.State, res.Err = state.Failed, err
		x.rec.failedEarly(n.node, n, err)
		return nil, false
	}
	defer unlock()
	if rec, hit, err := x.r.lookup(n); err != nil {
		res.State, res.Err = state.Failed, err
		x.rec.failedEarly(n.node, n, err)
		return nil, false
	} else if hit {
		res.State, res.Outputs, res.LogPath = state.Cached, rec.Outputs, rec.LogPath
		x.rec.cached(n, rec, state.Local)
		return rec, true
	}
	logPath := filepath.Join(x.r.store.Root(), "logs", x.runID, logName(n.addr()))
	res.LogPath = logPath
	nr, err := x.rec.started(n, state.Local, res.Reasons, logPath)
	if err != nil {
		res.State, res.Err = state.Failed, err
		return nil, false
	}
	n.nodeRunID, n.metrics = nr.ID, x.rec.metrics(nr)
	fmt.Fprintf(x.r.opt.Out, "  running  %s\n", n.addr())
	start := time.Now()
	rec, err := x.r.executeLocal(ctx, n, x, logPath)
	res.Duration = time.Since(start)
	if err != nil {
		res.State, res.Err, res.ExitCode = state.Failed, err, exitCodeOf(err)
		x.rec.finished(nr, nil, err, res.ExitCode)
		return nil, false
	}
	res.State, res.Outputs = state.Succeeded, rec.Outputs
	x.rec.finished(nr, rec, nil, 0)
	return rec, false
}

// acquire takes an execution slot and the key's lock; the returned func releases both.
func acquire(ctx context.Context, store RecordStore, slots chan struct{}, key string) (func(), error) {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if ctx.Err() != nil {
		<-slots
		return nil, ctx.Err()
	}
	unlock, err := store.LockKey(ctx, key)
	if err != nil {
		<-slots
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("waiting for the cache lock: %w", err)
	}
	return func() { unlock(); <-slots }, nil
}

// exitCodeOf is the exit status of a failed execution: the process's for an ExitError, else -1.
func exitCodeOf(err error) int {
	var ee *stages.ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return -1
}

// executeLocal executes a prepared node in this process: it runs the kind in a scratch directory
// with its log at logPath, publishes every output into the object store, materialises managed
// outputs, and commits the node record. Nothing is committed unless every step succeeded, so an
// interrupted execution leaves at most unreferenced objects and temporary files for gc. x is the
// execution the node belongs to (for the children of a parent node); it may be nil.
func (r *Runner) executeLocal(ctx context.Context, n *prepared, x *execution, logPath string) (*cache.Record, error) {
	s := n.stage
	runID := ""
	if x != nil {
		runID = x.runID
	}
	resume := filepath.Join(r.store.Root(), "resume", n.resume())
	started := time.Now()
	env, cleanup, err := r.runKind(ctx, n, x, logPath, resume)
	defer cleanup()
	if err != nil {
		return nil, err
	}
	rec := &cache.Record{Key: n.key, Node: n.addr(), Kind: s.Kind.Name(), Version: s.Kind.Version(),
		Components: n.components, Outputs: map[string]cache.Output{}, RunID: runID, Host: hostname(),
		LogPath: logPath, Started: started, Finished: time.Now()}
	for _, name := range n.task.OutputNames() {
		out, err := r.publish(n, name, n.task.Outputs[name], env.OutputPaths[name])
		if err != nil {
			return nil, err
		}
		rec.Outputs[name] = out
	}
	if n.children != nil {
		rec.Value = n.children.value()
	}
	if err := r.store.PutRecord(rec); err != nil {
		return nil, fmt.Errorf("committing the cache record of %s: %w", n.addr(), err)
	}
	if n.budget == 0 {
		_ = os.RemoveAll(resume) // the progress of an interrupted execution is no longer needed
	}
	return rec, nil
}

// applyProcessOptions sets the process-wide options of executions, once, before the first node
// executes (Options.GCPercent).
func (r *Runner) applyProcessOptions() {
	r.gcOnce.Do(func() {
		if r.opt.GCPercent > 0 {
			debug.SetGCPercent(r.opt.GCPercent)
		}
	})
}

// runKind executes the node's kind with its log at logPath and resumeDir as its resume folder,
// leaving the outputs at env.OutputPaths (project paths, or a scratch folder that cleanup removes).
// x, when set, lets a parent node run children.
func (r *Runner) runKind(ctx context.Context, n *prepared, x *execution, logPath, resumeDir string) (*stages.Env, func(), error) {
	s := n.stage
	r.applyProcessOptions()
	cleanup := func() {}
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, cleanup, fmt.Errorf("creating the log folder: %w", err)
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, cleanup, fmt.Errorf("creating the log of %s: %w", n.addr(), err)
	}
	scratch, err := r.store.TempDir(FileName(n.addr()))
	if err != nil {
		logFile.Close()
		return nil, cleanup, fmt.Errorf("creating a scratch folder for %s: %w", n.addr(), err)
	}
	cleanup = func() { logFile.Close(); os.RemoveAll(scratch) }
	env := &stages.Env{Node: n.addr(), Config: n.cfg, Task: n.task, ProjectDir: r.project, ScratchDir: scratch,
		OutputPaths: map[string]string{}, Seed: n.seed, Log: logFile, InputDigests: map[string]string{},
		ResumeDir: resumeDir, Metrics: n.metrics, Progress: r.opt.Progress, Terminal: r.opt.Terminal,
		Budget: n.budget, Threads: r.opt.Threads}
	if env.Progress == nil {
		env.Progress = io.Discard
	}
	if n.node.Aggregate {
		env.Parts = partsOf(n.node, n.records)
	}
	if _, ok := s.Kind.(stages.Spawner); ok && x != nil {
		n.children = newChildren(x, n)
		env.Children = n.children
	}
	for k, v := range n.components {
		if path, ok := strings.CutPrefix(k, "input:"); ok {
			env.InputDigests[path] = v
		}
	}
	if err := os.MkdirAll(filepath.Join(scratch, "out"), 0o755); err != nil {
		return nil, cleanup, fmt.Errorf("creating the output folder of %s: %w", n.addr(), err)
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
func (r *Runner) publish(n *prepared, name string, decl stages.Output, produced string) (cache.Output, error) {
	a, err := r.store.Put(produced)
	if err != nil {
		return cache.Output{}, fmt.Errorf("publishing output %q of %s: %w", name, n.addr(), err)
	}
	path := decl.Path
	if path == "" {
		path = filepath.Join(r.store.Root(), "out", FileName(n.addr()), name)
		if err := r.store.Restore(a, path); err != nil {
			return cache.Output{}, fmt.Errorf("materialising output %q of %s: %w", name, n.addr(), err)
		}
	}
	return cache.Output{Artifact: a, Path: path}, nil
}

// paramsJSON is the resolved configuration as JSON, for the run record, with the node's seed and
// instance key added ("seed", "instance") so that seed instances of one stage can be told apart,
// and a child's budget and label ("budget", "label").
func paramsJSON(n *prepared) json.RawMessage {
	if n.cfg == cty.NilVal {
		return nil
	}
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
	if n.budget > 0 {
		m["budget"], _ = json.Marshal(n.budget)
	}
	if n.label != "" {
		m["label"], _ = json.Marshal(n.label) // a child's label (ChildSpec.Label), for `runs`
	}
	out, err := json.Marshal(m)
	if err != nil {
		return b
	}
	return out
}

// lookup returns the cached record for n and restores its outputs, unless the node is forced.
func (r *Runner) lookup(n *prepared) (*cache.Record, bool, error) {
	if n.parent == "" && r.forced(n.node) {
		return nil, false, nil
	}
	rec, ok, err := r.store.GetRecord(n.key)
	if err != nil || !ok || !r.complete(rec) {
		return nil, false, err
	}
	if err := r.restoreAll(n.addr(), rec); err != nil {
		return nil, false, err
	}
	return rec, true, nil
}

// restoreAll materialises every output of rec whose path is missing or different, and those of
// the children a parent's record lists (the parent's result points at them, a sweep's champion for
// one). A cached object that fails verification is quarantined (see quarantine), never used.
func (r *Runner) restoreAll(addr string, rec *cache.Record) error {
	for _, c := range childrenOf(rec) {
		crec, ok, err := r.store.GetRecord(c.Key)
		if err != nil || !ok {
			return fmt.Errorf("restoring child %s of %s: its record is missing", c.Node, addr)
		}
		if err := r.restoreAll(c.Node, crec); err != nil {
			return err
		}
	}
	for _, name := range sortedNames(rec.Outputs) {
		o := rec.Outputs[name]
		if r.upToDate(o) {
			continue
		}
		if err := r.store.Restore(o.Artifact, r.abs(o.Path)); err != nil {
			if errors.Is(err, cache.ErrCorrupt) {
				return r.quarantine(addr, o, err)
			}
			return fmt.Errorf("restoring %s of %s: %w", o.Path, addr, err)
		}
	}
	return nil
}

// quarantine handles a cached output whose object does not match its digest: the damaged object is
// removed (so the next run recomputes and republishes it) and the node fails with an error that says
// so. A damaged object is never used as a result.
func (r *Runner) quarantine(addr string, o cache.Output, cause error) error {
	msg := fmt.Sprintf("restoring %s of %s from the cache: %v", o.Path, addr, cause)
	if o.Type == cache.TypeFile {
		if err := os.Remove(r.store.ObjectPath(o.Digest)); err == nil {
			return fmt.Errorf("%s; the damaged object was removed, run again to recompute it", msg)
		}
	}
	return fmt.Errorf("%s; re-execute the stage with --force %s", msg, addr)
}

// upToDate reports whether output o is at its path with the recorded content (a stat when the
// stat cache knows the file).
func (r *Runner) upToDate(o cache.Output) bool {
	a, err := r.store.Digest(r.abs(o.Path))
	return err == nil && a.Digest == o.Digest && a.Type == o.Type
}

// complete reports whether every output object of rec is in the store, and, for a parent, every
// record and output object of the children it lists.
func (r *Runner) complete(rec *cache.Record) bool {
	for _, o := range rec.Outputs {
		ok, err := r.store.Has(o.Artifact)
		if err != nil || !ok {
			return false
		}
	}
	for _, c := range childrenOf(rec) {
		crec, ok, err := r.store.GetRecord(c.Key)
		if err != nil || !ok || !r.complete(crec) {
			return false
		}
	}
	return true
}

// setRef points the node's ref at key, writing only when it changes (a no-op run writes nothing).
func (r *Runner) setRef(addr, key string) error {
	if cur, ok, err := r.store.GetRef(r.refName(addr)); err == nil && ok && cur == key {
		return nil
	}
	return r.store.SetRef(r.refName(addr), key)
}

// updateRefIndex brings the store's ref index up to date after a run (see cache.Store.UpdateRefIndex),
// so that the next plan reads the last runs' key components from one file. A failure costs only
// speed: it is a warning.
func (r *Runner) updateRefIndex() {
	ix, ok := r.store.(interface{ UpdateRefIndex() error })
	if !ok {
		return
	}
	if err := ix.UpdateRefIndex(); err != nil {
		fmt.Fprintf(r.opt.Out, "warning: updating the ref index: %v\n", err)
	}
}

// previous returns the record of the last successful run of addr, or nil.
func (r *Runner) previous(addr string) *cache.Record { return r.previousIn(r.store, addr) }

// previousIn is previous reading the refs and records through lk.
func (r *Runner) previousIn(lk recordLookup, addr string) *cache.Record {
	key, ok, err := lk.GetRef(r.refName(addr))
	if err != nil || !ok {
		return nil
	}
	rec, ok, err := lk.GetRecord(key)
	if err != nil || !ok {
		return nil
	}
	return rec
}

// reasons explains why a node that is not cached will execute.
func (r *Runner) reasons(node *pipelines.Node, n *prepared) []string {
	if n.parent == "" && r.forced(node) {
		return []string{"forced with --force"}
	}
	if _, ok, _ := r.store.GetRecord(n.key); ok {
		return []string{"its cached outputs are missing from the object store"}
	}
	if n.parent != "" {
		return []string{"child of " + n.parent}
	}
	var prev map[string]string
	if rec := r.previous(node.Addr); rec != nil {
		prev = rec.Components
	}
	return why(prev, n.components)
}

// sortedNames returns the keys of an output map in order.
func sortedNames(m map[string]cache.Output) []string { return slices.Sorted(maps.Keys(m)) }
