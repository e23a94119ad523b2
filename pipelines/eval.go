package pipelines

import (
	"fmt"
	"math/big"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/pcamflow/pcamflow/internal/ctyelem"
)

// baseContext is the evaluation context without stages: var, local, pipeline and the functions.
// It returns a fresh context each time (callers add stage kinds to Variables).
func (p *Pipeline) baseContext() *hcl.EvalContext {
	if p.base != nil {
		vars := make(map[string]cty.Value, len(p.base)+4)
		for k, v := range p.base {
			vars[k] = v
		}
		return &hcl.EvalContext{Functions: funcs, Variables: vars}
	}
	return &hcl.EvalContext{Functions: funcs, Variables: p.baseVariables()}
}

// freezeBase builds the var, local and pipeline objects once, when they are final (after the
// variables, locals and pipeline block are decoded), so that evaluating each of many nodes does
// not rebuild them.
func (p *Pipeline) freezeBase() { p.base = p.baseVariables() }

// baseVariables are the var, local and pipeline objects.
func (p *Pipeline) baseVariables() map[string]cty.Value {
	return map[string]cty.Value{
		"var":   objectOrEmpty(p.Vars),
		"local": objectOrEmpty(p.Locals),
		"pipeline": cty.ObjectVal(map[string]cty.Value{
			"name": cty.StringVal(p.Name),
			"seed": cty.NumberIntVal(p.Seed),
		}),
	}
}

func objectOrEmpty(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

// stageContext extends the base context with one object per stage kind holding the exposed values
// of the stages s refers to. Referenced stages missing from exposed are unknown. Only referenced
// stages are included, so evaluating a node costs O(its references), not O(pipeline size).
func (p *Pipeline) stageContext(s *Stage, exposed map[string]cty.Value) *hcl.EvalContext {
	ctx := p.baseContext()
	byKind := map[string]map[string]cty.Value{}
	for _, r := range s.Refs {
		t := p.byAddr[r.Target]
		v, ok := exposed[t.Addr]
		if !ok {
			v = cty.DynamicVal
		}
		if byKind[t.Kind.Name()] == nil {
			byKind[t.Kind.Name()] = map[string]cty.Value{}
		}
		byKind[t.Kind.Name()][t.Name] = v
	}
	for kind, m := range byKind {
		ctx.Variables[kind] = cty.ObjectVal(m)
	}
	return ctx
}

// EvalNode evaluates the attributes of a node's stage against the exposed values of other stages
// (stage address => value, see StageValue; missing ones are unknown) and the node's `each`,
// converts each attribute to its declared type and fills in defaults. The result is an object with
// one attribute per declared attribute of the kind.
func (p *Pipeline) EvalNode(n *Node, exposed map[string]cty.Value) (cty.Value, hcl.Diagnostics) {
	ctx := p.stageContext(n.Stage, exposed)
	if each := n.Each(); each != cty.NilVal {
		ctx.Variables["each"] = each
	}
	return evalAttrs(n.Stage, ctx, map[string]cty.Value{})
}

// nodeEval evaluates the nodes of one stage against one set of exposed values, as EvalNode does,
// with one evaluation context (its `each` set per node) and one attribute map for all of them: a
// stage of 100,000 instances does not build 100,000 contexts. Not safe for concurrent use.
type nodeEval struct {
	p       *Pipeline
	exposed map[string]cty.Value
	ctx     *hcl.EvalContext
	attrs   map[string]cty.Value
	each    map[string]cty.Value
}

// newNodeEval returns the evaluator of the nodes of s against exposed.
func (p *Pipeline) newNodeEval(s *Stage, exposed map[string]cty.Value) *nodeEval {
	return &nodeEval{p: p, exposed: exposed, ctx: p.stageContext(s, exposed), attrs: make(map[string]cty.Value, len(s.attrSpecs())),
		each: make(map[string]cty.Value, 2)}
}

// eval is EvalNode(n, exposed) for a node of the evaluator's stage.
func (e *nodeEval) eval(n *Node) (cty.Value, hcl.Diagnostics) {
	if n.eachValue != cty.NilVal {
		// n.Each() without a new map of attributes each time (ObjectVal copies them)
		e.each["key"], e.each["value"] = cty.StringVal(n.Key), n.eachValue
		e.ctx.Variables["each"] = cty.ObjectVal(e.each)
	} else {
		delete(e.ctx.Variables, "each")
	}
	cfg, diags := evalAttrs(n.Stage, e.ctx, e.attrs)
	if len(diags) > 0 {
		// A diagnostic keeps the context it was found in (to show the values involved), which the
		// next node would change: evaluate again in a context of its own.
		return e.p.EvalNode(n, e.exposed)
	}
	return cfg, nil
}

// evalAttrs evaluates the attributes of s in ctx (see EvalNode); attrs is scratch space.
func evalAttrs(s *Stage, ctx *hcl.EvalContext, attrs map[string]cty.Value) (cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	for _, spec := range s.attrSpecs() {
		a, present := s.Attrs[spec.Name]
		if !present {
			v := spec.Default
			if v == cty.NilVal {
				v = cty.NullVal(spec.Type)
			}
			attrs[spec.Name] = v
			continue
		}
		v, vdiags := a.Expr.Value(ctx)
		diags = append(diags, vdiags...)
		if vdiags.HasErrors() {
			attrs[spec.Name] = cty.UnknownVal(spec.Type)
			continue
		}
		conv, err := convertValue(v, spec.Type)
		if err != nil {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Incorrect attribute value type",
				Detail:  fmt.Sprintf("Inappropriate value for attribute %q: %s. Change the value to %s.", spec.Name, err, friendlyType(spec.Type)),
				Subject: a.Expr.Range().Ptr(), Expression: a.Expr, EvalContext: ctx})
			attrs[spec.Name] = cty.UnknownVal(spec.Type)
			continue
		}
		attrs[spec.Name] = conv
	}
	return cty.ObjectVal(attrs), diags
}

func friendlyType(t cty.Type) string {
	if t == cty.DynamicPseudoType {
		return "any value"
	}
	return "a " + t.FriendlyName()
}

// Params returns the canonical JSON of every attribute of an evaluated stage configuration that is
// part of the cache key, by attribute name. It fails when a value is still unknown.
func Params(s *Stage, cfg cty.Value) (map[string]string, error) {
	specs := s.attrSpecs()
	out := make(map[string]string, len(specs)+1)
	if _, err := keyParams(s, cfg, false, func(i int, js string) { out[specs[i].Name] = js }); err != nil {
		return nil, err
	}
	return out, nil
}

// KeyParams is Params for a node's key: known is false, with no error, when any attribute of cfg
// (in the key or not) is not wholly known yet, so that the key must wait for upstream nodes. It
// walks each value once where `cfg.IsWhollyKnown()` followed by Params walked it twice.
func KeyParams(s *Stage, cfg cty.Value) (params map[string]string, known bool, err error) {
	if !cfg.IsKnown() || cfg.IsNull() {
		return nil, false, nil
	}
	specs := s.attrSpecs()
	out := make(map[string]string, len(specs)+1)
	if known, err = keyParams(s, cfg, true, func(i int, js string) { out[specs[i].Name] = js }); !known || err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// KeyComponents is KeyParams adding each parameter to comp, the components of a node's key, as
// "param.NAME" = its JSON. When known is false or err is not nil, comp is unchanged.
func KeyComponents(s *Stage, cfg cty.Value, comp map[string]string) (known bool, err error) {
	if !cfg.IsKnown() || cfg.IsNull() {
		return false, nil
	}
	return keyParams(s, cfg, true, func(i int, js string) { comp[s.paramComponent(i)] = js })
}

// keyParams computes the JSON of every attribute of cfg in the key and, when all of them are
// known (see KeyParams; Params when all is false), hands each to put with its index in
// s.attrSpecs(). The texts are slices of one string.
func keyParams(s *Stage, cfg cty.Value, all bool, put func(i int, js string)) (bool, error) {
	specs := s.attrSpecs()
	type span struct{ i, from, to int }
	var spanSpace [16]span
	spans := spanSpace[:0]
	buf := make([]byte, 0, 512)
	for i, spec := range specs {
		v := cfg.GetAttr(spec.Name)
		if spec.NotInKey {
			if all && !whollyKnown(v) {
				return false, nil
			}
			continue
		}
		from := len(buf)
		b, ok := appendJSON(buf, v)
		if !ok {
			if !whollyKnown(v) {
				if all {
					return false, nil
				}
				return false, fmt.Errorf("%s: attribute %q is not known yet", s.Addr, spec.Name)
			}
			js, err := marshalParam(v)
			if err != nil {
				return false, fmt.Errorf("%s: encoding attribute %q: %w", s.Addr, spec.Name, err)
			}
			b = append(buf[:from], js...)
		}
		buf = b
		spans = append(spans, span{i, from, len(buf)})
	}
	text := string(buf)
	for _, sp := range spans {
		put(sp.i, text[sp.from:sp.to])
	}
	return true, nil
}

// toInt64 converts a known whole number value to int64.
func toInt64(v cty.Value) (int64, error) {
	v, err := convert.Convert(v, cty.Number)
	if err != nil {
		return 0, err
	}
	if v.IsNull() || !v.IsKnown() {
		return 0, fmt.Errorf("the value is null or unknown")
	}
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		return 0, fmt.Errorf("%s is not a whole number", bf.Text('g', 10))
	}
	i, acc := bf.Int64()
	if acc != big.Exact {
		return 0, fmt.Errorf("%s is out of range", bf.Text('g', 20))
	}
	return i, nil
}

// convertValue is convert.Convert with a fast path for the common case of a tuple whose elements
// already have the target list's element type: cty's general conversion unifies element types with
// a sort that dominates the load time of pipelines with thousands of references in one list.
func convertValue(v cty.Value, ty cty.Type) (cty.Value, error) {
	if !ty.IsListType() || !v.IsKnown() || v.IsNull() || !v.Type().IsTupleType() || v.LengthInt() == 0 {
		return convert.Convert(v, ty)
	}
	ety := ty.ElementType()
	elems := make([]cty.Value, 0, v.LengthInt())
	for e := range ctyelem.Values(v) {
		switch {
		case e.Type().Equals(ety):
			elems = append(elems, e)
		case !e.IsKnown() && e.Type() == cty.DynamicPseudoType:
			elems = append(elems, cty.UnknownVal(ety))
		default:
			return convert.Convert(v, ty)
		}
	}
	return cty.ListVal(elems), nil
}
