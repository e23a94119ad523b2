package pipelines

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/stages"
)

// Options controls how a pipeline is loaded.
type Options struct {
	// Vars are "name=value" assignments from the command line (-var), applied last.
	Vars []string
	// VarFiles are HCL files of "name = value" attributes (-var-file), applied in order.
	VarFiles []string
	// Getenv looks up PCAMFLOW_VAR_<name> variables; nil disables them.
	Getenv func(string) string
}

// reserved names cannot be used as stage kinds because they are roots of other references.
var reservedRoots = []string{"var", "local", "pipeline"}

// LoadFile reads and loads the pipeline at path.
func LoadFile(path string, reg *stages.Registry, opt Options) (*Pipeline, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read pipeline file",
			Detail: fmt.Sprintf("%s. Give the path of an existing .hcl file.", err)}}
	}
	return Load(path, src, reg, opt)
}

// Load parses and checks a pipeline from src (named filename in diagnostics). It returns every problem
// it finds; the pipeline is nil when any diagnostic is an error.
func Load(filename string, src []byte, reg *stages.Registry, opt Options) (*Pipeline, hcl.Diagnostics) {
	p := &Pipeline{
		File: filename, Source: map[string][]byte{filename: src},
		Vars: map[string]cty.Value{}, Locals: map[string]cty.Value{},
		byAddr: map[string]*Stage{}, registry: reg,
	}
	if diags := CheckSource(filename, src); diags.HasErrors() {
		return nil, diags
	}
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.Pos{Line: 1, Column: 1, Byte: 0})
	if diags.HasErrors() {
		return nil, diags
	}
	content, cdiags := file.Body.Content(topSchema(reg))
	diags = append(diags, betterSuggestions(cdiags, topSchema(reg))...)

	var varBlocks, localBlocks []*hcl.Block
	var pipeBlock, slurmBlock *hcl.Block
	for _, b := range content.Blocks {
		switch b.Type {
		case "variable":
			varBlocks = append(varBlocks, b)
		case "locals":
			localBlocks = append(localBlocks, b)
		case "pipeline":
			if pipeBlock != nil {
				diags = diags.Append(duplicateBlock("pipeline", b, pipeBlock))
				continue
			}
			pipeBlock = b
		case "slurm":
			if slurmBlock != nil {
				diags = diags.Append(duplicateBlock("slurm", b, slurmBlock))
				continue
			}
			slurmBlock = b
		default:
			diags = append(diags, p.addStage(reg, b)...)
		}
	}
	diags = append(diags, p.decodeVariables(varBlocks, opt)...)
	diags = append(diags, p.decodeLocals(localBlocks)...)
	diags = append(diags, p.decodePipelineBlock(pipeBlock, filename)...)
	p.freezeBase()
	if slurmBlock != nil {
		res, rdiags := decodeResources(slurmBlock.Body, p.baseContext())
		p.Slurm = res
		diags = append(diags, rdiags...)
	}
	for _, s := range p.Stages {
		diags = append(diags, p.resolveRefs(s)...)
		if rb := s.resourcesBlock; rb != nil {
			if s.forEach != nil && usesEach(rb.Body) {
				continue // decoded per instance once for_each is expanded (eachResources)
			}
			res, rdiags := decodeResources(rb.Body, p.baseContext())
			res.DeclRange = rb.DefRange
			s.Resources = res
			diags = append(diags, rdiags...)
		}
	}
	odiags := p.order()
	diags = append(diags, odiags...)
	if !odiags.HasErrors() {
		diags = append(diags, p.expand()...)
		diags = append(diags, p.eachResources()...)
		diags = append(diags, p.check()...)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return p, diags
}

// topSchema is the schema of a pipeline file: the fixed blocks plus one block type per stage kind.
func topSchema(reg *stages.Registry) *hcl.BodySchema {
	s := &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "pipeline", LabelNames: []string{"name"}},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "slurm"},
	}}
	for _, k := range reg.Names() {
		s.Blocks = append(s.Blocks, hcl.BlockHeaderSchema{Type: k, LabelNames: []string{"name"}})
	}
	return s
}

func duplicateBlock(kind string, b, first *hcl.Block) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate " + kind + " block",
		Detail:  fmt.Sprintf("Only one %s block is allowed; the first is at %s. Merge them into one.", kind, posOf(first.DefRange)),
		Subject: b.DefRange.Ptr()}
}

// decodePipelineBlock reads the pipeline's name and seed.
func (p *Pipeline) decodePipelineBlock(b *hcl.Block, filename string) hcl.Diagnostics {
	base := filepath.Base(filename)
	p.Name = strings.TrimSuffix(base, filepath.Ext(base))
	if b == nil {
		return nil
	}
	p.Name = b.Labels[0]
	var diags hcl.Diagnostics
	if !validName(p.Name) {
		diags = diags.Append(invalidName("pipeline", p.Name, b.LabelRanges[0]))
	}
	content, cdiags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "seed"}, {Name: "description"},
	}})
	diags = append(diags, cdiags...)
	if a, ok := content.Attributes["seed"]; ok {
		v, vdiags := a.Expr.Value(p.baseContext())
		diags = append(diags, vdiags...)
		if !vdiags.HasErrors() {
			seed, err := toInt64(v)
			if err != nil {
				diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid seed",
					Detail: "seed must be a whole number, e.g. seed = 42: " + err.Error(), Subject: a.Expr.Range().Ptr()})
			}
			p.Seed = seed
		}
	}
	return diags
}

// validName reports whether s is usable as a stage or pipeline name: an HCL identifier.
func validName(s string) bool {
	return hclsyntax.ValidIdentifier(s)
}

func invalidName(what, name string, r hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid " + what + " name",
		Detail:  fmt.Sprintf("%q is not a valid name: use letters, digits, underscores and dashes, starting with a letter.", name),
		Subject: r.Ptr()}
}

// addStage decodes one stage block.
func (p *Pipeline) addStage(reg *stages.Registry, b *hcl.Block) hcl.Diagnostics {
	kind, _ := reg.Lookup(b.Type)
	s := &Stage{Kind: kind, Name: b.Labels[0], Addr: b.Type + "." + b.Labels[0], DeclRange: b.DefRange,
		Attrs: map[string]*hcl.Attribute{}, attrs: kind.Attrs()}
	s.paramNames = make([]string, len(s.attrs))
	for i, a := range s.attrs {
		s.paramNames[i] = "param." + a.Name
	}
	var diags hcl.Diagnostics
	if !validName(s.Name) {
		diags = diags.Append(invalidName("stage", s.Name, b.LabelRanges[0]))
	}
	if prev, dup := p.byAddr[s.Addr]; dup {
		diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate stage name",
			Detail: fmt.Sprintf("A %s stage named %q is already declared at %s. Stage names must be unique per kind; rename one of them.",
				b.Type, s.Name, posOf(prev.DeclRange)),
			Subject: b.LabelRanges[0].Ptr()})
		return diags
	}
	content, cdiags := b.Body.Content(stageSchema(kind))
	diags = append(diags, betterSuggestions(cdiags, stageSchema(kind))...)
	for name, a := range content.Attributes {
		switch name {
		case "depends_on":
		case "for_each":
			s.forEach = a.Expr
		default:
			s.Attrs[name] = a
		}
	}
	if sdiags := checkSpaceCalls(s); sdiags.HasErrors() {
		diags = append(diags, sdiags...)
		s.broken = true // evaluating it would only add a type error for the same call
	}
	if a, ok := content.Attributes["depends_on"]; ok {
		deps, ddiags := p.decodeDependsOn(a)
		s.DependsOn = deps
		diags = append(diags, ddiags...)
	}
	for _, rb := range content.Blocks {
		if s.resourcesBlock != nil {
			diags = diags.Append(duplicateBlock("resources", rb, s.resourcesBlock))
			continue
		}
		s.resourcesBlock = rb
	}
	p.Stages = append(p.Stages, s)
	p.byAddr[s.Addr] = s
	return diags
}

// stageSchema is the schema of a stage block: the kind's attributes, depends_on and a resources block.
func stageSchema(k stages.Kind) *hcl.BodySchema {
	s := &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "depends_on"}, {Name: "for_each"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "resources"}},
	}
	for _, a := range k.Attrs() {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: a.Name, Required: a.Required})
	}
	return s
}

// decodeDependsOn reads depends_on = [kind.name, ...].
func (p *Pipeline) decodeDependsOn(a *hcl.Attribute) ([]Ref, hcl.Diagnostics) {
	exprs, diags := hcl.ExprList(a.Expr)
	if diags.HasErrors() {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid depends_on",
			Detail: "depends_on must be a list of stage references, e.g. depends_on = [command.prepare].", Subject: a.Expr.Range().Ptr()}}
	}
	var refs []Ref
	for _, e := range exprs {
		tr, tdiags := hcl.AbsTraversalForExpr(e)
		if tdiags.HasErrors() || len(tr) != 2 {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid depends_on entry",
				Detail:  "Each depends_on entry must be a whole stage, written kind.name (no quotes, no attribute), e.g. command.prepare.",
				Subject: e.Range().Ptr()})
			continue
		}
		name, ok := tr[1].(hcl.TraverseAttr)
		if !ok {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid depends_on entry",
				Detail: "Write the stage as kind.name, e.g. command.prepare.", Subject: e.Range().Ptr()})
			continue
		}
		refs = append(refs, Ref{Target: tr.RootName() + "." + name.Name, Range: e.Range()})
	}
	return refs, diags
}

// check evaluates every node once with unknown upstream outputs, so that type errors, unsupported
// attributes of referenced stages and kind-specific problems are reported before anything runs.
func (p *Pipeline) check() hcl.Diagnostics {
	var diags hcl.Diagnostics
	exposed := make(map[string]cty.Value, len(p.Order))
	nodeValues := make(map[string]cty.Value, len(p.Nodes))
	for _, s := range p.Order {
		if s.broken {
			exposed[s.Addr] = cty.DynamicVal
			continue
		}
		if tdiags := p.checkOutputRefs(s, exposed); tdiags.HasErrors() {
			diags = append(diags, tdiags...)
			exposed[s.Addr] = cty.DynamicVal
			continue
		}
		evaluated := p.evalInstances(s, exposed)
		var ev *nodeEval
		if evaluated == nil {
			ev = p.newNodeEval(s, exposed)
		}
		for i, n := range s.Nodes {
			var cfg cty.Value
			var cdiags hcl.Diagnostics
			if evaluated != nil {
				cfg, cdiags = evaluated[i].cfg, evaluated[i].diags
			} else {
				cfg, cdiags = ev.eval(n)
			}
			if i == 0 || !cdiags.HasErrors() {
				diags = append(diags, cdiags...)
			}
			if cdiags.HasErrors() {
				nodeValues[n.Addr] = cty.DynamicVal
				break // the instances of a stage share their expressions: report once
			}
			if n.Aggregate {
				nodeValues[n.Addr] = s.Kind.(stages.Seeded).ExposeAggregate(cfg, nil, nil)
				continue
			}
			var task *stages.Task
			var pdiags hcl.Diagnostics
			var value cty.Value
			if evaluated != nil && evaluated[i].prepared {
				task, pdiags, value = evaluated[i].task, evaluated[i].pdiags, evaluated[i].exposed
			} else {
				task, pdiags = s.Kind.Prepare(cfg, s.AttrRange)
				value = s.Kind.Expose(cfg, nil)
			}
			if i == 0 {
				diags = append(diags, pdiags...)
			}
			nodeValues[n.Addr] = value
			switch {
			case pdiags.HasErrors():
			case len(s.Refs) == 0:
				n.staticCfg, n.staticTask, n.staticExposed = cfg, task, value
			default:
				n.checked = &checkedNode{cfg: cfg, task: task, exposed: value}
			}
		}
		exposed[s.Addr] = StageValue(s, nodeValues)
	}
	return diags
}

// sortedKeys returns the keys of m in sorted order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
