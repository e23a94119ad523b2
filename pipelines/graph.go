package pipelines

import (
	"container/heap"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// order computes p.Order, a topological order of the stages that keeps declaration order among
// independent stages. Each dependency cycle is reported edge by edge, each diagnostic pointing at
// the reference that makes the edge.
func (p *Pipeline) order() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, cycle := range p.cycles() {
		diags = append(diags, p.cycleDiagnostics(cycle)...)
	}
	if diags.HasErrors() {
		return diags
	}
	index := map[string]int{}
	indeg := map[string]int{}
	down := map[string][]string{}
	for i, s := range p.Stages {
		index[s.Addr] = i
		indeg[s.Addr] = len(s.Upstream)
		for _, u := range s.Upstream {
			down[u] = append(down[u], s.Addr)
		}
	}
	ready := &addrHeap{index: index}
	for _, s := range p.Stages {
		if indeg[s.Addr] == 0 {
			heap.Push(ready, s.Addr)
		}
	}
	for ready.Len() > 0 {
		a := heap.Pop(ready).(string)
		p.Order = append(p.Order, p.byAddr[a])
		for _, d := range down[a] {
			if indeg[d]--; indeg[d] == 0 {
				heap.Push(ready, d)
			}
		}
	}
	return diags
}

// addrHeap is a min-heap of stage addresses by declaration index.
type addrHeap struct {
	items []string
	index map[string]int
}

func (h *addrHeap) Len() int           { return len(h.items) }
func (h *addrHeap) Less(i, j int) bool { return h.index[h.items[i]] < h.index[h.items[j]] }
func (h *addrHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *addrHeap) Push(x any)         { h.items = append(h.items, x.(string)) }
func (h *addrHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

// cycles returns every strongly connected component that contains a cycle, as a closed path of
// addresses (first == last), found with Tarjan's algorithm.
func (p *Pipeline) cycles() [][]string {
	index, low := map[string]int{}, map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	var sccs [][]string
	next := 0
	var visit func(a string)
	visit = func(a string) {
		index[a], low[a] = next, next
		next++
		stack = append(stack, a)
		onStack[a] = true
		for _, u := range p.byAddr[a].Upstream {
			if _, seen := index[u]; !seen {
				visit(u)
				low[a] = min(low[a], low[u])
			} else if onStack[u] {
				low[a] = min(low[a], index[u])
			}
		}
		if low[a] == index[a] {
			var scc []string
			for {
				top := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[top] = false
				scc = append(scc, top)
				if top == a {
					break
				}
			}
			sccs = append(sccs, scc)
		}
	}
	for _, s := range p.Stages {
		if _, seen := index[s.Addr]; !seen {
			visit(s.Addr)
		}
	}
	var out [][]string
	for _, scc := range sccs {
		if len(scc) == 1 && !p.refersTo(scc[0], scc[0]) {
			continue
		}
		out = append(out, p.cyclePath(scc))
	}
	return out
}

// cyclePath finds a closed path through the members of one strongly connected component, starting
// at the member declared first.
func (p *Pipeline) cyclePath(scc []string) []string {
	member := map[string]bool{}
	for _, a := range scc {
		member[a] = true
	}
	var start string
	for _, s := range p.Stages {
		if member[s.Addr] {
			start = s.Addr
			break
		}
	}
	visited := map[string]bool{}
	var path []string
	var dfs func(a string) bool
	dfs = func(a string) bool {
		path = append(path, a)
		visited[a] = true
		for _, u := range p.byAddr[a].Upstream {
			if u == start {
				path = append(path, u)
				return true
			}
			if member[u] && !visited[u] && dfs(u) {
				return true
			}
		}
		path = path[:len(path)-1]
		return false
	}
	dfs(start)
	return path
}

func (p *Pipeline) refersTo(from, to string) bool {
	for _, u := range p.byAddr[from].Upstream {
		if u == to {
			return true
		}
	}
	return false
}

// cycleDiagnostics returns one diagnostic per edge of the cycle, each at the reference's range.
func (p *Pipeline) cycleDiagnostics(cycle []string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	desc := strings.Join(cycle, " -> ")
	n := len(cycle) - 1
	for i := 0; i < n; i++ {
		from, to := p.byAddr[cycle[i]], cycle[i+1]
		r := from.refRange(to)
		diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Dependency cycle",
			Detail: fmt.Sprintf("%s refers to %s here (edge %d of %d of the cycle %s). A stage cannot depend on its own output; remove one of these references.",
				from.Addr, to, i+1, n, desc),
			Subject: r.Ptr()})
	}
	return diags
}

// refRange returns the range of the first reference from s to target.
func (s *Stage) refRange(target string) hcl.Range {
	for _, r := range append(append([]Ref{}, s.Refs...), s.DependsOn...) {
		if r.Target == target {
			return r.Range
		}
	}
	return s.DeclRange
}
