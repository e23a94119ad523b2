package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages"
)

// Exec executes one node on its own, as `pcamflow exec` does inside a Slurm job: the node a nodes
// file entry names, a node of the pipeline or a child node (spec.Child). It rebuilds the node's
// inputs from the cache records of its upstream nodes (found through refs, as the runner or an
// upstream job left them), computes its key, and executes it unless cached, under the key's lock,
// publishing outputs exactly as a local run does. It never opens the tracking store. The returned
// result has State Cached or Succeeded; an error means the node failed (the result, when not nil,
// still names its log).
func (r *Runner) Exec(ctx context.Context, spec ExecSpec, runID string, metrics func(step int, values map[string]float64)) (*NodeResult, error) {
	n, x, err := r.execTarget(spec, runID)
	if err != nil {
		return nil, err
	}
	unlock, err := r.store.LockKey(ctx, n.key)
	if err != nil {
		return nil, fmt.Errorf("waiting for the cache lock of %s: %w", n.addr(), err)
	}
	defer unlock()
	res := &NodeResult{Node: n.addr(), Kind: n.stage.Kind.Name(), Key: n.key, Parent: n.parent}
	var rec *cache.Record
	hit := false
	if !spec.Force { // a node the run forced executes even when cached
		if rec, hit, err = r.lookup(n); err != nil {
			return nil, err
		}
	}
	if hit {
		res.State, res.Outputs, res.LogPath = state.Cached, rec.Outputs, rec.LogPath
		return res, r.setRef(n.addr(), n.key)
	}
	res.LogPath = filepath.Join(r.store.Root(), "logs", runID, logName(n.addr()))
	n.metrics = metrics
	start := time.Now()
	rec, err = r.executeLocal(ctx, n, x, res.LogPath)
	res.Duration = time.Since(start)
	if err != nil {
		return res, err
	}
	res.State, res.Outputs = state.Succeeded, rec.Outputs
	return res, r.setRef(n.addr(), n.key)
}

// execTarget prepares the node of a nodes-file entry, with an execution holding its upstream
// records (for a parent's children).
func (r *Runner) execTarget(spec ExecSpec, runID string) (*prepared, *execution, error) {
	x := r.newExecution(runID)
	close(x.done)
	if spec.Child != nil {
		n, err := r.execChild(spec, x)
		return n, x, err
	}
	target, ok := r.p.Node(spec.Node)
	if !ok {
		return nil, nil, fmt.Errorf("no node %q in pipeline %s", spec.Node, r.p.Name)
	}
	ex, records, err := r.cachedUpstream(target)
	if err != nil {
		return nil, nil, err
	}
	x.exposed, x.records = ex, records
	n, err := r.prepare(target, ex.stageValues(target), records)
	if err != nil {
		return nil, nil, err
	}
	if n.key == "" {
		return nil, nil, fmt.Errorf("%s: configuration not fully known", spec.Node)
	}
	return n, x, nil
}

// execChild rebuilds the child node of a nodes-file entry from its base stage, configuration, seed
// and budget, and checks that it has the key the runner gave it.
func (r *Runner) execChild(spec ExecSpec, x *execution) (*prepared, error) {
	ce := spec.Child
	parent, ok := r.p.Node(ce.Parent)
	if !ok {
		return nil, fmt.Errorf("no node %q (the parent of %s) in pipeline %s", ce.Parent, spec.Node, r.p.Name)
	}
	base, ok := r.p.Stage(ce.Base)
	if !ok || baseNode(base) == nil {
		return nil, fmt.Errorf("no stage %q (the base of %s) in pipeline %s", ce.Base, spec.Node, r.p.Name)
	}
	ex, records, err := r.cachedUpstream(baseNode(base))
	if err != nil {
		return nil, err
	}
	x.exposed, x.records = ex, records
	var cfg ctyjson.SimpleJSONValue
	if err := json.Unmarshal(ce.Config, &cfg); err != nil {
		return nil, fmt.Errorf("the configuration of %s in the nodes file is corrupt: %w", spec.Node, err)
	}
	n, err := r.prepareChild(parent, stages.ChildSpec{Base: ce.Base, Config: cfg.Value, Seed: ce.Seed, Budget: ce.Budget, Label: ce.Label}, records)
	if err != nil {
		return nil, err
	}
	if n.addr() != spec.Node {
		return nil, fmt.Errorf("child %s has key %s on this machine, not the runner's (its inputs differ here?)", spec.Node, n.key[:12])
	}
	return n, nil
}

// cachedUpstream rebuilds the inputs of target from the cache: every upstream node, in execution
// order, must have a record for its current key; its outputs are restored where missing. It
// returns the upstream stages' exposed values and the upstream records. It is a walk with the
// cached visitor: a node that is not cached stops it.
func (r *Runner) cachedUpstream(target *pipelines.Node) (*exposures, map[string]*cache.Record, error) {
	ex := newExposures(r.p)
	records := map[string]*cache.Record{}
	visit := func(_ context.Context, node *pipelines.Node, _ func()) (*NodeResult, error) {
		n, err := r.prepare(node, ex.stageValues(node), records)
		if err != nil {
			return nil, fmt.Errorf("upstream %s: %w", node.Addr, err)
		}
		rec, ok, err := r.store.GetRecord(n.key)
		if n.key == "" || err != nil || !ok {
			return nil, fmt.Errorf("upstream %s is not in the cache with its current inputs; it must run before %s", node.Addr, target.Addr)
		}
		if err := r.restoreAll(node.Addr, rec); err != nil {
			return nil, err
		}
		records[node.Addr] = rec
		ex.set(node, exposedOf(node, n.cfg, rec, records))
		return &NodeResult{Node: node.Addr, State: state.Cached, visited: true}, nil
	}
	w := &walk{nodes: r.closure([]string{target.Addr}, false), limit: 1, visit: visit, settled: func(*NodeResult) {}}
	if err := w.run(context.Background()); err != nil {
		return nil, nil, err
	}
	return ex, records, nil
}

// Configuration returns the evaluated configuration and the prepared task of the node at addr,
// whose upstream nodes must all be cached (after a run). The kind conformance suite
// (stages/kindtest) checks a kind's Expose with them.
func (r *Runner) Configuration(addr string) (cty.Value, *stages.Task, error) {
	target, ok := r.p.Node(addr)
	if !ok {
		return cty.NilVal, nil, fmt.Errorf("no node %q in pipeline %s", addr, r.p.Name)
	}
	ex, records, err := r.cachedUpstream(target)
	if err != nil {
		return cty.NilVal, nil, err
	}
	n, err := r.prepare(target, ex.stageValues(target), records)
	if err != nil {
		return cty.NilVal, nil, err
	}
	return n.cfg, n.task, nil
}
