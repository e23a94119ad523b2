package pipelines

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/internal/ctyelem"
	"github.com/pcamflow/pcamflow/stages"
)

// Node is one executable instance of a stage: the stage itself, or one of its for_each instances.
// Nodes are what the runner hashes, caches and executes.
type Node struct {
	// Stage is the stage the node belongs to.
	Stage *Stage
	// Key is the for_each key ("" for a stage without for_each).
	Key string
	// Addr is the node's address: "kind.name", or kind.name["key"] for a for_each instance.
	Addr string
	// Upstream lists the addresses of every node of every upstream stage.
	Upstream []string
	// Seed is the node's seed for a seed node of a stages.Seeded stage, else nil.
	Seed *int64
	// Aggregate marks the aggregate node of a stages.Seeded stage (its Upstream are the seed nodes).
	Aggregate bool
	// Resources are the node's own resources when its stage's resources block uses `each` (for
	// example partition = each.value); nil means the stage's (Stage.Resources).
	Resources *Resources

	// eachValue is the value of `each.value` (the for_each element, or the seed of a seed node);
	// cty.NilVal without for_each. See Each.
	eachValue     cty.Value
	staticCfg     cty.Value
	staticTask    *stages.Task
	staticExposed cty.Value
	checked       *checkedNode
	index         int
}

// checkedNode is what check evaluated for a node that refers to other stages.
type checkedNode struct {
	cfg, exposed cty.Value
	task         *stages.Task
}

// Each returns the object {key, value} visible as `each` in the stage's expressions, or cty.NilVal
// for a node without for_each. It is built on each call, when the node is evaluated, rather than
// kept by each of 100,000 instances.
func (n *Node) Each() cty.Value {
	if n.eachValue == cty.NilVal {
		return cty.NilVal
	}
	return cty.ObjectVal(map[string]cty.Value{"key": cty.StringVal(n.Key), "value": n.eachValue})
}

// Static returns the configuration and task evaluated while loading, for nodes whose configuration
// does not refer to other stages; ok is false otherwise.
func (n *Node) Static() (cfg cty.Value, task *stages.Task, ok bool) {
	return n.staticCfg, n.staticTask, n.staticTask != nil
}

// StaticExposed returns what the node exposes before it runs (Kind.Expose of its static
// configuration without outputs), computed while loading; ok is false when Static is not ok.
func (n *Node) StaticExposed() (v cty.Value, ok bool) {
	return n.staticExposed, n.staticTask != nil && n.staticExposed != cty.NilVal
}

// Checked returns the configuration, task and exposed value that loading evaluated for a node that
// refers to other stages, against what every upstream node exposes before it runs (Kind.Expose
// without outputs, or this same Checked value). They are the node's own while every node of every
// stage it refers to will run and exposes exactly that value; ok is false for a node without
// references (see Static), an aggregate node, or one whose evaluation reported problems.
func (n *Node) Checked() (cfg cty.Value, task *stages.Task, exposed cty.Value, ok bool) {
	if n.checked == nil {
		return cty.NilVal, nil, cty.NilVal, false
	}
	return n.checked.cfg, n.checked.task, n.checked.exposed, true
}

// Node returns the node with the given address.
func (p *Pipeline) Node(addr string) (*Node, bool) {
	n, ok := p.nodeByAddr[addr]
	return n, ok
}

// InstanceAddr is the address of the for_each instance key of the stage at addr.
func InstanceAddr(stageAddr, key string) string {
	var space [96]byte // on the stack: the address is the only allocation
	b := append(space[:0], stageAddr...)
	b = append(b, '[')
	b = strconv.AppendQuote(b, key)
	return string(append(b, ']'))
}

// expand evaluates every stage's for_each (which may use var, local and pipeline only) and creates
// the nodes, in stage order and, within a stage, in key order.
func (p *Pipeline) expand() hcl.Diagnostics {
	var diags hcl.Diagnostics
	p.nodeByAddr = map[string]*Node{}
	for _, s := range p.Order {
		if seeds, sdiags, ok := p.seeds(s); ok || sdiags.HasErrors() {
			diags = append(diags, sdiags...)
			p.addSeeded(s, seeds)
			continue
		}
		if s.forEach == nil {
			p.addNode(&Node{Stage: s, Addr: s.Addr})
			continue
		}
		items, idiags := p.forEachItems(s)
		diags = append(diags, idiags...)
		for _, it := range items {
			p.addNode(&Node{Stage: s, Key: it.key, eachValue: it.value, Addr: InstanceAddr(s.Addr, it.key)})
		}
	}
	for _, n := range p.Nodes {
		for _, u := range n.Stage.Upstream {
			us := p.byAddr[u]
			for _, un := range us.Nodes {
				n.Upstream = append(n.Upstream, un.Addr)
			}
		}
		if n.Aggregate {
			for _, sn := range n.Stage.Nodes {
				if sn != n {
					n.Upstream = append(n.Upstream, sn.Addr)
				}
			}
		}
	}
	return diags
}

// seeds evaluates the seeds attribute of a stages.Seeded stage; ok is false when the kind is not
// seeded or the attribute is absent or null.
func (p *Pipeline) seeds(s *Stage) ([]int64, hcl.Diagnostics, bool) {
	sk, isSeeded := s.Kind.(stages.Seeded)
	if !isSeeded {
		return nil, nil, false
	}
	a, present := s.Attrs[sk.SeedsAttr()]
	if !present {
		return nil, nil, false
	}
	bad := func(detail string, r hcl.Range) hcl.Diagnostics {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid " + sk.SeedsAttr(), Detail: detail, Subject: r.Ptr()}}
	}
	if s.forEach != nil {
		return nil, bad("A stage cannot have both for_each and "+sk.SeedsAttr()+"; use one of them.", a.Expr.Range()), false
	}
	for _, tr := range a.Expr.Variables() {
		if root := tr.RootName(); root != "var" && root != "local" && root != "pipeline" {
			return nil, bad(sk.SeedsAttr()+" must be known before any stage runs: it may use var, local and pipeline only.", tr.SourceRange()), false
		}
	}
	v, diags := a.Expr.Value(p.baseContext())
	if diags.HasErrors() {
		return nil, diags, false
	}
	if v.IsNull() {
		return nil, nil, false
	}
	ty := v.Type()
	if !(ty.IsListType() || ty.IsTupleType() || ty.IsSetType()) || v.LengthInt() == 0 {
		return nil, bad(sk.SeedsAttr()+" must be a non-empty list of whole numbers, e.g. [1, 2, 3].", a.Expr.Range()), false
	}
	var out []int64
	seen := map[int64]bool{}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		n, err := toInt64(e)
		if err != nil || seen[n] {
			return nil, bad(sk.SeedsAttr()+" must hold distinct whole numbers, e.g. [1, 2, 3].", a.Expr.Range()), false
		}
		seen[n] = true
		out = append(out, n)
	}
	return out, nil, true
}

// addSeeded adds one node per seed and the aggregate node of a seeded stage.
func (p *Pipeline) addSeeded(s *Stage, seeds []int64) {
	for _, seed := range seeds {
		seed := seed
		key := strconv.FormatInt(seed, 10)
		p.addNode(&Node{Stage: s, Key: key, eachValue: cty.NumberIntVal(seed), Addr: InstanceAddr(s.Addr, key), Seed: &seed})
	}
	p.addNode(&Node{Stage: s, Addr: s.Addr, Aggregate: true})
}

// NodeIndex returns the position of a node in execution order, or -1.
func (p *Pipeline) NodeIndex(addr string) int {
	if n, ok := p.nodeByAddr[addr]; ok {
		return n.index
	}
	return -1
}

func (p *Pipeline) addNode(n *Node) {
	n.index = len(p.Nodes)
	n.Stage.Nodes = append(n.Stage.Nodes, n)
	p.Nodes = append(p.Nodes, n)
	p.nodeByAddr[n.Addr] = n
}

type forEachItem struct {
	key   string
	value cty.Value
}

// forEachItems evaluates a for_each expression into sorted instance keys and values: a list, set or
// tuple of strings or numbers (key = the element as a string), or a map or object (key = the key).
func (p *Pipeline) forEachItems(s *Stage) ([]forEachItem, hcl.Diagnostics) {
	expr := s.forEach
	for _, tr := range expr.Variables() {
		if root := tr.RootName(); root != "var" && root != "local" && root != "pipeline" {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid for_each",
				Detail:  "for_each must be known before any stage runs: it may use var, local and pipeline only.",
				Subject: tr.SourceRange().Ptr()}}
		}
		if len(tr) > 1 && tr.RootName() == "var" && p.Vars[attrName(tr[1])] == cty.DynamicVal {
			return nil, nil // the variable was given a wrong value, already reported
		}
	}
	v, diags := expr.Value(p.baseContext())
	if diags.HasErrors() {
		return nil, diags
	}
	bad := hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid for_each",
		Detail:  "for_each must be a list or set of strings or numbers, or a map, e.g. for_each = range(20) or for_each = { small = 64, large = 256 }.",
		Subject: expr.Range().Ptr()}}
	if v.IsNull() || !whollyKnown(v) {
		return nil, bad
	}
	ty := v.Type()
	if !ty.IsMapType() && !ty.IsObjectType() && !ty.IsListType() && !ty.IsSetType() && !ty.IsTupleType() {
		return nil, bad
	}
	items := make([]forEachItem, 0, v.LengthInt())
	seen := make(map[string]bool, v.LengthInt())
	add := func(key string, e cty.Value) hcl.Diagnostics {
		if seen[key] {
			return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Duplicate for_each key",
				Detail: fmt.Sprintf("for_each yields the key %q twice; instance keys must be unique.", key), Subject: expr.Range().Ptr()}}
		}
		seen[key] = true
		items = append(items, forEachItem{key: key, value: e})
		return nil
	}
	if ty.IsMapType() || ty.IsObjectType() {
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			if d := add(k.AsString(), e); d != nil {
				return nil, d
			}
		}
	} else {
		for e := range ctyelem.Values(v) { // a list, set or tuple: the element is the key
			var key string
			switch {
			case e.Type() == cty.String && !e.IsNull():
				key = e.AsString()
			case e.Type() == cty.Number && !e.IsNull():
				key = numberKey(e)
			default:
				return nil, bad
			}
			if d := add(key, e); d != nil {
				return nil, d
			}
		}
	}
	sortItems(items)
	return items, nil
}

// numberKey is the instance key of a number: its decimal text (big.Float's 'f' format, shortest
// exact), with a shortcut for whole numbers that fit an int64 (range() yields 100,000 of them).
func numberKey(v cty.Value) string {
	bf := v.AsBigFloat()
	if bf.IsInt() && bf.Sign() != 0 {
		if i, acc := bf.Int64(); acc == big.Exact {
			return strconv.FormatInt(i, 10)
		}
	}
	return bf.Text('f', -1)
}

// attrName is the name of an attribute step, or "" for any other step.
func attrName(step hcl.Traverser) string {
	if a, ok := step.(hcl.TraverseAttr); ok {
		return a.Name
	}
	return ""
}

// sortItems sorts for_each items by key: numeric keys numerically, other keys lexically (a number
// against a string compares lexically), parsing each key once. The sort is stable.
func sortItems(items []forEachItem) {
	type sortKey struct {
		f  float64
		ok bool
	}
	keys := make([]sortKey, len(items))
	numbers, nan := 0, false
	for i, it := range items {
		f, err := strconv.ParseFloat(it.key, 64)
		keys[i] = sortKey{f, err == nil}
		if err == nil {
			numbers++
			nan = nan || math.IsNaN(f)
		}
	}
	less := func(a, b int) bool {
		ka, kb := keys[a], keys[b]
		if ka.ok && kb.ok {
			return ka.f < kb.f
		}
		return items[a].key < items[b].key
	}
	// range() gives sorted items, which a stable sort leaves as they are. (Only when the keys are
	// all numbers, none NaN, or all not: mixed, less is not transitive, and a stable sort may
	// move items that are in order pair by pair.)
	if !nan && (numbers == 0 || numbers == len(items)) {
		sorted := true
		for i := 1; i < len(items) && sorted; i++ {
			sorted = !less(i, i-1)
		}
		if sorted {
			return
		}
	}
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return less(idx[a], idx[b]) })
	out := make([]forEachItem, len(items))
	for i, j := range idx {
		out[i] = items[j]
	}
	copy(items, out)
}

// StageValue combines the exposed values of a stage's nodes into the value other stages see:
// the node's value for a plain stage, an object keyed by instance key for a for_each stage.
func StageValue(s *Stage, nodeValues map[string]cty.Value) cty.Value {
	if s.forEach == nil {
		if v, ok := nodeValues[s.Addr]; ok {
			return v
		}
		return cty.DynamicVal
	}
	attrs := make(map[string]cty.Value, len(s.Nodes))
	for _, n := range s.Nodes {
		v, ok := nodeValues[n.Addr]
		if !ok {
			v = cty.DynamicVal
		}
		attrs[n.Key] = v
	}
	if len(attrs) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(attrs)
}
