package runner

import (
	"context"
	"fmt"

	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/pipelines"
)

// Node states in plans and runs.
const (
	StateCached  = "cached"  // a record with this key exists; outputs are restored if needed
	StateRun     = "run"     // will execute (plan)
	StateRan     = "ran"     // executed successfully
	StateFailed  = "failed"  // execution or preparation failed
	StateSkipped = "skipped" // not executed because an upstream node failed
)

// PlannedNode is one line of a plan.
type PlannedNode struct {
	Node     string   `json:"node"`
	Kind     string   `json:"kind"`
	State    string   `json:"state"`
	Key      string   `json:"key,omitempty"`
	Reasons  []string `json:"reasons,omitempty"`
	Upstream []string `json:"upstream"`
	Restore  bool     `json:"restore,omitempty"`
	Executor string   `json:"executor"`
}

// Plan says, for every selected node in execution order, whether it is cached or will run, and why.
// It reads only metadata and hashes inputs through the stat cache; it executes nothing.
func (r *Runner) Plan(ctx context.Context) ([]PlannedNode, error) {
	ex := newExposures(r.p)
	records := map[string]*cache.Record{}
	var plan []PlannedNode
	for _, node := range r.selected() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s := node.Stage
		pn := PlannedNode{Node: node.Addr, Kind: s.Kind.Name(), Upstream: node.Upstream, Executor: r.executorOf(s)}
		if pn.Upstream == nil {
			pn.Upstream = []string{}
		}
		n, err := r.prepare(node, ex.stageValues(node), records)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", node.Addr, err)
		}
		switch {
		case n.key == "":
			pn.State = StateRun
			pn.Reasons = []string{"inputs from " + joinAddrs(n.waitingOn) + " will be recomputed first"}
		default:
			pn.Key = n.key
			rec, ok, err := r.store.GetRecord(n.key)
			if err != nil {
				return nil, err
			}
			if ok && !r.forced(node) && r.complete(rec) {
				pn.State = StateCached
				pn.Restore = r.needsRestore(rec)
				records[node.Addr] = rec
				ex.set(node, exposedOf(node, n.cfg, rec, records))
			} else {
				pn.State = StateRun
				prev := r.previous(node.Addr)
				pn.Reasons = why(prev, n.components)
				if r.forced(node) {
					pn.Reasons = []string{"forced with --force"}
				} else if prev != nil && ok {
					pn.Reasons = []string{"cached outputs are missing from the object store"}
				}
			}
		}
		if pn.State == StateRun {
			ex.set(node, s.Kind.Expose(n.cfg, nil))
		}
		plan = append(plan, pn)
	}
	return plan, nil
}

// setRef points the stage's ref at key, writing only when it changes (a no-op run writes nothing).
func (r *Runner) setRef(addr, key string) error {
	if cur, ok, err := r.store.GetRef(r.refName(addr)); err == nil && ok && cur == key {
		return nil
	}
	return r.store.SetRef(r.refName(addr), key)
}

// previous returns the key components of the last successful run of addr, or nil.
func (r *Runner) previous(addr string) map[string]string {
	key, ok, err := r.store.GetRef(r.refName(addr))
	if err != nil || !ok {
		return nil
	}
	rec, ok, err := r.store.GetRecord(key)
	if err != nil || !ok {
		return nil
	}
	return rec.Components
}

// complete reports whether every output object of rec is in the store.
func (r *Runner) complete(rec *cache.Record) bool {
	for _, o := range rec.Outputs {
		ok, err := r.store.Has(o.Artifact)
		if err != nil || !ok {
			return false
		}
	}
	return true
}

// needsRestore reports whether any output of rec is missing or different at its path.
func (r *Runner) needsRestore(rec *cache.Record) bool {
	for _, o := range rec.Outputs {
		if !r.upToDate(o) {
			return true
		}
	}
	return false
}

func joinAddrs(a []string) string {
	if len(a) == 0 {
		return "upstream stages"
	}
	s := a[0]
	for _, x := range a[1:] {
		s += ", " + x
	}
	return s
}

// exposures tracks the exposed value of every finished node and combines them per stage.
type exposures struct {
	p     *pipelines.Pipeline
	nodes map[string]cty.Value // by node address
}

func newExposures(p *pipelines.Pipeline) *exposures {
	return &exposures{p: p, nodes: map[string]cty.Value{}}
}

// set records a node's exposed value.
func (e *exposures) set(n *pipelines.Node, v cty.Value) { e.nodes[n.Addr] = v }

// stageValues returns the values of the stages node refers to, by stage address.
func (e *exposures) stageValues(node *pipelines.Node) map[string]cty.Value {
	out := map[string]cty.Value{}
	for _, ref := range node.Stage.Refs {
		if _, done := out[ref.Target]; done {
			continue
		}
		s, _ := e.p.Stage(ref.Target)
		out[ref.Target] = pipelines.StageValue(s, e.nodes)
	}
	return out
}
