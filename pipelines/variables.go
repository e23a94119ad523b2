package pipelines

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// variable is one declared variable while loading.
type variable struct {
	name        string
	typ         cty.Type
	def         cty.Value
	hasDefault  bool
	declRange   hcl.Range
	validations []validation
}

type validation struct {
	condition hcl.Expression
	message   string
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "type"}, {Name: "default"}, {Name: "description"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "condition", Required: true}, {Name: "error_message", Required: true},
}}

// decodeVariables decodes the variable blocks, then applies values from var files, the environment
// (PCAMFLOW_VAR_name) and -var flags, in that order of precedence (last wins), and runs validations.
func (p *Pipeline) decodeVariables(blocks []*hcl.Block, opt Options) hcl.Diagnostics {
	var diags hcl.Diagnostics
	vars := map[string]*variable{}
	for _, b := range blocks {
		v, vdiags := decodeVariable(b)
		diags = append(diags, vdiags...)
		if v == nil {
			continue
		}
		if prev, dup := vars[v.name]; dup {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate variable",
				Detail: fmt.Sprintf("Variable %q is already declared at %s; remove or rename one.", v.name, posOf(prev.declRange)), Subject: b.LabelRanges[0].Ptr()})
			continue
		}
		vars[v.name] = v
	}
	values := map[string]cty.Value{}
	for _, f := range opt.VarFiles {
		diags = append(diags, p.readVarFile(f, vars, values)...)
	}
	if opt.Getenv != nil {
		for name, v := range vars {
			if raw := opt.Getenv("PCAMFLOW_VAR_" + name); raw != "" {
				val, err := parseVarValue(raw, v.typ)
				if err != nil {
					values[name] = cty.DynamicVal // given, but wrong: not "no value" as well
					diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable " + name,
						Detail: fmt.Sprintf("The environment variable PCAMFLOW_VAR_%s: %s", name, v.wrongValue(err))})
					continue
				}
				values[name] = val
			}
		}
	}
	for _, assign := range opt.Vars {
		diags = append(diags, applyCLIVar(assign, vars, values)...)
	}
	for _, name := range sortedKeys(vars) {
		diags = append(diags, p.resolveVariable(vars[name], values)...)
	}
	return diags
}

// decodeVariable reads one variable block.
func decodeVariable(b *hcl.Block) (*variable, hcl.Diagnostics) {
	v := &variable{name: b.Labels[0], typ: cty.DynamicPseudoType, declRange: b.DefRange}
	content, diags := b.Body.Content(variableSchema)
	if !validName(v.name) || v.name == "pipeline" {
		diags = diags.Append(invalidName("variable", v.name, b.LabelRanges[0]))
	}
	if a, ok := content.Attributes["type"]; ok {
		ty, tdiags := typeexpr.TypeConstraint(a.Expr)
		if tdiags.HasErrors() {
			for _, d := range tdiags {
				d.Detail += " Valid types are string, number, bool, list(T), map(T), set(T), object({...}), tuple([...]) and any."
			}
		}
		diags = append(diags, tdiags...)
		v.typ = ty
	}
	if a, ok := content.Attributes["default"]; ok {
		val, vdiags := a.Expr.Value(&hcl.EvalContext{Functions: funcs})
		diags = append(diags, vdiags...)
		if !vdiags.HasErrors() {
			conv, err := convert.Convert(val, v.typ)
			if err != nil {
				diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid default value for variable",
					Detail: fmt.Sprintf("The default of %q does not match its type %s: %s.", v.name, v.typ.FriendlyName(), err), Subject: a.Expr.Range().Ptr()})
			} else {
				v.def, v.hasDefault = conv, true
			}
		}
	}
	for _, vb := range content.Blocks {
		vc, vdiags := vb.Body.Content(validationSchema)
		diags = append(diags, vdiags...)
		if vdiags.HasErrors() {
			continue
		}
		msg, mdiags := vc.Attributes["error_message"].Expr.Value(nil)
		if mdiags.HasErrors() || msg.Type() != cty.String || msg.IsNull() {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid error_message",
				Detail: "error_message must be a literal string explaining the rule.", Subject: vc.Attributes["error_message"].Expr.Range().Ptr()})
			continue
		}
		v.validations = append(v.validations, validation{condition: vc.Attributes["condition"].Expr, message: msg.AsString()})
	}
	return v, diags
}

// readVarFile reads "name = value" attributes from an HCL file into values.
func (p *Pipeline) readVarFile(path string, vars map[string]*variable, values map[string]cty.Value) hcl.Diagnostics {
	src, err := os.ReadFile(path)
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read variable file",
			Detail: fmt.Sprintf("%s. Check the -var-file path.", err)}}
	}
	p.Source[path] = src
	if diags := CheckSource(path, src); diags.HasErrors() {
		return diags
	}
	f, diags := hclsyntax.ParseConfig(src, path, hcl.Pos{Line: 1, Column: 1})
	if diags.HasErrors() {
		return diags
	}
	attrs, adiags := f.Body.JustAttributes()
	diags = append(diags, adiags...)
	for _, name := range sortedKeys(attrs) {
		a := attrs[name]
		v, ok := vars[name]
		if !ok {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Undeclared variable",
				Detail:  fmt.Sprintf("The variable file sets %q, which the pipeline does not declare.%s Declare it with a variable block or remove it.", name, DidYouMean(name, sortedKeys(vars))),
				Subject: a.NameRange.Ptr()})
			continue
		}
		val, vdiags := a.Expr.Value(&hcl.EvalContext{Functions: funcs})
		diags = append(diags, vdiags...)
		if vdiags.HasErrors() {
			continue
		}
		conv, err := convert.Convert(val, v.typ)
		if err != nil {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
				Detail: fmt.Sprintf("Variable %q must be %s: %s.", name, v.typ.FriendlyName(), err), Subject: a.Expr.Range().Ptr()})
			continue
		}
		values[name] = conv
	}
	return diags
}

// applyCLIVar applies one -var name=value assignment.
func applyCLIVar(assign string, vars map[string]*variable, values map[string]cty.Value) hcl.Diagnostics {
	name, raw, ok := strings.Cut(assign, "=")
	if !ok || name == "" {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid -var option",
			Detail: fmt.Sprintf("%q is not of the form name=value, e.g. -var epochs=10.", assign)}}
	}
	v, declared := vars[name]
	if !declared {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Undeclared variable",
			Detail: fmt.Sprintf("-var sets %q, which the pipeline does not declare.%s", name, DidYouMean(name, sortedKeys(vars)))}}
	}
	val, err := parseVarValue(raw, v.typ)
	if err != nil {
		values[name] = cty.DynamicVal // given, but wrong: not "no value" as well
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid value for variable " + name,
			Detail: fmt.Sprintf("-var %s=%s: %s", name, shorten(raw), v.wrongValue(err))}}
	}
	values[name] = val
	return nil
}

// wrongValue completes the sentence about a value given for v on the command line or in the
// environment: what is wrong, what v requires and an example.
func (v *variable) wrongValue(err error) string {
	return fmt.Sprintf("%s, which variable %q (declared at %s) requires; for example -var %s=%s.",
		err, v.name, posOf(v.declRange), v.name, exampleOf(v.typ))
}

// exampleOf is a command-line value of type ty.
func exampleOf(ty cty.Type) string {
	switch {
	case ty == cty.Number:
		return "10"
	case ty == cty.Bool:
		return "true"
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		if (ty.IsListType() || ty.IsSetType()) && ty.ElementType() == cty.Number {
			return "'[1, 2]'"
		}
		return `'["a", "b"]'`
	case ty.IsMapType() || ty.IsObjectType():
		return `'{ a = 1 }'`
	}
	return "VALUE"
}

// shorten quotes s for a message, cut to 60 characters.
func shorten(s string) string {
	if r := []rune(s); len(r) > 60 {
		return strconv.Quote(string(r[:60])) + "…"
	}
	return strconv.Quote(s)
}

// notA says that raw is not a value of type ty.
func notA(raw string, ty cty.Type) error {
	switch ty {
	case cty.Number:
		return fmt.Errorf("the value %s is not a number", shorten(raw))
	case cty.Bool:
		return fmt.Errorf("the value %s is not true or false", shorten(raw))
	}
	return fmt.Errorf("the value %s is not a valid %s (write it in HCL syntax, with strings in double quotes)", shorten(raw), ty.FriendlyName())
}

// parseVarValue turns a command-line string into a value of type ty: strings are taken literally,
// anything else is parsed as an HCL expression (so -var 'sizes=[1, 2]' works).
func parseVarValue(raw string, ty cty.Type) (cty.Value, error) {
	if ty == cty.String {
		return cty.StringVal(raw), nil
	}
	if diags := checkExpressionSource("<value>", []byte(raw)); diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("the value is refused: %s: %s", strings.ToLower(diags[0].Summary), strings.TrimSuffix(diags[0].Detail, "."))
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), "<value>", hcl.Pos{Line: 1, Column: 1})
	var val cty.Value
	if !diags.HasErrors() {
		val, diags = expr.Value(&hcl.EvalContext{Functions: funcs})
	}
	if diags.HasErrors() {
		if ty == cty.DynamicPseudoType {
			return cty.StringVal(raw), nil
		}
		return cty.NilVal, notA(raw, ty)
	}
	conv, err := convert.Convert(val, ty)
	if err != nil {
		if ty.IsPrimitiveType() {
			return cty.NilVal, notA(raw, ty)
		}
		return cty.NilVal, fmt.Errorf("%s: %s", notA(raw, ty), err)
	}
	return conv, nil
}

// resolveVariable settles a variable's value and checks its validations.
func (p *Pipeline) resolveVariable(v *variable, values map[string]cty.Value) hcl.Diagnostics {
	val, ok := values[v.name]
	if ok && val == cty.DynamicVal { // a value was given but is wrong (reported): nothing more to say
		p.Vars[v.name] = val
		return nil
	}
	if !ok {
		if !v.hasDefault {
			return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "No value for required variable",
				Detail:  fmt.Sprintf("Variable %q has no default. Set it with -var %s=VALUE, a -var-file, or add a default.", v.name, v.name),
				Subject: v.declRange.Ptr()}}
		}
		val = v.def
	}
	p.Vars[v.name] = val
	var diags hcl.Diagnostics
	ctx := &hcl.EvalContext{Functions: funcs, Variables: map[string]cty.Value{
		"var": cty.ObjectVal(map[string]cty.Value{v.name: val})}}
	for _, rule := range v.validations {
		res, cdiags := rule.condition.Value(ctx)
		if cdiags.HasErrors() {
			diags = append(diags, cdiags...)
			continue
		}
		if res.Type() != cty.Bool || res.IsNull() || !res.IsKnown() {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid validation condition",
				Detail: "A validation condition must be true or false.", Subject: rule.condition.Range().Ptr()})
			continue
		}
		if res.False() {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable " + v.name,
				Detail: rule.message, Subject: rule.condition.Range().Ptr()})
		}
	}
	return diags
}
