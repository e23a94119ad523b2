package runner

import (
	"context"
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/pipelines"
)

// Resolved is the value of a reference expression evaluated against the cache, with the nodes it
// was computed from.
type Resolved struct {
	// Value is the expression's value, e.g. the model object of train.mlp.
	Value cty.Value
	// Nodes are the referenced nodes and every node upstream of them, in execution order, with the
	// configuration they were evaluated with and their cache records.
	Nodes []ResolvedNode
}

// ResolvedNode is one cached node a Resolved value depends on.
type ResolvedNode struct {
	// Addr is the node's address; Kind its stage kind; Referenced whether the expression names its
	// stage (false for upstream nodes).
	Addr, Kind string
	Referenced bool
	// Config is the node's evaluated configuration.
	Config cty.Value
	// Record is the node's cache record (key, outputs, run).
	Record *cache.Record
}

// Resolve evaluates expr — a reference to the outputs of stages, such as train.mlp,
// train.mlp["2"], sweep.hpo.champion or threshold.f2 — against the cache, as a downstream stage
// would see it, without running anything: every node of the referenced stages and every node
// upstream of them must be cached with their current inputs (their outputs are restored where
// missing). The error says which node is missing and that it must run first.
func (r *Runner) Resolve(expr string) (*Resolved, error) {
	e, diags := hclsyntax.ParseExpression([]byte(expr), "reference", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("%q is not a reference such as train.NAME or sweep.NAME.champion: %s", expr, diags[0].Detail)
	}
	trs := e.Variables()
	if len(trs) == 0 {
		return nil, fmt.Errorf("%q refers to no stage: write a reference such as train.NAME or sweep.NAME.champion", expr)
	}
	referenced := map[string]*pipelines.Stage{}
	var roots []string
	for _, tr := range trs {
		addr, err := r.stageOfTraversal(tr)
		if err != nil {
			return nil, err
		}
		if referenced[addr] != nil {
			continue
		}
		s, _ := r.p.Stage(addr)
		referenced[addr] = s
		for _, n := range s.Nodes {
			roots = append(roots, n.Addr)
		}
	}
	ex := newExposures(r.p)
	records := map[string]*cache.Record{}
	out := &Resolved{}
	visit := func(_ context.Context, node *pipelines.Node, _ func()) (*NodeResult, error) {
		n, err := r.prepare(node, ex.stageValues(node), records)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", node.Addr, err)
		}
		rec, ok, err := r.store.GetRecord(n.key)
		if n.key == "" || err != nil || !ok {
			return nil, fmt.Errorf("%s is not in the cache with its current inputs: run the pipeline first (pcamflow run %s)", node.Addr, r.p.File)
		}
		if err := r.restoreAll(node.Addr, rec); err != nil {
			return nil, err
		}
		records[node.Addr] = rec
		ex.set(node, exposedOf(node, n.cfg, rec, records))
		out.Nodes = append(out.Nodes, ResolvedNode{Addr: node.Addr, Kind: node.Stage.Kind.Name(),
			Referenced: referenced[node.Stage.Addr] != nil, Config: n.cfg, Record: rec})
		return &NodeResult{Node: node.Addr, State: state.Cached, visited: true}, nil
	}
	w := &walk{nodes: r.closure(roots, true), limit: 1, visit: visit, settled: func(*NodeResult) {}}
	if err := w.run(context.Background()); err != nil {
		return nil, err
	}
	byKind := map[string]map[string]cty.Value{}
	for _, s := range referenced {
		if byKind[s.Kind.Name()] == nil {
			byKind[s.Kind.Name()] = map[string]cty.Value{}
		}
		byKind[s.Kind.Name()][s.Name] = pipelines.StageValue(s, ex.nodes)
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": objectOf(r.p.Vars), "local": objectOf(r.p.Locals)}}
	for kind, m := range byKind {
		ctx.Variables[kind] = cty.ObjectVal(m)
	}
	v, diags := e.Value(ctx)
	if diags.HasErrors() {
		return nil, fmt.Errorf("%s: %s", expr, diags[0].Detail)
	}
	if !v.IsWhollyKnown() {
		return nil, fmt.Errorf("%s is not wholly known after its stages ran (an output is missing?)", expr)
	}
	out.Value = v
	return out, nil
}

// stageOfTraversal returns the address of the stage a traversal kind.NAME... names, or an error
// naming the closest stage.
func (r *Runner) stageOfTraversal(tr hcl.Traversal) (string, error) {
	var stageAddrs []string
	for _, s := range r.p.Stages {
		stageAddrs = append(stageAddrs, s.Addr)
	}
	sort.Strings(stageAddrs)
	root := tr.RootName()
	if len(tr) < 2 {
		return "", fmt.Errorf("%q is not a stage reference: write KIND.NAME, e.g. train.mlp (stages: %v)", root, stageAddrs)
	}
	name, ok := tr[1].(hcl.TraverseAttr)
	if !ok {
		return "", fmt.Errorf("%q is not a stage reference: write KIND.NAME, e.g. train.mlp (stages: %v)", root, stageAddrs)
	}
	addr := root + "." + name.Name
	if _, ok := r.p.Stage(addr); !ok {
		return "", fmt.Errorf("the pipeline %s has no stage %s.%s Its stages: %v", r.p.File, addr,
			pipelines.DidYouMean(addr, stageAddrs), stageAddrs)
	}
	return addr, nil
}

// objectOf returns m as an object value (empty when m is).
func objectOf(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}
