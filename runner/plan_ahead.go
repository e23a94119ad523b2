package runner

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/pipelines"
)

// Preparing a node (its configuration, task and key) is most of a plan's work per node, and the
// plan walk is sequential. A node that depends on nothing (no upstream node) has a key that no
// other node's outcome can change, so the planner prepares those nodes ahead, on the other cores,
// in walk order, while the walk goes on; the walk takes each one's result when it reaches it (or
// prepares it itself first if no worker has yet). The results are the ones the walk would have
// computed: prepare reads nothing of other nodes for a node without upstream nodes.

// prepareAheadEnabled lets tests compare plans with and without preparing ahead.
var prepareAheadEnabled = true

// aheadSlot is the preparation of one node, done once by whichever goroutine comes first.
type aheadSlot struct {
	once sync.Once
	n    *prepared
	err  error
}

// ahead holds the slots of the nodes prepared ahead.
type ahead struct {
	slots map[*pipelines.Node]*aheadSlot
	stop  atomic.Bool
	done  sync.WaitGroup
}

// preparesAhead reports whether node is prepared ahead: it has no upstream node, its
// configuration is static (it refers to no stage; loading evaluated and prepared it), it is not
// an aggregate (which needs its seed nodes' records) and it spawns no children.
func preparesAhead(node *pipelines.Node) bool {
	_, _, static := node.Static()
	return static && len(node.Upstream) == 0 && !node.Aggregate && !isSpawner(node)
}

// startAhead starts preparing the nodes without upstream nodes on GOMAXPROCS−1 workers (none on a
// single core, or when fewer than 64 such nodes make it not worth it).
func (pl *planner) startAhead(nodes []*pipelines.Node) {
	workers := runtime.GOMAXPROCS(0) - 1
	var todo []*pipelines.Node
	for _, n := range nodes {
		if preparesAhead(n) {
			todo = append(todo, n)
		}
	}
	if !prepareAheadEnabled || workers < 1 || len(todo) < 64 {
		return
	}
	a := &ahead{slots: make(map[*pipelines.Node]*aheadSlot, len(todo))}
	slots := make([]aheadSlot, len(todo))
	for i, n := range todo {
		a.slots[n] = &slots[i]
	}
	var next atomic.Int64
	for range workers {
		a.done.Go(func() {
			for !a.stop.Load() {
				i := int(next.Add(1)) - 1
				if i >= len(todo) {
					return
				}
				pl.prepareSlot(&slots[i], todo[i])
			}
		})
	}
	pl.ahead = a
}

// prepareSlot prepares node into its slot unless that was done already.
func (pl *planner) prepareSlot(s *aheadSlot, node *pipelines.Node) {
	s.once.Do(func() {
		s.n, s.err = pl.r.prepare(node, nil, map[string]*cache.Record{})
	})
}

// preparedAhead returns node's preparation if it is prepared ahead (waiting for a worker that has
// started it, or doing it now); ok is false for the other nodes.
func (pl *planner) preparedAhead(node *pipelines.Node) (n *prepared, err error, ok bool) {
	if pl.ahead == nil {
		return nil, nil, false
	}
	s, ok := pl.ahead.slots[node]
	if !ok {
		return nil, nil, false
	}
	pl.prepareSlot(s, node)
	return s.n, s.err, true
}

// stopAhead stops the workers and waits for them.
func (pl *planner) stopAhead() {
	if pl.ahead != nil {
		pl.ahead.stop.Store(true)
		pl.ahead.done.Wait()
	}
}
