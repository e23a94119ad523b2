package runner

import (
	"context"

	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/pipelines"
)

// The one graph walk of the runner. plan, run, run --detach, verify and exec all walk the selected
// nodes with it; what happens at a node is the walk's visit function (a visitor: plan.go, run.go,
// exec.go), and where a node executes is the visitor's executor (local.go, slurm.go, detach.go).
//
// A walk visits every node once all its upstream nodes have settled, at most limit at once. When a
// node settles in a blocking state (failed, skipped, interrupted) every node downstream of it is
// settled as skipped without being visited. Once ctx is cancelled no further node is visited: the
// nodes that did not start settle as interrupted, "not started (interrupted)".

// notStartedReason is what a node that an interruption kept from starting reports.
const notStartedReason = "not started (interrupted)"

// visitFunc is what a walk does with one node whose upstream nodes all settled without blocking.
// yield gives the walk's slot back while the visit waits for something other than computation (an
// execution slot, a lock, a Slurm job), so that other nodes can be checked meanwhile; calling it
// more than once is harmless. A non-nil error aborts the walk (plan stops at the first node it
// cannot evaluate); the visits in flight finish first.
type visitFunc func(ctx context.Context, node *pipelines.Node, yield func()) (*NodeResult, error)

// walk is one walk over the selected nodes of a pipeline.
type walk struct {
	// nodes are the selected nodes in execution order; edges to unselected nodes are ignored.
	nodes []*pipelines.Node
	// limit bounds the visits in flight. With limit <= 1 the nodes are visited one at a time, in
	// order, in the caller's goroutine.
	limit int
	// visit is called once per node whose upstream all settled without blocking.
	visit visitFunc
	// settled is called once per node, in the order nodes settle, never concurrently (it prints the
	// node's line and records it).
	settled func(res *NodeResult)
}

// graph is the selected part of the DAG: in-degrees and downstream lists by node address.
type graph struct {
	indeg map[string]int
	down  map[string][]string
	node  map[string]*pipelines.Node
}

func newGraph(nodes []*pipelines.Node) *graph {
	g := &graph{indeg: make(map[string]int, len(nodes)), down: map[string][]string{}, node: make(map[string]*pipelines.Node, len(nodes))}
	for _, n := range nodes {
		g.node[n.Addr] = n
	}
	for _, n := range nodes {
		for _, u := range n.Upstream {
			if _, ok := g.node[u]; ok {
				g.indeg[n.Addr]++
				g.down[u] = append(g.down[u], n.Addr)
			}
		}
	}
	return g
}

// run walks the nodes and returns the first error a visit returned (nil when every node settled).
func (w *walk) run(ctx context.Context) error {
	g := newGraph(w.nodes)
	settled := make(map[string]bool, len(w.nodes))
	settle := func(res *NodeResult) int {
		settled[res.Node] = true
		w.settled(res)
		if res.State.Blocks() {
			return 1 + w.skipDownstream(ctx, res, g, settled)
		}
		return 1
	}
	if w.limit <= 1 {
		return w.sequential(ctx, g, settled, settle)
	}
	return w.parallel(ctx, g, settled, settle)
}

// sequential visits the nodes one at a time in execution order.
func (w *walk) sequential(ctx context.Context, g *graph, settled map[string]bool, settle func(*NodeResult) int) error {
	for _, n := range w.nodes {
		if settled[n.Addr] {
			continue
		}
		if ctx.Err() != nil {
			settle(notStarted(n.Addr))
			continue
		}
		res, err := w.visit(ctx, n, func() {})
		if err != nil {
			return err
		}
		settle(res)
	}
	return nil
}

// parallel visits ready nodes concurrently, at most limit at once.
func (w *walk) parallel(ctx context.Context, g *graph, settled map[string]bool, settle func(*NodeResult) int) error {
	slots := make(chan struct{}, w.limit)
	results := make(chan *NodeResult, len(w.nodes))
	var firstErr error
	errs := make(chan error, len(w.nodes))
	start := func(n *pipelines.Node) {
		go func() {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				results <- notStarted(n.Addr)
				return
			}
			if ctx.Err() != nil {
				<-slots
				results <- notStarted(n.Addr)
				return
			}
			held := true
			yield := func() {
				if held {
					held = false
					<-slots
				}
			}
			res, err := w.visit(ctx, n, yield)
			yield()
			if err != nil {
				errs <- err
				res = &NodeResult{Node: n.Addr, State: state.Failed, Err: err}
			}
			results <- res
		}()
	}
	for _, n := range w.nodes {
		if g.indeg[n.Addr] == 0 {
			start(n)
		}
	}
	for remaining := len(w.nodes); remaining > 0; {
		res := <-results
		if settled[res.Node] {
			continue // a late result of a node already settled (cannot happen; defensive)
		}
		remaining -= settle(res)
		if res.State.Blocks() {
			continue
		}
		for _, d := range g.down[res.Node] {
			g.indeg[d]--
			if g.indeg[d] == 0 && !settled[d] {
				start(g.node[d])
			}
		}
	}
	select {
	case firstErr = <-errs:
	default:
	}
	return firstErr
}

// skipDownstream settles every unsettled node downstream of res as skipped (or, once the run is
// interrupted, as not started) and returns how many. Each names the upstream node it waited for.
func (w *walk) skipDownstream(ctx context.Context, res *NodeResult, g *graph, settled map[string]bool) int {
	n := 0
	queue := append([]string{}, g.down[res.Node]...)
	cause := map[string]string{}
	for _, d := range g.down[res.Node] {
		cause[d] = res.Node
	}
	interrupted := res.State == state.Interrupted || ctx.Err() != nil
	for len(queue) > 0 {
		a := queue[0]
		queue = queue[1:]
		if settled[a] {
			continue
		}
		settled[a] = true
		n++
		if interrupted {
			w.settled(notStarted(a))
		} else {
			w.settled(&NodeResult{Node: a, State: state.Skipped, Reasons: []string{"upstream " + cause[a] + " did not succeed"}})
		}
		for _, d := range g.down[a] {
			if _, seen := cause[d]; !seen {
				cause[d] = a
			}
			queue = append(queue, d)
		}
	}
	return n
}

// notStarted is the result of a node that an interruption kept from starting.
func notStarted(addr string) *NodeResult {
	return &NodeResult{Node: addr, State: state.Interrupted, Reasons: []string{notStartedReason}}
}
