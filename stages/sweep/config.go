package sweep

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/pcamflow/pcamflow/hpo"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/stages/command"
	"github.com/pcamflow/pcamflow/stages/train"
)

// The kinds a sweep's base may have.
const (
	baseTrain   = "train"
	baseCommand = "command"
)

// trainMetrics are the per-epoch metrics a train node logs (its history.json): the objectives a
// sweep over a train stage may use.
var trainMetrics = []string{"val_roc_auc", "val_loss", "val_f_beta", "val_accuracy", "train_loss"}

// intAttrs are train attribute paths whose values must be whole numbers.
var intAttrs = map[string]bool{"epochs": true, "batch_size": true, "limit": true, "val_limit": true,
	"early_stopping.patience": true, "scheduler.patience": true, "scheduler.step_size": true, "scheduler.t_max": true,
	"scheduler.cooldown": true}

// forbidden are base attributes a sweep may not sample, with the reason.
var forbidden = map[string]map[string]string{
	baseTrain: {"dataset": "the data is the base's", "seeds": "a trial runs with one seed", "threads": "it does not change results",
		"monitor": "the sweep's objective decides"},
	baseCommand: {"outputs": "the sweep gives every trial its own output folder", "run": "sample variables in env instead",
		"description": "it is not part of the configuration"},
}

// dim is one dimension of the space: its parameter path, the hpo dimension and, for a choice, the
// values its indices stand for.
type dim struct {
	Path string
	// Target is the attribute path the value is set at: Path split at its dots, or env.Path for a
	// bare variable name of a command base.
	Target []string
	Dim    hpo.Dim
	Values []cty.Value
}

// settings is a decoded sweep configuration.
type settings struct {
	Sampler   string
	Trials    int
	Parallel  int
	Seed      int64
	Metric    string
	Maximize  bool
	ASHA      *hpo.ASHA // MinEpochs and ReductionFactor; nil without early stopping
	MaxTrials int
	Dims      []dim
	BaseKind  string // "train" or "command" ("" when not known yet)
}

// space returns the hpo space of the dimensions.
func (s *settings) space() hpo.Space {
	sp := make(hpo.Space, len(s.Dims))
	for i, d := range s.Dims {
		sp[i] = d.Dim
	}
	return sp
}

// count is the number of trials: the grid's size for a grid, else trials.
func (s *settings) count() int {
	if s.Sampler == "grid" {
		n, err := hpo.GridSize(s.space())
		if err != nil {
			return 0
		}
		return n
	}
	return s.Trials
}

// problem is a diagnostic under construction.
func problem(at stages.RangeFunc, attr, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: at(attr)}
}

// baseKindOf tells the kind of the base from its exposed value: a train stage exposes a model
// (kind = "model"), a command stage an object holding only its outputs. ok is false when the value
// is not known yet.
func baseKindOf(base cty.Value) (kind string, ok bool) {
	if !base.IsKnown() || base.IsNull() {
		return "", false
	}
	if !base.Type().IsObjectType() {
		return "", true
	}
	if base.Type().HasAttribute("kind") {
		if k := base.GetAttr("kind"); k.IsKnown() && !k.IsNull() && k.Type() == cty.String && k.AsString() == "model" {
			return baseTrain, true
		}
		return "", true
	}
	if len(base.Type().AttributeTypes()) == 1 && base.Type().HasAttribute("outputs") {
		return baseCommand, true
	}
	return "", true
}

// kindAttrs returns the attributes of the base kind.
func kindAttrs(kind string) []stages.Attr {
	switch kind {
	case baseTrain:
		return train.New().Attrs()
	case baseCommand:
		return command.New().Attrs()
	}
	return nil
}

func numAttr(cfg cty.Value, name string) (float64, bool) {
	v := cfg.GetAttr(name)
	if !v.IsKnown() || v.IsNull() {
		return 0, false
	}
	f, _ := v.AsBigFloat().Float64()
	return f, true
}

func intOf(cfg cty.Value, name string) (int, bool) {
	f, ok := numAttr(cfg, name)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<40 {
		return 0, false
	}
	return int(f), true
}

func strAttr(v cty.Value, name string) (string, bool) {
	if !v.IsKnown() || v.IsNull() || !v.Type().IsObjectType() || !v.Type().HasAttribute(name) {
		return "", false
	}
	a := v.GetAttr(name)
	if !a.IsKnown() || a.IsNull() || a.Type() != cty.String {
		return "", false
	}
	return a.AsString(), true
}

// decode checks a sweep configuration (which may hold unknown values while validating) and decodes
// what is known. seed is the pipeline seed, the default of the sweep's seed.
func decode(cfg cty.Value, at stages.RangeFunc, seed int64) (*settings, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	s := &settings{Seed: seed, MaxTrials: 1000, Parallel: 1}
	if !cfg.IsKnown() || cfg.IsNull() {
		return s, nil
	}
	if v, ok := strAttr(cfg, "sampler"); ok {
		switch v {
		case "grid", "random", "tpe":
			s.Sampler = v
		default:
			diags = diags.Append(problem(at, "sampler", "Invalid sampler",
				fmt.Sprintf("sampler must be \"grid\", \"random\" or \"tpe\", not %q.%s", v, pipelines.DidYouMean(v, []string{"grid", "random", "tpe"}))))
		}
	}
	for _, c := range []struct {
		name string
		min  int
		dst  *int
	}{{"trials", 1, &s.Trials}, {"parallel", 1, &s.Parallel}, {"max_trials", 1, &s.MaxTrials}} {
		if f, ok := numAttr(cfg, c.name); ok {
			n, isInt := intOf(cfg, c.name)
			if !isInt || n < c.min {
				diags = diags.Append(problem(at, c.name, "Invalid "+c.name,
					fmt.Sprintf("%s must be a whole number of at least %d, not %s.", c.name, c.min, strconv.FormatFloat(f, 'g', -1, 64))))
				continue
			}
			*c.dst = n
		}
	}
	if v := cfg.GetAttr("seed"); v.IsKnown() && !v.IsNull() {
		var n int64
		if err := gocty.FromCtyValue(v, &n); err != nil {
			diags = diags.Append(problem(at, "seed", "Invalid seed", "seed must be a whole number, e.g. seed = 7."))
		} else {
			s.Seed = n
		}
	}
	if obj := cfg.GetAttr("objective"); obj.IsKnown() && !obj.IsNull() {
		if m, ok := strAttr(obj, "metric"); ok {
			s.Metric = m
		}
		goal, _ := strAttr(obj, "goal")
		switch goal {
		case "maximize":
			s.Maximize = true
		case "minimize", "":
		default:
			diags = diags.Append(problem(at, `objective["goal"]`, "Invalid objective goal",
				fmt.Sprintf("goal must be \"maximize\" or \"minimize\", not %q.%s", goal, pipelines.DidYouMean(goal, []string{"maximize", "minimize"}))))
		}
		if s.Metric == "" {
			diags = diags.Append(problem(at, `objective["metric"]`, "Missing objective metric",
				`Name the metric to optimise, e.g. objective = { metric = "val_roc_auc", goal = "maximize" }.`))
		}
	}
	if es := cfg.GetAttr("early_stopping"); es.IsKnown() && !es.IsNull() {
		method, _ := strAttr(es, "method")
		if method != "asha" {
			diags = diags.Append(problem(at, `early_stopping["method"]`, "Invalid early stopping method",
				fmt.Sprintf("method must be \"asha\", not %q.", method)))
		}
		a := &hpo.ASHA{MinEpochs: 1, ReductionFactor: 3, MaxEpochs: math.MaxInt32}
		for _, c := range []struct {
			name string
			dst  *int
			min  int
		}{{"min_epochs", &a.MinEpochs, 1}, {"reduction_factor", &a.ReductionFactor, 2}} {
			v := es.GetAttr(c.name)
			if v.IsNull() || !v.IsKnown() {
				continue
			}
			f, _ := v.AsBigFloat().Float64()
			if f != math.Trunc(f) || f < float64(c.min) || f > 1e6 {
				diags = diags.Append(problem(at, `early_stopping["`+c.name+`"]`, "Invalid "+c.name,
					fmt.Sprintf("%s must be a whole number of at least %d, not %s.", c.name, c.min, strconv.FormatFloat(f, 'g', -1, 64))))
				continue
			}
			*c.dst = int(f)
		}
		s.ASHA = a
	}

	base := cfg.GetAttr("base")
	kind, known := baseKindOf(base)
	if known && kind == "" {
		diags = diags.Append(problem(at, "base", "Invalid sweep base",
			"base must be a train stage (base = train.NAME) or a command stage whose node writes metrics.json (base = command.NAME)."))
	}
	s.BaseKind = kind
	if kind == baseCommand && s.ASHA != nil {
		diags = diags.Append(problem(at, "early_stopping", "Early stopping needs a train base",
			"ASHA stops trials at epoch budgets and resumes them from their checkpoint, which only train stages can do; remove early_stopping or sweep over a train stage."))
	}
	if kind == baseTrain && s.Metric != "" {
		found := false
		for _, m := range trainMetrics {
			found = found || m == s.Metric
		}
		if !found {
			diags = diags.Append(problem(at, `objective["metric"]`, "Unknown objective metric",
				fmt.Sprintf("A train stage never logs %q; it logs %s per epoch.%s", s.Metric, strings.Join(trainMetrics, ", "),
					pipelines.DidYouMean(s.Metric, trainMetrics))))
		}
	}

	space := cfg.GetAttr("space")
	if space.IsWhollyKnown() && !space.IsNull() {
		ddiags := s.decodeSpace(space, at)
		diags = append(diags, ddiags...)
		if !ddiags.HasErrors() && s.Sampler == "grid" {
			n, err := hpo.GridSize(s.space())
			switch {
			case err != nil:
				diags = diags.Append(problem(at, "space", "Space cannot be gridded",
					strings.ReplaceAll(err.Error(), "\n", "; ")+". Use sampler = \"random\" or \"tpe\", or replace those dimensions by choice() or int_uniform()."))
			case n > s.MaxTrials:
				diags = diags.Append(problem(at, "space", "Grid too large",
					fmt.Sprintf("The grid has %d points, more than max_trials = %d. Narrow the space, use sampler = \"random\" or \"tpe\", or raise max_trials.", n, s.MaxTrials)))
			}
		}
	}
	if s.Sampler != "grid" && s.Trials > s.MaxTrials {
		diags = diags.Append(problem(at, "trials", "Too many trials",
			fmt.Sprintf("trials = %d is more than max_trials = %d; lower trials or raise max_trials.", s.Trials, s.MaxTrials)))
	}
	return s, diags
}

// decodeSpace decodes and checks the space: every key a parameter path of the base kind, every
// value a dimension whose values fit the attribute's type.
func (s *settings) decodeSpace(space cty.Value, at stages.RangeFunc) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if !space.Type().IsObjectType() && !space.Type().IsMapType() {
		return diags.Append(problem(at, "space", "Invalid space",
			`space must be an object of parameter paths, e.g. space = { "optimizer.learning_rate" = log_uniform(1e-4, 1e-2) }.`))
	}
	vals := space.AsValueMap()
	if len(vals) == 0 {
		return diags.Append(problem(at, "space", "Empty space", "Give at least one parameter to search, e.g. epochs = int_uniform(1, 4)."))
	}
	paths := make([]string, 0, len(vals))
	for p := range vals {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	attrs := kindAttrs(s.BaseKind)
	for _, path := range paths {
		where := fmt.Sprintf("space[%q]", path)
		sd, ok := pipelines.DecodeSpaceDim(vals[path])
		if !ok {
			diags = diags.Append(problem(at, where, "Invalid search dimension",
				fmt.Sprintf("The value of %q must be uniform(low, high), log_uniform(low, high), int_uniform(low, high) or choice(v1, v2, ...).", path)))
			continue
		}
		d := dim{Path: path, Target: strings.Split(path, "."), Dim: hpo.Dim{Name: path, Low: sd.Low, High: sd.High}}
		if s.BaseKind == baseCommand && !strings.Contains(path, ".") && !isAttr(attrs, path) {
			d.Target = []string{"env", path} // a bare name is an environment variable of the command
		}
		switch sd.Dist {
		case "uniform":
			d.Dim.Kind = hpo.Uniform
		case "log_uniform":
			d.Dim.Kind = hpo.LogUniform
		case "int_uniform":
			d.Dim.Kind = hpo.IntUniform
		case "choice":
			d.Dim.Kind, d.Dim.Choices, d.Values = hpo.Choice, len(sd.Values), sd.Values
		}
		if attrs != nil {
			target := strings.Join(d.Target, ".")
			ty, msg := pathType(attrs, s.BaseKind, target)
			if msg != "" {
				diags = diags.Append(problem(at, where, "Unknown parameter path", msg))
				continue
			}
			if msg := fits(d, sd, ty, s.BaseKind, target); msg != "" {
				diags = diags.Append(problem(at, where, "Wrong parameter type", msg))
				continue
			}
		}
		s.Dims = append(s.Dims, d)
	}
	if !diags.HasErrors() {
		for _, p := range s.space().Problems() {
			where := "space"
			if p.Index >= 0 {
				where = fmt.Sprintf("space[%q]", p.Name)
			}
			diags = diags.Append(problem(at, where, "Invalid search dimension", p.Error()+"."))
		}
	}
	return diags
}

// pathType returns the type of the attribute at a dotted parameter path of the base kind, or a
// message (with a did-you-mean) when there is none.
func pathType(attrs []stages.Attr, kind, path string) (cty.Type, string) {
	parts := strings.Split(path, ".")
	var names []string
	var ty cty.Type
	found := false
	for _, a := range attrs {
		if why, no := forbidden[kind][a.Name]; no {
			if a.Name == parts[0] {
				return cty.NilType, fmt.Sprintf("%s.%s cannot be searched: %s.", kind, a.Name, why)
			}
			continue
		}
		names = append(names, a.Name)
		if a.Name == parts[0] {
			ty, found = a.Type, true
		}
	}
	if !found {
		return cty.NilType, fmt.Sprintf("A %s stage has no attribute %q.%s Parameter paths name the base stage's attributes, e.g. %q.",
			kind, parts[0], pipelines.DidYouMean(parts[0], names), example(kind))
	}
	for i, p := range parts[1:] {
		prefix := strings.Join(parts[:i+1], ".")
		switch {
		case ty.IsObjectType():
			var sub []string
			for n := range ty.AttributeTypes() {
				sub = append(sub, n)
			}
			sort.Strings(sub)
			if !ty.HasAttribute(p) {
				return cty.NilType, fmt.Sprintf("%s has no attribute %q.%s Its attributes: %s.", prefix, p, pipelines.DidYouMean(p, sub), strings.Join(sub, ", "))
			}
			ty = ty.AttributeType(p)
		case ty.IsMapType():
			ty = ty.ElementType()
		default:
			return cty.NilType, fmt.Sprintf("%s is not an object: the path cannot continue with %q.", prefix, p)
		}
	}
	return ty, ""
}

func isAttr(attrs []stages.Attr, name string) bool {
	for _, a := range attrs {
		if a.Name == name {
			return true
		}
	}
	return false
}

func example(kind string) string {
	if kind == baseCommand {
		return "env.LEARNING_RATE"
	}
	return "optimizer.learning_rate"
}

// fits returns a message when the values of a dimension do not fit the attribute's type.
func fits(d dim, sd pipelines.SpaceDim, ty cty.Type, kind, path string) string {
	if d.Dim.Kind != hpo.Choice {
		isEnv := kind == baseCommand && strings.HasPrefix(path, "env.")
		if ty != cty.Number && ty != cty.DynamicPseudoType && !isEnv {
			return fmt.Sprintf("%s is a %s, but %s() draws numbers; use choice(...) with values of that type.", path, ty.FriendlyName(), sd.Dist)
		}
		if kind == baseTrain && intAttrs[path] && d.Dim.Kind != hpo.IntUniform {
			return fmt.Sprintf("%s takes whole numbers, but %s() draws fractions; use int_uniform(%s, %s).", path, sd.Dist,
				strconv.FormatFloat(math.Ceil(sd.Low), 'g', -1, 64), strconv.FormatFloat(math.Floor(sd.High), 'g', -1, 64))
		}
		return ""
	}
	for i, v := range sd.Values {
		if _, err := convert.Convert(v, ty); err != nil {
			return fmt.Sprintf("choice value %d (%s) does not fit %s, a %s: %v.", i+1, friendly(v), path, ty.FriendlyName(), err)
		}
		if kind == baseTrain && intAttrs[path] {
			if v.Type() != cty.Number || !v.IsKnown() || v.IsNull() || !v.AsBigFloat().IsInt() {
				return fmt.Sprintf("choice value %d (%s) does not fit %s, which takes whole numbers.", i+1, friendly(v), path)
			}
		}
	}
	return ""
}

// friendly renders a small value for a message.
func friendly(v cty.Value) string {
	if s, err := formatValue(v); err == nil {
		return s
	}
	return v.Type().FriendlyName()
}
