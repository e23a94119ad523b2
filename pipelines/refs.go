package pipelines

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// rootNames are the names an expression may start with: var, local, pipeline and the stage kinds.
func (p *Pipeline) rootNames() []string {
	return append(append([]string{}, reservedRoots...), p.registry.Names()...)
}

// resolveRefs checks every reference in the stage's attributes and depends_on, records the stage
// references as edges, and computes Upstream.
func (p *Pipeline) resolveRefs(s *Stage) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range sortedKeys(s.Attrs) {
		for _, tr := range s.Attrs[name].Expr.Variables() {
			if tr.RootName() == "each" {
				d := checkEach(s, tr)
				diags = append(diags, d...)
				s.broken = s.broken || d.HasErrors()
				continue
			}
			ref, rdiags := p.checkTraversal(tr)
			diags = append(diags, rdiags...)
			s.broken = s.broken || rdiags.HasErrors()
			if ref != nil {
				s.Refs = append(s.Refs, *ref)
			}
		}
	}
	for _, d := range s.DependsOn {
		if _, ok := p.byAddr[d.Target]; !ok {
			kind, name, _ := strings.Cut(d.Target, ".")
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Reference to undeclared stage",
				Detail: fmt.Sprintf("depends_on names %s, which is not declared.%s", d.Target, p.suggestStage(kind, name)), Subject: d.Range.Ptr()})
		}
	}
	seen := map[string]bool{}
	for _, r := range append(append([]Ref{}, s.Refs...), s.DependsOn...) {
		if _, ok := p.byAddr[r.Target]; ok && !seen[r.Target] {
			seen[r.Target] = true
			s.Upstream = append(s.Upstream, r.Target)
		}
	}
	sort.Strings(s.Upstream)
	return diags
}

// checkTraversal validates one variable reference and returns the stage reference it makes, if any.
func (p *Pipeline) checkTraversal(tr hcl.Traversal) (*Ref, hcl.Diagnostics) {
	root := tr.RootName()
	switch root {
	case "var":
		return nil, checkNamed(tr, "variable", "var", sortedKeys(p.Vars), "Declare it with a variable block.")
	case "local":
		return nil, checkNamed(tr, "local value", "local", sortedKeys(p.Locals), "Define it in a locals block.")
	case "pipeline":
		return nil, checkNamed(tr, "pipeline attribute", "pipeline", []string{"name", "seed"}, "")
	}
	if _, isKind := p.registry.Lookup(root); !isKind {
		return nil, hcl.Diagnostics{unknownRoot(tr, p.rootNames())}
	}
	if len(tr) < 2 {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Incomplete stage reference",
			Detail: fmt.Sprintf("A reference to a stage names it: %s.NAME, or one of its outputs: %s.NAME.OUTPUT.", root, root), Subject: tr.SourceRange().Ptr()}}
	}
	step, ok := tr[1].(hcl.TraverseAttr)
	if !ok {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid stage reference",
			Detail: fmt.Sprintf("Write stage references as %s.NAME, with the stage name after a dot.", root), Subject: tr.SourceRange().Ptr()}}
	}
	addr := root + "." + step.Name
	if _, declared := p.byAddr[addr]; !declared {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Reference to undeclared stage",
			Detail:  fmt.Sprintf("There is no %s stage named %q.%s Declare it, or fix the name.", root, step.Name, p.suggestStage(root, step.Name)),
			Subject: tr.SourceRange().Ptr()}}
	}
	return &Ref{Target: addr, Range: tr.SourceRange()}, nil
}

// checkNamed checks that root.NAME names one of the candidates.
func checkNamed(tr hcl.Traversal, what, root string, candidates []string, fix string) hcl.Diagnostics {
	if len(tr) < 2 {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Incomplete reference",
			Detail: fmt.Sprintf("Write %s.NAME to refer to a %s.", root, what), Subject: tr.SourceRange().Ptr()}}
	}
	step, ok := tr[1].(hcl.TraverseAttr)
	if !ok {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid reference",
			Detail: fmt.Sprintf("Write %s.NAME to refer to a %s.", root, what), Subject: tr.SourceRange().Ptr()}}
	}
	for _, c := range candidates {
		if c == step.Name {
			return nil
		}
	}
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Reference to undeclared " + what,
		Detail:  fmt.Sprintf("There is no %s named %q.%s %s", what, step.Name, DidYouMean(step.Name, candidates), fix),
		Subject: tr.SourceRange().Ptr()}}
}

// unknownRoot reports a reference whose first name is not var, local, pipeline or a stage kind.
func unknownRoot(tr hcl.Traversal, roots []string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown reference",
		Detail: fmt.Sprintf("There is nothing named %q.%s References start with var., local., pipeline. or a stage kind such as command.",
			tr.RootName(), DidYouMean(tr.RootName(), roots)),
		Subject: tr.SourceRange().Ptr()}
}

// suggestStage proposes the closest stage name of the same kind, as a sentence, or "".
func (p *Pipeline) suggestStage(kind, name string) string {
	var names []string
	for _, s := range p.Stages {
		if s.Kind.Name() == kind {
			names = append(names, s.Name)
		}
	}
	if best := suggest(name, names); best != "" {
		return fmt.Sprintf(" Did you mean %q?", kind+"."+best)
	}
	return ""
}

// checkOutputRefs walks each stage reference of s over the exposed value of its target and reports
// attributes the value does not have, with the closest valid name.
func (p *Pipeline) checkOutputRefs(s *Stage, exposed map[string]cty.Value) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range sortedKeys(s.Attrs) {
		for _, tr := range s.Attrs[name].Expr.Variables() {
			if _, isKind := p.registry.Lookup(tr.RootName()); !isKind || len(tr) < 3 {
				continue
			}
			step := tr[1].(hcl.TraverseAttr)
			v, ok := exposed[tr.RootName()+"."+step.Name]
			if !ok {
				continue
			}
			diags = append(diags, walkAttrs(v, tr[2:], tr.RootName()+"."+step.Name)...)
		}
	}
	return diags
}

// walkAttrs follows attribute steps through known objects and maps.
func walkAttrs(v cty.Value, steps hcl.Traversal, path string) hcl.Diagnostics {
	for _, st := range steps {
		attr, ok := st.(hcl.TraverseAttr)
		if !ok || !v.IsKnown() || v.IsNull() {
			return nil
		}
		ty := v.Type()
		var names []string
		switch {
		case ty.IsObjectType():
			for n := range ty.AttributeTypes() {
				names = append(names, n)
			}
			if ty.HasAttribute(attr.Name) {
				path += "." + attr.Name
				v = v.GetAttr(attr.Name)
				continue
			}
		case ty.IsMapType():
			for it := v.ElementIterator(); it.Next(); {
				k, _ := it.Element()
				names = append(names, k.AsString())
			}
			if v.HasIndex(cty.StringVal(attr.Name)).True() {
				path += "." + attr.Name
				v = v.Index(cty.StringVal(attr.Name))
				continue
			}
		default:
			return nil
		}
		sort.Strings(names)
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Reference to undeclared output",
			Detail:  fmt.Sprintf("%s has no attribute %q.%s It has: %s.", path, attr.Name, DidYouMean(attr.Name, names), strings.Join(names, ", ")),
			Subject: attr.SrcRange.Ptr()}}
	}
	return nil
}

// checkEach validates each.key / each.value, which exist only in stages with for_each.
func checkEach(s *Stage, tr hcl.Traversal) hcl.Diagnostics {
	if s.forEach == nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "each used without for_each",
			Detail: "each.key and each.value exist only in a stage with for_each; add for_each or remove the reference.", Subject: tr.SourceRange().Ptr()}}
	}
	return checkNamed(tr, "attribute of each", "each", []string{"key", "value"}, "")
}
