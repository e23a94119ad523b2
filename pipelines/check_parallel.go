package pipelines

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/stages"
)

// parallelInstances is the number of instances from which a stage's instances are evaluated on
// every core while loading (below it, starting the workers costs more than it saves).
var parallelInstances = 256

// evaluatedInstance is what check computes for one instance of a stage: its configuration and
// diagnostics and, when that had no errors and the node is not an aggregate, the kind's task and
// what the node exposes before it runs.
type evaluatedInstance struct {
	cfg      cty.Value
	diags    hcl.Diagnostics
	prepared bool
	task     *stages.Task
	pdiags   hcl.Diagnostics
	exposed  cty.Value
}

// evalInstances evaluates and prepares the instances of a stage with many of them on every core,
// each into its own slot, so that check then takes them in order exactly as it would have
// computed them one by one (the instances are independent: they see the same exposed values and
// differ only in `each`; EvalNode and a kind's Prepare and Expose are safe for concurrent use, as
// the runner already relies on under -j). It returns nil for a stage with few instances or on one
// core.
func (p *Pipeline) evalInstances(s *Stage, exposed map[string]cty.Value) []evaluatedInstance {
	workers := runtime.GOMAXPROCS(0)
	if len(s.Nodes) < parallelInstances || workers < 2 {
		return nil
	}
	out := make([]evaluatedInstance, len(s.Nodes))
	var next atomic.Int64
	var wg sync.WaitGroup
	const chunk = 64
	for range workers {
		wg.Go(func() {
			ev := p.newNodeEval(s, exposed)
			for {
				start := int(next.Add(chunk)) - chunk
				if start >= len(s.Nodes) {
					return
				}
				for i := start; i < min(start+chunk, len(s.Nodes)); i++ {
					n, e := s.Nodes[i], &out[i]
					e.cfg, e.diags = ev.eval(n)
					if !e.diags.HasErrors() && !n.Aggregate {
						e.task, e.pdiags = s.Kind.Prepare(e.cfg, s.AttrRange)
						e.exposed = s.Kind.Expose(e.cfg, nil)
						e.prepared = true
					}
				}
			}
		})
	}
	wg.Wait()
	return out
}
