package pipelines

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// usesEach reports whether any attribute of a resources block refers to `each`.
func usesEach(body hcl.Body) bool {
	attrs, _ := body.JustAttributes()
	for _, a := range attrs {
		for _, tr := range a.Expr.Variables() {
			if tr.RootName() == "each" {
				return true
			}
		}
	}
	return false
}

// eachResources decodes, for every for_each stage whose resources block uses `each`, the block once
// per instance (Node.Resources), so that for_each = { cpu = "cpu", gpu = "gpu" } with
// partition = each.value sends each instance to its own partition. The executor must not differ
// between instances: a stage runs either where the runner runs or on Slurm.
func (p *Pipeline) eachResources() hcl.Diagnostics {
	var diags hcl.Diagnostics
	seen := map[string]bool{}
	for _, s := range p.Order {
		rb := s.resourcesBlock
		if rb == nil || s.forEach == nil || !usesEach(rb.Body) {
			continue
		}
		for _, n := range s.Nodes {
			ctx := p.baseContext()
			ctx.Variables["each"] = n.Each()
			res, rdiags := decodeResources(rb.Body, ctx)
			res.DeclRange = rb.DefRange
			for _, d := range rdiags {
				// the same problem in every instance is reported once
				id := d.Summary + "\x00" + d.Detail
				if d.Subject != nil {
					id += "\x00" + d.Subject.String()
				}
				if !seen[id] {
					seen[id] = true
					diags = append(diags, d)
				}
			}
			n.Resources = res
			if s.Resources == nil {
				s.Resources = res
				continue
			}
			if res.Executor != s.Resources.Executor {
				diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid executor",
					Detail: fmt.Sprintf("The executor of %s is %q but that of %s is %q: every instance of a stage runs on the same executor. "+
						"Make executor a constant and vary the other resources with each.", n.Addr, res.Executor, s.Nodes[0].Addr, s.Resources.Executor),
					Subject: rb.DefRange.Ptr()})
			}
		}
	}
	return diags
}
