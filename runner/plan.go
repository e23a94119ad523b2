package runner

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/pipelines"
)

// PlannedNode is one line of a plan.
type PlannedNode struct {
	Node     string         `json:"node"`
	Kind     string         `json:"kind"`
	State    state.Node     `json:"state"`
	Key      string         `json:"key,omitempty"`
	Reasons  []string       `json:"reasons,omitempty"`
	Upstream []string       `json:"upstream"`
	Restore  bool           `json:"restore,omitempty"`
	Executor state.Executor `json:"executor"`
	// Parent is set on the children of a dynamic node (DESIGN.md §7), listed after their parent as
	// its last execution recorded them: a plan cannot know the children of a parent that will run.
	Parent string `json:"parent,omitempty"`
}

// planner is the plan visitor: it prepares every node in execution order and says whether its key
// is cached, exposing planned nodes' outputs as unknown to their downstream.
type planner struct {
	r       *Runner
	exposed *exposures
	records map[string]*cache.Record
	plan    []PlannedNode
	// asChecked marks the planned nodes that expose the value loading computed for them (see
	// pipelines.Node.Checked); stageChecked memoises, per stage, whether all its nodes do.
	asChecked    map[string]bool
	stageChecked map[string]bool
	// lookup answers the planner's record and ref look-ups: the store's listing when it has one
	// (one directory listing instead of one failing open per node in a fresh workspace).
	lookup recordLookup
	// ahead prepares the nodes without upstream nodes on the other cores (plan_ahead.go).
	ahead *ahead
	// pending are the planned nodes whose reasons need their previous record, one slot per
	// selected node, of which the first npending are used; whyQueue hands their indices to the
	// why workers (whyDone).
	pending  []pendingWhy
	npending int
	whyQueue chan int
	whyDone  sync.WaitGroup
}

// recordLookup is the part of the record store a plan reads.
type recordLookup interface {
	GetRecord(key string) (*cache.Record, bool, error)
	GetRef(name string) (string, bool, error)
}

// lookupFor returns the store's listing when it offers one, else the store itself.
func lookupFor(s RecordStore) recordLookup {
	if l, ok := s.(interface{ Listing() *cache.Listing }); ok {
		return l.Listing()
	}
	return s
}

// newPlanner returns the planner of a plan of about n nodes.
func newPlanner(r *Runner, n int) *planner {
	return &planner{r: r, exposed: newExposures(r.p), records: map[string]*cache.Record{}, plan: make([]PlannedNode, 0, n),
		asChecked: make(map[string]bool, n), stageChecked: map[string]bool{}, lookup: lookupFor(r.store),
		pending: make([]pendingWhy, n)}
}

// reuseChecked enables the reuse of loading's evaluation (tests compare plans with and without).
var reuseChecked = true

// upstreamAsChecked reports whether every node of every stage node refers to was planned and
// exposes the value loading computed for it. Each stage is examined once (its nodes were all
// visited before any node that refers to it).
func (pl *planner) upstreamAsChecked(node *pipelines.Node) bool {
	for _, ref := range node.Stage.Refs {
		ok, seen := pl.stageChecked[ref.Target]
		if !seen {
			target, _ := pl.r.p.Stage(ref.Target)
			ok = len(target.Nodes) > 0
			for _, tn := range target.Nodes {
				if !pl.asChecked[tn.Addr] {
					ok = false
					break
				}
			}
			pl.stageChecked[ref.Target] = ok
		}
		if !ok {
			return false
		}
	}
	return true
}

// Plan says, for every selected node in execution order, whether it is cached or will run, and why.
// It reads only metadata and hashes inputs through the stat cache; it executes nothing.
func (r *Runner) Plan(ctx context.Context) ([]PlannedNode, error) {
	nodes := r.selected()
	pl := newPlanner(r, len(nodes))
	r.mu.Lock()
	r.scripts = map[string]bool{}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.scripts = nil
		r.mu.Unlock()
	}()
	w := &walk{nodes: nodes, limit: 1, visit: pl.visit, settled: func(*NodeResult) {}}
	if l, ok := pl.lookup.(*cache.Listing); ok {
		l.PrefetchRefIndex()
	}
	pl.startWhyWorkers()
	pl.startAhead(nodes)
	err := w.run(ctx)
	pl.stopAhead()
	pl.finishPending()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return pl.plan, nil
}

// pendingWhy is a planned node whose reason needs its previous record: the plan line at, the
// node's address and key components, and whether a record of its key exists (with outputs
// missing from the object store).
type pendingWhy struct {
	at           int
	addr         string
	components   map[string]string
	cachedRecord bool
	reasons      []string // filled in by a why worker
}

// whyRerun says why a node that is not forced and not cached will run, given its previous
// record (nil if none), its key components and whether a record of its key exists.
func whyRerun(prev *cache.Record, components map[string]string, cachedRecord bool) []string {
	if prev == nil {
		return whyAfter(nil, false, components, cachedRecord)
	}
	return whyAfter(cache.SortedComponents(prev.Components), true, components, cachedRecord)
}

// whyAfter is whyRerun given the key components of the node's last run in name order (ran is
// false when it has none).
func whyAfter(prev []cache.Component, ran bool, components map[string]string, cachedRecord bool) []string {
	if !ran {
		return why(nil, components)
	}
	if cachedRecord {
		return []string{"cached outputs are missing from the object store"}
	}
	return whySorted(prev, components)
}

// mayHavePrevious reports whether addr may have a previous record: false only when the listing
// of the refs shows it has none (then its reason costs no I/O).
func (pl *planner) mayHavePrevious(addr string) bool {
	l, ok := pl.lookup.(*cache.Listing)
	return !ok || l.MayHaveRef(pl.r.refName(addr))
}

// lastComponents returns the key components of addr's last run in name order (ran is false
// when it has none), from the store's ref index when it is current: one file read for the whole
// plan instead of a ref and a record per node.
func (pl *planner) lastComponents(addr string) (comps []cache.Component, ran bool) {
	l, ok := pl.lookup.(*cache.Listing)
	if !ok {
		if rec := pl.r.previousIn(pl.lookup, addr); rec != nil {
			return cache.SortedComponents(rec.Components), true
		}
		return nil, false
	}
	comps, ok, err := l.LastComponents(pl.r.refName(addr))
	return comps, ok && err == nil
}

// whyPending says why a pending node will run.
func (pl *planner) whyPending(addr string, components map[string]string, cachedRecord bool) []string {
	prev, ran := pl.lastComponents(addr)
	return whyAfter(prev, ran, components, cachedRecord)
}

// whyWorkers starts the goroutines that fill in the reasons of pending nodes while the walk goes
// on (reading previous records is file I/O, and the walk is sequential): one per core, so that
// the files are read on every core when there is no current ref index. Each pending node's
// reason is computed alone, so it is the one a sequential reading gives; the reasons are written
// into the plan by finishPending, after the walk.
func (pl *planner) startWhyWorkers() {
	pl.whyQueue = make(chan int, 1024)
	for range runtime.GOMAXPROCS(0) {
		pl.whyDone.Go(func() {
			for i := range pl.whyQueue {
				p := &pl.pending[i]
				p.reasons = pl.whyPending(p.addr, p.components, p.cachedRecord)
			}
		})
	}
}

// addPending queues a planned node whose reason needs its previous record.
func (pl *planner) addPending(p pendingWhy) {
	pl.pending[pl.npending] = p
	pl.whyQueue <- pl.npending
	pl.npending++
}

// finishPending waits for the reasons of the pending nodes and puts them into the plan.
func (pl *planner) finishPending() {
	close(pl.whyQueue)
	pl.whyDone.Wait()
	for _, p := range pl.pending[:pl.npending] {
		pl.plan[p.at].Reasons = p.reasons
	}
}

// visit plans one node.
func (pl *planner) visit(_ context.Context, node *pipelines.Node, _ func()) (*NodeResult, error) {
	r := pl.r
	s := node.Stage
	pn := PlannedNode{Node: node.Addr, Kind: s.Kind.Name(), Upstream: node.Upstream, Executor: r.executorOf(s)}
	if pn.Upstream == nil {
		pn.Upstream = []string{}
	}
	var n *prepared
	var err error
	checkedCfg, checkedTask, checkedExposed, checked := node.Checked()
	if an, aerr, ok := pl.preparedAhead(node); ok {
		n, err, checked = an, aerr, false
	} else if checked && reuseChecked && pl.upstreamAsChecked(node) {
		// Every node this one refers to will run and exposes what it exposed while loading: the
		// configuration loading evaluated is this node's (a join over 100,000 nodes is not
		// evaluated twice).
		n, err = r.prepareFrom(node, checkedCfg, checkedTask, true, nil, pl.records)
	} else {
		checked = false
		n, err = r.prepare(node, pl.exposed.stageValues(node), pl.records)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", node.Addr, err)
	}
	var rec, prev *cache.Record
	switch {
	case n.key == "":
		pn.State = state.Planned
		pn.Reasons = []string{waitingReason(n.waitingOn)}
		if isSpawner(node) {
			prev = r.previousIn(pl.lookup, node.Addr)
		}
	default:
		pn.Key = n.key
		var ok bool
		rec, ok, err = pl.lookup.GetRecord(n.key)
		if err != nil {
			return nil, err
		}
		if ok && !r.forced(node) && r.complete(rec) {
			pn.State = state.Cached
			pn.Restore = r.needsRestore(rec)
			pl.records[node.Addr] = rec
			pl.exposed.set(node, exposedOf(node, n.cfg, rec, pl.records))
		} else {
			pn.State = state.Planned
			switch {
			case r.forced(node):
				pn.Reasons = []string{"forced with --force"}
				if isSpawner(node) {
					prev = r.previousIn(pl.lookup, node.Addr)
				}
			case !isSpawner(node) && pl.mayHavePrevious(node.Addr):
				// Reading the previous record is file I/O: done by the why workers meanwhile.
				if pl.whyQueue != nil {
					pl.addPending(pendingWhy{at: len(pl.plan), addr: node.Addr, components: n.components, cachedRecord: ok})
				} else { // a planner without why workers (tests)
					pn.Reasons = pl.whyPending(node.Addr, n.components, ok)
				}
			default:
				prev = r.previousIn(pl.lookup, node.Addr)
				pn.Reasons = whyRerun(prev, n.components, ok)
			}
			rec = nil
		}
	}
	if pn.State == state.Planned {
		v, static := node.StaticExposed()
		switch {
		case static && !node.Aggregate:
			pl.exposed.set(node, v)
			pl.asChecked[node.Addr] = true
		case checked:
			pl.exposed.set(node, checkedExposed)
			pl.asChecked[node.Addr] = true
		default:
			pl.exposed.set(node, s.Kind.Expose(n.cfg, nil))
		}
	}
	pl.plan = append(pl.plan, pn)
	if isSpawner(node) {
		pl.children(node, pn, rec, prev)
	}
	return &NodeResult{Node: node.Addr, State: pn.State, visited: true}, nil
}

// children lists the last known children of a parent node after it: those its cached record names
// (cached), else those its previous execution ran.
func (pl *planner) children(node *pipelines.Node, parent PlannedNode, rec, prev *cache.Record) {
	known, why := childrenOf(rec), "child of "+node.Addr
	if rec == nil {
		known, why = childrenOf(prev), "child of "+node.Addr+" in its last run; the children of this run are known once it runs"
	}
	for _, c := range known {
		pn := PlannedNode{Node: c.Node, Kind: c.Kind, Key: c.Key, Upstream: []string{node.Addr}, Executor: parent.Executor,
			Parent: node.Addr, State: state.Planned, Reasons: []string{why}}
		if cr, ok, err := pl.lookup.GetRecord(c.Key); err == nil && ok && pl.r.complete(cr) {
			pn.State, pn.Reasons = state.Cached, nil
			if rec == nil {
				pn.Reasons = []string{why}
			}
		}
		pl.plan = append(pl.plan, pn)
	}
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

// waitingReason says which upstream nodes will run before a node's key is known: each of them
// when they are few, else how many with the first few named.
func waitingReason(a []string) string {
	switch {
	case len(a) == 0:
		return "inputs from upstream stages will be recomputed first"
	case len(a) <= maxListed:
		return "inputs from " + strings.Join(a, ", ") + " will be recomputed first"
	}
	return "inputs from " + thousands(len(a)) + " upstream nodes will be recomputed first (" + listSome(a[:listedInSummary], len(a)) + ")"
}

// exposures tracks the exposed value of every finished node and combines them per stage.
type exposures struct {
	p     *pipelines.Pipeline
	nodes map[string]cty.Value // by node address
}

func newExposures(p *pipelines.Pipeline) *exposures {
	return &exposures{p: p, nodes: make(map[string]cty.Value, len(p.Nodes))}
}

// set records a node's exposed value.
func (e *exposures) set(n *pipelines.Node, v cty.Value) { e.nodes[n.Addr] = v }

// stageValues returns the values of the stages node refers to, by stage address.
func (e *exposures) stageValues(node *pipelines.Node) map[string]cty.Value {
	if len(node.Stage.Refs) == 0 {
		return nil
	}
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
