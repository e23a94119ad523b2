// Package pipelines is the pipeline language of pcamflow: it loads HCL pipeline files, decodes the
// pipeline, variable, locals and stage blocks, resolves references between stages into a DAG, and
// reports every problem as an hcl.Diagnostic with a source range and a sentence saying how to fix it.
// It knows stage kinds only through the stages.Registry it is given.
package pipelines

import (
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/stages"
)

// Pipeline is a loaded, checked pipeline: its variables and locals are evaluated, its stages decoded
// and ordered. Stage configurations are evaluated later, node by node, because they depend on what
// upstream stages produced.
type Pipeline struct {
	// Name is the label of the pipeline block, or the file's base name without extension.
	Name string
	// Seed is the pipeline seed (0 when not set).
	Seed int64
	// File is the path the pipeline was loaded from.
	File string
	// Source holds the bytes of every file read, keyed by file name, for rendering diagnostics.
	Source map[string][]byte
	// Vars holds the resolved value of every declared variable.
	Vars map[string]cty.Value
	// Locals holds the value of every local.
	Locals map[string]cty.Value
	// Stages lists the stages in declaration order.
	Stages []*Stage
	// Order lists the stages in a deterministic topological order (upstream first).
	Order []*Stage
	// Nodes lists the executable nodes (stages and their for_each instances) in execution order.
	Nodes []*Node
	// Slurm holds the pipeline-wide defaults of the top-level slurm block, if any.
	Slurm *Resources

	byAddr     map[string]*Stage
	nodeByAddr map[string]*Node
	registry   *stages.Registry
	base       map[string]cty.Value // var, local and pipeline once decoded (see freezeBase)
}

// Stage is one declared stage block.
type Stage struct {
	// Kind is the stage kind.
	Kind stages.Kind
	// Name is the block label.
	Name string
	// Addr is "kind.name".
	Addr string
	// DeclRange is the range of the block header.
	DeclRange hcl.Range
	// Attrs holds the attributes present in the block, by name.
	Attrs map[string]*hcl.Attribute
	// Refs are the references from this stage's attributes to other stages (data edges).
	Refs []Ref
	// DependsOn are the explicit depends_on edges (no data).
	DependsOn []Ref
	// Resources is the decoded resources block (nil when absent). When the block uses `each`
	// (partition = each.value), every node has its own (Node.Resources) and this is the first
	// node's; the executor is the same for all of them.
	Resources *Resources
	// Upstream lists the addresses of all direct upstream stages, sorted, without duplicates.
	Upstream []string

	// Nodes are the stage's executable nodes: one, or one per for_each instance.
	Nodes []*Node

	resourcesBlock *hcl.Block
	forEach        hcl.Expression // nil without for_each
	broken         bool           // its block or references had errors: not evaluated by check
	attrs          []stages.Attr  // Kind.Attrs(), asked once
	paramNames     []string       // "param." + the name of each of attrs (key component names)
}

// attrSpecs returns the kind's attributes, computed once per stage (a kind may build them anew on
// every call, which costs as much as evaluating a small node).
func (s *Stage) attrSpecs() []stages.Attr {
	if s.attrs == nil {
		return s.Kind.Attrs()
	}
	return s.attrs
}

// paramComponent is the name of the key component of the i-th attribute of s.attrSpecs().
func (s *Stage) paramComponent(i int) string {
	if s.paramNames == nil {
		return "param." + s.attrSpecs()[i].Name
	}
	return s.paramNames[i]
}

// ForEach reports whether the stage is instantiated per for_each element.
func (s *Stage) ForEach() bool { return s.forEach != nil }

// Ref is one reference from a stage to another stage, with the source range where it is written.
type Ref struct {
	// Target is the address of the referenced stage.
	Target string
	// Range is the source range of the reference.
	Range hcl.Range
}

// Stage returns the stage with the given address.
func (p *Pipeline) Stage(addr string) (*Stage, bool) {
	s, ok := p.byAddr[addr]
	return s, ok
}

// Downstream returns the addresses of the stages that list addr as a direct upstream.
func (p *Pipeline) Downstream(addr string) []string {
	var out []string
	for _, s := range p.Stages {
		for _, u := range s.Upstream {
			if u == addr {
				out = append(out, s.Addr)
				break
			}
		}
	}
	return out
}

// AttrRange returns a RangeFunc for s: the range of the named attribute's expression, or the block
// header when the attribute is absent.
//
// A name of the form attr["key"] asks for the item with that key of an object written in place as
// the attribute's value (a sweep's space = { "optimizer.learning_rate" = ... }); it falls back to
// the attribute's range when the value is not such an object.
func (s *Stage) AttrRange(name string) *hcl.Range {
	if attr, rest, ok := strings.Cut(name, "["); ok && strings.HasSuffix(rest, "]") {
		if a, ok := s.Attrs[attr]; ok {
			if key, err := strconv.Unquote(strings.TrimSuffix(rest, "]")); err == nil {
				if r := itemRange(a.Expr, key); r != nil {
					return r
				}
			}
		}
		name = attr
	}
	if a, ok := s.Attrs[name]; ok {
		r := a.Expr.Range()
		return &r
	}
	r := s.DeclRange
	return &r
}
