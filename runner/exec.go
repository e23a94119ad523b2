package runner

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/pipelines"
)

// ExecNode executes one node on its own, as `pcamflow exec` does inside a Slurm job: it rebuilds
// the node's inputs from the cache records of its upstream nodes (found through refs, as the
// runner or an upstream job left them), computes its key, and executes it unless cached, under the
// key's lock, publishing outputs exactly as a local run does. It never opens the SQLite database.
// The returned result has State StateCached or StateRan; an error means the node failed.
func (r *Runner) ExecNode(ctx context.Context, addr, runID string, metrics func(step int, values map[string]float64)) (*NodeResult, *cache.Record, error) {
	target, ok := r.p.Node(addr)
	if !ok {
		return nil, nil, fmt.Errorf("no node %q in pipeline %s", addr, r.p.Name)
	}
	ex, records, err := r.cachedUpstream(target)
	if err != nil {
		return nil, nil, err
	}
	n, err := r.prepare(target, ex.stageValues(target), records)
	if err != nil {
		return nil, nil, err
	}
	if n.key == "" {
		return nil, nil, fmt.Errorf("%s: configuration not fully known", addr)
	}
	unlock, err := r.store.LockKey(ctx, n.key)
	if err != nil {
		return nil, nil, fmt.Errorf("waiting for the cache lock of %s: %w", addr, err)
	}
	defer unlock()
	res := &NodeResult{Node: addr, Key: n.key}
	if rec, ok, err := r.store.GetRecord(n.key); err == nil && ok && !r.forced(target) && r.complete(rec) {
		if err := r.restoreAll(target, rec); err != nil {
			return nil, nil, err
		}
		res.State, res.Outputs, res.LogPath = StateCached, rec.Outputs, rec.LogPath
		return res, rec, r.setRef(addr, n.key)
	}
	res.LogPath = filepath.Join(r.store.Root(), "logs", runID, logName(addr))
	n.metrics = metrics
	start := time.Now()
	rec, err := r.ExecuteNode(ctx, n, runID, res.LogPath)
	res.Duration = time.Since(start)
	if err != nil {
		return res, nil, err
	}
	res.State, res.Outputs = StateRan, rec.Outputs
	return res, rec, r.setRef(addr, n.key)
}

// cachedUpstream rebuilds the inputs of target from the cache: every upstream node, in execution
// order, must have a record for its current key; its outputs are restored where missing. It
// returns the upstream stages' exposed values and the upstream records.
func (r *Runner) cachedUpstream(target *pipelines.Node) (*exposures, map[string]*cache.Record, error) {
	ex := newExposures(r.p)
	records := map[string]*cache.Record{}
	for _, node := range r.upstreamClosure(target) {
		n, err := r.prepare(node, ex.stageValues(node), records)
		if err != nil {
			return nil, nil, fmt.Errorf("upstream %s: %w", node.Addr, err)
		}
		rec, ok, err := r.store.GetRecord(n.key)
		if n.key == "" || err != nil || !ok {
			return nil, nil, fmt.Errorf("upstream %s is not in the cache with its current inputs; it must run before %s", node.Addr, target.Addr)
		}
		if err := r.restoreAll(node, rec); err != nil {
			return nil, nil, err
		}
		records[node.Addr] = rec
		ex.set(node, exposedOf(node, n.cfg, rec, records))
	}
	return ex, records, nil
}

// upstreamClosure returns every node target depends on, transitively, in execution order.
func (r *Runner) upstreamClosure(target *pipelines.Node) []*pipelines.Node {
	return r.closure([]string{target.Addr}, false)
}

// restoreAll materialises every output of rec whose path is missing or different. A cached object
// that fails verification is quarantined (see quarantine), never used.
func (r *Runner) restoreAll(node *pipelines.Node, rec *cache.Record) error {
	for _, name := range sortedNames(rec.Outputs) {
		o := rec.Outputs[name]
		if r.upToDate(o) {
			continue
		}
		if err := r.store.Restore(o.Artifact, r.abs(o.Path)); err != nil {
			if errors.Is(err, cache.ErrCorrupt) {
				return r.quarantine(node.Addr, o, err)
			}
			return fmt.Errorf("restoring %s of %s: %w", o.Path, node.Addr, err)
		}
	}
	return nil
}

// upToDate reports whether output o is at its path with the recorded content (a stat when the
// stat cache knows the file).
func (r *Runner) upToDate(o cache.Output) bool {
	a, err := r.store.Digest(r.abs(o.Path))
	return err == nil && a.Digest == o.Digest && a.Type == o.Type
}
