package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages/builtin"
)

// diamond is a -> (b, c) -> d, plus an independent e.
const diamond = `
command "a" {
  run     = ["true"]
  outputs = ["out/a"]
}
command "b" {
  run    = ["true"]
  inputs = command.a.outputs
}
command "c" {
  run    = ["true"]
  inputs = command.a.outputs
  outputs = ["out/c"]
}
command "d" {
  run        = ["true"]
  inputs     = command.c.outputs
  depends_on = [command.b]
}
command "e" {
  run = ["true"]
}
`

func loadPipeline(t *testing.T, src string) *pipelines.Pipeline {
	t.Helper()
	p, diags := pipelines.Load("p.hcl", []byte(src), builtin.Registry(), pipelines.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return p
}

// recorded collects the results a walk settles, in order.
type recorded struct {
	mu      sync.Mutex
	results []*NodeResult
}

func (r *recorded) settled(res *NodeResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results = append(r.results, res)
}

func (r *recorded) of(addr string) *NodeResult {
	for _, res := range r.results {
		if res.Node == addr {
			return res
		}
	}
	return nil
}

func TestWalkOrderAndLimit(t *testing.T) {
	p := loadPipeline(t, diamond)
	for _, limit := range []int{1, 2, 8} {
		var mu sync.Mutex
		var order []string
		var inFlight, peak atomic.Int32
		rec := &recorded{}
		w := &walk{nodes: p.Nodes, limit: limit, settled: rec.settled,
			visit: func(_ context.Context, n *pipelines.Node, _ func()) (*NodeResult, error) {
				now := inFlight.Add(1)
				for {
					old := peak.Load()
					if now <= old || peak.CompareAndSwap(old, now) {
						break
					}
				}
				time.Sleep(5 * time.Millisecond)
				inFlight.Add(-1)
				mu.Lock()
				order = append(order, n.Addr)
				mu.Unlock()
				return &NodeResult{Node: n.Addr, State: state.Succeeded, visited: true}, nil
			}}
		if err := w.run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(order) != 5 || len(rec.results) != 5 {
			t.Fatalf("limit %d: visited %v, settled %d", limit, order, len(rec.results))
		}
		pos := func(a string) int { return slices.Index(order, a) }
		for _, edge := range [][2]string{{"command.a", "command.b"}, {"command.a", "command.c"}, {"command.b", "command.d"}, {"command.c", "command.d"}} {
			if pos(edge[0]) > pos(edge[1]) {
				t.Errorf("limit %d: %s visited before its upstream %s: %v", limit, edge[1], edge[0], order)
			}
		}
		if int(peak.Load()) > max(limit, 1) {
			t.Errorf("limit %d: %d visits at once", limit, peak.Load())
		}
		if limit == 1 && !slices.Equal(order, []string{"command.a", "command.b", "command.c", "command.d", "command.e"}) {
			t.Errorf("a sequential walk visits in execution order, got %v", order)
		}
	}
}

func TestWalkSkipsDownstreamOfFailure(t *testing.T) {
	p := loadPipeline(t, diamond)
	for _, limit := range []int{1, 4} {
		rec := &recorded{}
		var visited []string
		var mu sync.Mutex
		w := &walk{nodes: p.Nodes, limit: limit, settled: rec.settled,
			visit: func(_ context.Context, n *pipelines.Node, _ func()) (*NodeResult, error) {
				mu.Lock()
				visited = append(visited, n.Addr)
				mu.Unlock()
				st := state.Succeeded
				if n.Addr == "command.a" {
					st = state.Failed
				}
				return &NodeResult{Node: n.Addr, State: st, visited: true}, nil
			}}
		if err := w.run(context.Background()); err != nil {
			t.Fatal(err)
		}
		slices.Sort(visited)
		if !slices.Equal(visited, []string{"command.a", "command.e"}) {
			t.Errorf("limit %d: visited %v, want only a and the independent e", limit, visited)
		}
		for addr, cause := range map[string]string{"command.b": "command.a", "command.c": "command.a", "command.d": "command.b"} {
			res := rec.of(addr)
			if res == nil || res.State != state.Skipped || res.visited || res.Reasons[0] != "upstream "+cause+" did not succeed" {
				t.Errorf("limit %d: %s settled as %+v, want skipped because of %s", limit, addr, res, cause)
			}
		}
	}
}

func TestWalkCancelledNodesAreNotStarted(t *testing.T) {
	p := loadPipeline(t, diamond)
	for _, limit := range []int{1, 4} {
		ctx, cancel := context.WithCancel(context.Background())
		rec := &recorded{}
		w := &walk{nodes: p.Nodes, limit: limit, settled: rec.settled,
			visit: func(_ context.Context, n *pipelines.Node, _ func()) (*NodeResult, error) {
				if n.Addr == "command.a" {
					cancel()
					return &NodeResult{Node: n.Addr, State: state.Failed, Err: errors.New("interrupted"), visited: true}, nil
				}
				return &NodeResult{Node: n.Addr, State: state.Succeeded, visited: true}, nil
			}}
		if err := w.run(ctx); err != nil {
			t.Fatal(err)
		}
		for _, addr := range []string{"command.b", "command.c", "command.d"} {
			res := rec.of(addr)
			if res == nil || res.State != state.Interrupted || res.Reasons[0] != notStartedReason {
				t.Errorf("limit %d: %s settled as %+v, want not started", limit, addr, res)
			}
		}
		if len(rec.results) != 5 {
			t.Errorf("limit %d: %d nodes settled, want all 5", limit, len(rec.results))
		}
		cancel()
	}
}

func TestWalkSequentialErrorAborts(t *testing.T) {
	p := loadPipeline(t, diamond)
	var visits int
	w := &walk{nodes: p.Nodes, limit: 1, settled: func(*NodeResult) {},
		visit: func(_ context.Context, n *pipelines.Node, _ func()) (*NodeResult, error) {
			visits++
			if n.Addr == "command.b" {
				return nil, fmt.Errorf("cannot evaluate %s", n.Addr)
			}
			return &NodeResult{Node: n.Addr, State: state.Cached, visited: true}, nil
		}}
	if err := w.run(context.Background()); err == nil || !strings.Contains(err.Error(), "command.b") || visits != 2 {
		t.Errorf("walk error %v after %d visits, want the error of command.b after 2", err, visits)
	}
	// In a parallel walk an error fails the node and is returned at the end.
	w.limit = 4
	rec := &recorded{}
	w.settled = rec.settled
	if err := w.run(context.Background()); err == nil {
		t.Error("a parallel walk dropped a visit's error")
	}
	if res := rec.of("command.b"); res == nil || res.State != state.Failed {
		t.Errorf("the node whose visit returned an error settled as %+v", res)
	}
}

// TestWalkYieldReleasesSlot has two nodes that wait for a third while holding the walk's only two
// slots: they yield their slots, so the third is visited.
func TestWalkYieldReleasesSlot(t *testing.T) {
	p := loadPipeline(t, `
command "x" {
  run = ["true"]
}
command "y" {
  run = ["true"]
}
command "z" {
  run = ["true"]
}
`)
	release := make(chan struct{})
	w := &walk{nodes: p.Nodes, limit: 2, settled: func(*NodeResult) {},
		visit: func(_ context.Context, n *pipelines.Node, yield func()) (*NodeResult, error) {
			if n.Addr == "command.z" {
				close(release)
			} else {
				yield()
				yield() // twice is harmless
				<-release
			}
			return &NodeResult{Node: n.Addr, State: state.Succeeded, visited: true}, nil
		}}
	done := make(chan error)
	go func() { done <- w.run(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("visits waiting after yield kept their slots")
	}
}
