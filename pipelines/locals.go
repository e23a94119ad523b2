package pipelines

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// decodeLocals evaluates the locals blocks. Locals may refer to variables, the pipeline and other
// locals (in any order, without cycles), but not to stages.
func (p *Pipeline) decodeLocals(blocks []*hcl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	attrs := map[string]*hcl.Attribute{}
	for _, b := range blocks {
		as, adiags := b.Body.JustAttributes()
		diags = append(diags, adiags...)
		for name, a := range as {
			if prev, dup := attrs[name]; dup {
				diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate local value",
					Detail: fmt.Sprintf("local.%s is already defined at %s; remove or rename one.", name, posOf(prev.NameRange)), Subject: a.NameRange.Ptr()})
				continue
			}
			attrs[name] = a
		}
	}
	pending := sortedKeys(attrs)
	for len(pending) > 0 {
		var next []string
		for _, name := range pending {
			a := attrs[name]
			if waitsOnLocal(a, attrs, p.Locals) {
				next = append(next, name)
				continue
			}
			diags = append(diags, p.checkLocalRefs(a)...)
			v, vdiags := a.Expr.Value(p.baseContext())
			diags = append(diags, vdiags...)
			if vdiags.HasErrors() {
				v = cty.DynamicVal
			}
			p.Locals[name] = v
		}
		if len(next) == len(pending) {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cycle between local values",
				Detail:  "These locals refer to each other in a circle: local." + strings.Join(next, ", local.") + ". Break the cycle.",
				Subject: attrs[next[0]].Expr.Range().Ptr()})
			for _, name := range next {
				p.Locals[name] = cty.DynamicVal
			}
			break
		}
		pending = next
	}
	return diags
}

// waitsOnLocal reports whether a refers to a declared local that has not been evaluated yet.
func waitsOnLocal(a *hcl.Attribute, attrs map[string]*hcl.Attribute, done map[string]cty.Value) bool {
	for _, tr := range a.Expr.Variables() {
		if tr.RootName() != "local" || len(tr) < 2 {
			continue
		}
		if step, ok := tr[1].(hcl.TraverseAttr); ok {
			if _, declared := attrs[step.Name]; declared {
				if _, evaluated := done[step.Name]; !evaluated {
					return true
				}
			}
		}
	}
	return false
}

// checkLocalRefs reports references from a local to anything but var, local and pipeline.
func (p *Pipeline) checkLocalRefs(a *hcl.Attribute) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, tr := range a.Expr.Variables() {
		root := tr.RootName()
		if root == "var" || root == "local" || root == "pipeline" {
			continue
		}
		if _, isKind := p.registry.Lookup(root); isKind {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Stage reference in a local value",
				Detail:  "Locals are evaluated before any stage runs, so they cannot refer to stages. Write the reference directly in the stage that needs it.",
				Subject: tr.SourceRange().Ptr()})
			continue
		}
		diags = diags.Append(unknownRoot(tr, p.rootNames()))
	}
	return diags
}
