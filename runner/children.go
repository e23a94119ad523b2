package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages"
)

// The runner's side of dynamic nodes (DESIGN.md §7): the stages.Children a parent node (a node of
// a stages.Spawner kind, such as the sweep) receives in Env.Children. A child is an ordinary node:
// it is prepared, keyed, looked up, locked, executed, restored and recorded by the same code as a
// node of the pipeline (prepareChild, lookup, the local and Slurm executors, the recorder). Its key
// is the key a node of its base stage with the child's configuration and seed would have, so equal
// children of two parents, or a child equal to a hand-written node, are one cache entry.

// ChildRef names one child in its parent's cache record, so that plan can list the children of a
// parent it does not execute.
type ChildRef struct {
	Node  string `json:"node"`
	Kind  string `json:"kind"`
	Key   string `json:"key"`
	Label string `json:"label,omitempty"`
}

// parentValue is the Value of a parent node's cache record.
type parentValue struct {
	Children []ChildRef `json:"children"`
}

// childrenOf returns the children a parent's record lists (nil for other records).
func childrenOf(rec *cache.Record) []ChildRef {
	if rec == nil || len(rec.Value) == 0 {
		return nil
	}
	var v parentValue
	if json.Unmarshal(rec.Value, &v) != nil {
		return nil
	}
	return v.Children
}

// isSpawner reports whether a node's kind runs children.
func isSpawner(n *pipelines.Node) bool {
	_, ok := n.Stage.Kind.(stages.Spawner)
	return ok
}

// ChildAddr is the address of the child with the given key of the node at parent:
// PARENT.trial["<first 8 hex digits of the key>"].
func ChildAddr(parent, key string) string {
	return parent + ".trial[" + strconv.Quote(key[:min(8, len(key))]) + "]"
}

// children implements stages.Children (and stages.ChildBases) for one executing parent node.
type children struct {
	x      *execution
	parent *prepared
	where  state.Executor
	slots  chan struct{} // local execution slots of the parent's children
	bound  int

	mu    sync.Mutex
	known []ChildRef
	seen  map[string]bool
	rows  map[string]int64 // child address => its node run in this run
	calls int              // Run calls so far (names the Slurm arrays)
}

var (
	_ stages.Children       = (*children)(nil)
	_ stages.ChildBases     = (*children)(nil)
	_ stages.ChildReferents = (*children)(nil)
	_ stages.ChildWaves     = (*children)(nil)
)

func newChildren(x *execution, parent *prepared) *children {
	bound := x.r.opt.Jobs
	if sp, ok := parent.stage.Kind.(stages.Spawner); ok {
		if b := sp.ChildParallelism(parent.cfg); b > 0 {
			bound = b
		}
	}
	where := x.r.executorOf(parent.stage)
	if where == state.Slurm && x.slurm == nil {
		where = state.Local // exec of a parent by hand: no tracker of Slurm jobs
	}
	return &children{x: x, parent: parent, where: where, slots: make(chan struct{}, bound), bound: bound,
		seen: map[string]bool{}, rows: map[string]int64{}}
}

// value is the parent's record Value: the children it ran.
func (c *children) value() json.RawMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.known) == 0 {
		return nil
	}
	b, _ := json.Marshal(parentValue{Children: c.known})
	return b
}

// remember adds a child to the parent's list.
func (c *children) remember(n *prepared, nodeRunID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if nodeRunID != 0 {
		c.rows[n.addr()] = nodeRunID
	}
	if c.seen[n.key] {
		return
	}
	c.seen[n.key] = true
	c.known = append(c.known, ChildRef{Node: n.addr(), Kind: n.stage.Kind.Name(), Key: n.key, Label: n.label})
}

// Run implements stages.Children.
func (c *children) Run(ctx context.Context, batch []stages.ChildSpec) ([]stages.ChildOutcome, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}
	x := c.x
	x.mu.Lock()
	records := maps.Clone(x.records)
	x.mu.Unlock()
	outs := make([]stages.ChildOutcome, len(batch))
	preps := make([]*prepared, len(batch))
	results := make([]*NodeResult, len(batch))
	first := map[string]int{}
	var misses []int
	for i, spec := range batch {
		n, err := x.r.prepareChild(c.parent.node, spec, records)
		if err != nil {
			outs[i] = stages.ChildOutcome{State: stages.ChildFailed, Err: err}
			fmt.Fprintf(x.r.opt.Out, "  FAILED   child %q of %s: %v\n", spec.Label, c.parent.addr(), err)
			continue
		}
		preps[i] = n
		if _, dup := first[n.key]; dup {
			continue
		}
		first[n.key] = i
		res := &NodeResult{Node: n.addr(), Kind: n.stage.Kind.Name(), Key: n.key, Parent: c.parent.addr(), visited: true}
		results[i] = res
		rec, hit, err := x.r.lookup(n)
		switch {
		case err != nil:
			res.State, res.Err = state.Failed, err
			x.rec.failedEarly(n.node, n, err)
		case hit:
			res.State, res.Outputs = state.Cached, rec.Outputs
			c.settled(n, res, rec, x.rec.cachedNow(n, rec, c.where))
		default:
			res.Reasons = []string{"child of " + c.parent.addr()}
			misses = append(misses, i)
		}
	}
	c.execute(ctx, preps, results, misses)
	for i, n := range preps {
		if n == nil {
			continue
		}
		res := results[first[n.key]]
		o := stages.ChildOutcome{Addr: n.addr(), Key: n.key, State: res.State.Label(), Err: res.Err, LogPath: res.LogPath}
		if res.State == state.Cached || res.State == state.Succeeded {
			o.Outputs = outputsOf(&cache.Record{Outputs: res.Outputs})
		} else if o.Err == nil {
			o.State, o.Err = stages.ChildFailed, errors.New(firstOr(res.Reasons, "the child did not run"))
		}
		outs[i] = o
	}
	if err := ctx.Err(); err != nil {
		return outs, fmt.Errorf("interrupted: %w", err)
	}
	return outs, nil
}

// execute runs the misses of one Run call with the parent's executor and reports each.
func (c *children) execute(ctx context.Context, preps []*prepared, results []*NodeResult, misses []int) {
	if len(misses) == 0 {
		return
	}
	if c.where == state.Slurm {
		ns := make([]*prepared, len(misses))
		rs := make([]*NodeResult, len(misses))
		for j, i := range misses {
			ns[j], rs[j] = preps[i], results[i]
		}
		c.mu.Lock()
		c.calls++
		call := c.calls
		c.mu.Unlock()
		recs := c.x.slurm.runChildren(ctx, c, call, ns, rs)
		for j, n := range ns {
			c.settled(n, rs[j], recs[j], n.nodeRunID)
		}
		return
	}
	var wg sync.WaitGroup
	for _, i := range misses {
		wg.Add(1)
		go func(n *prepared, res *NodeResult) {
			defer wg.Done()
			rec, hit := c.x.local.execute(ctx, n, res, c.slots)
			if hit {
				res.LogPath = ""
			}
			c.settled(n, res, rec, n.nodeRunID)
		}(preps[i], results[i])
	}
	wg.Wait()
}

// settled finishes a child: its ref (so gc keeps it) and the parent's list for a child with a
// record, and its line in the run's output.
func (c *children) settled(n *prepared, res *NodeResult, rec *cache.Record, nodeRunID int64) {
	if rec != nil {
		if err := c.x.r.setRef(n.addr(), n.key); err != nil {
			res.State, res.Err = state.Failed, fmt.Errorf("updating the ref of %s: %w", n.addr(), err)
		} else {
			c.remember(n, nodeRunID)
		}
	}
	if res.State == state.Interrupted {
		c.x.rec.settledWithoutVisit(n.node, res)
	}
	c.x.report(res)
}

// Prune implements stages.Children: the child's node run in this run becomes pruned with the note.
func (c *children) Prune(_ context.Context, child stages.ChildOutcome, note string) error {
	c.mu.Lock()
	id, ok := c.rows[child.Addr]
	c.mu.Unlock()
	if !ok {
		return fmt.Errorf("prune %s: not a finished child of %s in this run", child.Addr, c.parent.addr())
	}
	if err := c.x.rec.pruned(id, note); err != nil {
		return fmt.Errorf("prune %s: %w", child.Addr, err)
	}
	fmt.Fprintf(c.x.r.opt.Out, "  pruned   %s - %s\n", child.Addr, note)
	return nil
}

// BaseConfig implements stages.ChildBases.
func (c *children) BaseConfig(addr string) (cty.Value, error) {
	x := c.x
	base, ok := x.r.p.Stage(addr)
	if !ok {
		return cty.NilVal, fmt.Errorf("no stage %q in pipeline %s", addr, x.r.p.Name)
	}
	node := baseNode(base)
	if node == nil {
		return cty.NilVal, fmt.Errorf("stage %s has no nodes", addr)
	}
	cfg, _, static := node.Static()
	if !static {
		x.mu.Lock()
		exposed := x.exposed.stageValues(node)
		x.mu.Unlock()
		v, d := x.r.p.EvalNode(node, exposed)
		if d.HasErrors() {
			return cty.NilVal, &DiagError{Diags: d}
		}
		cfg = v
	}
	if !cfg.IsWhollyKnown() {
		return cty.NilVal, fmt.Errorf("the configuration of %s is not known yet: its upstream stages must run before %s (refer to them from %s, or make it depend on them)",
			addr, c.parent.addr(), c.parent.stage.Addr)
	}
	return withoutSeeds(base, cfg), nil
}

// Referent implements stages.ChildReferents.
func (c *children) Referent(attr string) (string, error) {
	s := c.parent.stage
	a, ok := s.Attrs[attr]
	if !ok {
		return "", fmt.Errorf("%s has no attribute %q", s.Addr, attr)
	}
	for _, tr := range a.Expr.Variables() {
		if len(tr) < 2 {
			continue
		}
		name, ok := tr[1].(hcl.TraverseAttr)
		if !ok {
			continue
		}
		addr := tr.RootName() + "." + name.Name
		if _, ok := c.x.r.p.Stage(addr); ok {
			return addr, nil
		}
	}
	return "", fmt.Errorf("attribute %q of %s refers to no stage", attr, s.Addr)
}

// Waves implements stages.ChildWaves.
func (c *children) Waves() bool { return c.where == state.Slurm }

// baseNode is the node a child of stage s is a variant of: its first node that is not an aggregate.
func baseNode(s *pipelines.Stage) *pipelines.Node {
	for _, n := range s.Nodes {
		if !n.Aggregate {
			return n
		}
	}
	return nil
}

// withoutSeeds returns cfg with the seeds attribute of a Seeded kind set to null: a child has no
// seeds of its own (ChildSpec.Seed is its seed).
func withoutSeeds(s *pipelines.Stage, cfg cty.Value) cty.Value {
	sk, ok := s.Kind.(stages.Seeded)
	if !ok || !cfg.Type().IsObjectType() || !cfg.Type().HasAttribute(sk.SeedsAttr()) {
		return cfg
	}
	attrs := cfg.AsValueMap()
	attrs[sk.SeedsAttr()] = cty.NullVal(cfg.Type().AttributeType(sk.SeedsAttr()))
	return cty.ObjectVal(attrs)
}

// childConfig checks a child's configuration against its base kind's attributes and converts every
// attribute to its declared type (absent ones take their default), so that a child's key equals the
// key of a hand-written node with the same values.
func childConfig(s *pipelines.Stage, v cty.Value) (cty.Value, error) {
	if v == cty.NilVal || v.IsNull() || !v.Type().IsObjectType() {
		return cty.NilVal, fmt.Errorf("the configuration must be an object of the attributes of kind %s", s.Kind.Name())
	}
	if !v.IsWhollyKnown() {
		return cty.NilVal, errors.New("the configuration holds unknown values")
	}
	declared := map[string]bool{}
	attrs := map[string]cty.Value{}
	for _, a := range s.Kind.Attrs() {
		declared[a.Name] = true
		if !v.Type().HasAttribute(a.Name) {
			d := a.Default
			if d == cty.NilVal {
				if a.Required {
					return cty.NilVal, fmt.Errorf("attribute %q of kind %s is required", a.Name, s.Kind.Name())
				}
				d = cty.NullVal(a.Type)
			}
			attrs[a.Name] = d
			continue
		}
		conv, err := convert.Convert(v.GetAttr(a.Name), a.Type)
		if err != nil {
			return cty.NilVal, fmt.Errorf("attribute %q: %v", a.Name, err)
		}
		attrs[a.Name] = conv
	}
	for name := range v.Type().AttributeTypes() {
		if !declared[name] {
			return cty.NilVal, fmt.Errorf("kind %s has no attribute %q.%s", s.Kind.Name(), name,
				pipelines.DidYouMean(name, attrNames(s.Kind)))
		}
	}
	return withoutSeeds(s, cty.ObjectVal(attrs)), nil
}

func attrNames(k stages.Kind) []string {
	var out []string
	for _, a := range k.Attrs() {
		out = append(out, a.Name)
	}
	return out
}

// prepareChild prepares the child spec of the node at parent and computes its key exactly as for a
// node of the base stage with the child's configuration and seed: kind, version, seed, parameters,
// the base stage's dependencies and input digests (records must hold the records of the base
// stage's upstream nodes), plus a "budget" component when the child runs to a budget. Its resume
// folder is keyed without the budget, so every budget of one configuration shares it.
func (r *Runner) prepareChild(parent *pipelines.Node, spec stages.ChildSpec, records map[string]*cache.Record) (*prepared, error) {
	base, ok := r.p.Stage(spec.Base)
	if !ok {
		return nil, fmt.Errorf("no stage %q in pipeline %s to run a child of", spec.Base, r.p.Name)
	}
	if _, nested := base.Kind.(stages.Spawner); nested {
		return nil, fmt.Errorf("%s runs children itself; a child cannot be a node that runs children", spec.Base)
	}
	bn := baseNode(base)
	if bn == nil {
		return nil, fmt.Errorf("stage %s has no nodes", spec.Base)
	}
	cfg, err := childConfig(base, spec.Config)
	if err != nil {
		return nil, fmt.Errorf("child of %s based on %s: %w", parent.Addr, spec.Base, err)
	}
	switch bk, ok := base.Kind.(stages.Budgeted); {
	case spec.Budget < 0:
		return nil, fmt.Errorf("child of %s: budget %d is negative", parent.Addr, spec.Budget)
	case spec.Budget > 0 && (!ok || !bk.SupportsBudget(cfg)):
		return nil, fmt.Errorf("child of %s: kind %s cannot stop at a budget of %d epochs (it does not implement stages.Budgeted for this configuration)",
			parent.Addr, base.Kind.Name(), spec.Budget)
	}
	task, diags := base.Kind.Prepare(cfg, base.AttrRange)
	if diags.HasErrors() {
		return nil, &DiagError{Diags: diags}
	}
	node := &pipelines.Node{Stage: base, Upstream: bn.Upstream}
	n := &prepared{node: node, stage: base, cfg: cfg, task: task, records: records, seed: spec.Seed,
		parent: parent.Addr, budget: spec.Budget, label: spec.Label}
	for _, u := range node.Upstream {
		if records[u] == nil {
			return nil, fmt.Errorf("child of %s: %s (upstream of %s) has not run; make %s depend on %s", parent.Addr, u, spec.Base, parent.Stage.Addr, spec.Base)
		}
	}
	params, err := pipelines.Params(base, cfg)
	if err != nil {
		return nil, err
	}
	comp := r.components(n, params)
	depComponents(r.p, base, records, comp)
	if err := r.hashInputs(n, records, comp); err != nil {
		return nil, fmt.Errorf("child of %s: %w", parent.Addr, err)
	}
	if spec.Budget > 0 {
		n.resumeKey = keyOf(comp)
		comp["budget"] = strconv.Itoa(spec.Budget)
	}
	n.components, n.key = comp, keyOf(comp)
	node.Addr = ChildAddr(parent.Addr, n.key)
	r.setTask(node.Addr, task)
	return n, nil
}

func firstOr(xs []string, def string) string {
	if len(xs) > 0 {
		return xs[0]
	}
	return def
}
