package evaluate

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/predict"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/stages/modelref"
)

// Built-in slice families (keys of slices) and their accepted values.
const (
	sliceBrightness = "brightness" // "auto": tertiles of brightness
	sliceTissue     = "tissue"     // "auto": tertiles of tissue fraction
	sliceStain      = "stain"      // "auto": tertiles of haematoxylin and of eosin density
	sliceSlide      = "slide"      // "auto" or "meta.wsi": one slice per whole-slide image
	sliceCentre     = "centre"     // "auto" (Camelyon17 patient numbering) or "meta.wsi:REGEX"
	sliceAudit      = "audit"      // "auto" or the path of a data_audit report.json
)

var builtinSlices = []string{sliceBrightness, sliceTissue, sliceStain, sliceSlide, sliceCentre, sliceAudit}

// defaultSlices is the default of slices: every built-in family that applies.
var defaultSlices = cty.MapVal(map[string]cty.Value{
	sliceBrightness: cty.StringVal("auto"), sliceTissue: cty.StringVal("auto"), sliceStain: cty.StringVal("auto"),
	sliceSlide: cty.StringVal("auto"), sliceCentre: cty.StringVal("auto"), sliceAudit: cty.StringVal("auto"),
})

// Attrs implements stages.Kind.
func (Kind) Attrs() []stages.Attr {
	return []stages.Attr{
		{Name: "model", Type: cty.DynamicPseudoType, Required: true, Doc: `The model to evaluate: train.NAME, train.NAME["SEED"] or sweep.NAME.champion (a model with seeds is evaluated as the mean prediction of its seeds).`},
		{Name: "dataset", Type: cty.DynamicPseudoType, Default: cty.NullVal(cty.DynamicPseudoType),
			Doc: "dataset.NAME or data_audit.NAME.clean; default: the data the model was trained on, when its reference says."},
		{Name: "threshold", Type: cty.DynamicPseudoType, Default: cty.NullVal(cty.DynamicPseudoType),
			Doc: "threshold.NAME or a probability in [0, 1]; default 0.5."},
		{Name: "split", Type: cty.String, Default: cty.StringVal(string(pcam.Test)), Doc: `The split to evaluate on.`},
		{Name: "beta", Type: cty.Number, Default: cty.NumberIntVal(2), Doc: "Beta of the F-beta score reported."},
		{Name: "baselines", Type: cty.DynamicPseudoType,
			Default: cty.ObjectVal(map[string]cty.Value{"majority": cty.True, "colour_logistic": cty.True}),
			Doc:     "{ majority = true, colour_logistic = true, NAME = MODEL_REFERENCE, ... }: baselines on the same split."},
		{Name: "bootstrap", Type: cty.Number, Default: cty.NumberIntVal(1000), Doc: "Bootstrap resamples for the 95% intervals (0: none)."},
		{Name: "slices", Type: cty.Map(cty.String), Default: defaultSlices,
			Doc: `Slice families: brightness, tissue, stain ("auto"), slide ("auto"/"meta.wsi"), centre ("auto"/"meta.wsi:REGEX"), audit ("auto"/a data_audit report), or NAME = "file.csv" (columns index or id, and slice).`},
		{Name: "min_slice_count", Type: cty.Number, Default: cty.NumberIntVal(50), Doc: "Smallest slice that can be named the worst slice."},
		{Name: "worst_by", Type: cty.String, Default: cty.StringVal("roc_auc"), Doc: "The metric that names the worst slice (lowest value; brier and ece: highest)."},
		{Name: "montage", Type: cty.Number, Default: cty.NumberIntVal(16), Doc: "Most confident false negatives and false positives shown (0: no montages)."},
		{Name: "calibration_bins", Type: cty.Number, Default: cty.NumberIntVal(10), Doc: "Equal-width bins of the reliability diagram and the ECE."},
		{Name: "colour_train_limit", Type: cty.Number, Default: cty.NumberIntVal(20000),
			Doc: "Train patches (evenly spaced) the colour baseline is fitted on (0: all)."},
		{Name: "batch_size", Type: cty.Number, Default: cty.NumberIntVal(256), NotInKey: true, Doc: "Patches predicted at a time; results do not depend on it."},
	}
}

// metricNames are the metrics of Values in report order, and worst_by's choices.
var metricNames = []string{"roc_auc", "pr_auc", "f_beta", "precision", "recall", "specificity", "accuracy", "brier", "ece"}

// config is a decoded configuration.
type config struct {
	model        modelref.Model
	split        pcam.Split
	threshold    float64
	thrSource    string
	beta         float64
	majority     bool
	colour       bool
	refBaselines []refBaseline
	bootstrap    int
	slices       map[string]string
	minCount     int
	worstBy      string
	montage      int
	bins         int
	colourLimit  int
	batch        int
}

// refBaseline is a baseline given as a model reference.
type refBaseline struct {
	name  string
	model modelref.Model
}

// configError is a configuration problem tied to an attribute.
type configError struct{ attr, msg string }

func (e *configError) Error() string { return e.attr + ": " + e.msg }

// intAttr reads a whole-number attribute within [lo, hi].
func intAttr(cfg cty.Value, name string, lo, hi int, errs *[]*configError) int {
	v := cfg.GetAttr(name)
	if !v.IsKnown() || v.IsNull() {
		return 0
	}
	var n int
	if err := gocty.FromCtyValue(v, &n); err != nil || n < lo || n > hi {
		*errs = append(*errs, &configError{name, fmt.Sprintf("must be a whole number from %d to %d", lo, hi)})
	}
	return n
}

// decode checks and converts the configuration. Unknown values are skipped (validation and
// planning); complete is true when every value was known.
func decode(cfg cty.Value) (*config, []*configError) {
	var errs []*configError
	c := &config{}
	if s := cfg.GetAttr("split"); s.IsKnown() && !s.IsNull() {
		c.split = pcam.Split(s.AsString())
		if !slices.Contains(pcam.Splits, c.split) {
			errs = append(errs, &configError{"split", fmt.Sprintf("%q is not a split; use \"test\" (or \"valid\", \"train\")", s.AsString())})
		}
	}
	if mv := cfg.GetAttr("model"); mv.IsWhollyKnown() {
		m, err := modelref.Of(mv)
		if err != nil {
			errs = append(errs, &configError{"model", err.Error()})
		}
		c.model = m
	}
	c.decodeThreshold(cfg.GetAttr("threshold"), &errs)
	if b := cfg.GetAttr("beta"); b.IsKnown() && !b.IsNull() {
		if c.beta, _ = b.AsBigFloat().Float64(); !(c.beta >= 0) || math.IsInf(c.beta, 0) {
			errs = append(errs, &configError{"beta", fmt.Sprintf("%v must be a number >= 0", c.beta)})
		}
	}
	c.decodeBaselines(cfg.GetAttr("baselines"), &errs)
	c.bootstrap = intAttr(cfg, "bootstrap", 0, 100000, &errs)
	c.minCount = intAttr(cfg, "min_slice_count", 1, math.MaxInt32, &errs)
	c.montage = intAttr(cfg, "montage", 0, 256, &errs)
	c.bins = intAttr(cfg, "calibration_bins", 1, 1000, &errs)
	c.colourLimit = intAttr(cfg, "colour_train_limit", 0, math.MaxInt32, &errs)
	c.batch = intAttr(cfg, "batch_size", 1, predict.MaxBatch, &errs)
	if w := cfg.GetAttr("worst_by"); w.IsKnown() && !w.IsNull() {
		if c.worstBy = w.AsString(); !slices.Contains(metricNames, c.worstBy) {
			errs = append(errs, &configError{"worst_by", fmt.Sprintf("%q is not a metric; use one of %q", c.worstBy, metricNames)})
		}
	}
	c.decodeSlices(cfg.GetAttr("slices"), &errs)
	return c, errs
}

// decodeThreshold accepts a threshold reference or a probability.
func (c *config) decodeThreshold(v cty.Value, errs *[]*configError) {
	c.threshold, c.thrSource = 0.5, "0.5 (the default; no threshold given)"
	switch {
	case !v.IsWhollyKnown() || v.IsNull():
		return
	case v.Type() == cty.Number:
		c.threshold, _ = v.AsBigFloat().Float64()
		c.thrSource = "given as a number"
	case v.Type().IsObjectType() && v.Type().HasAttribute("kind") && v.GetAttr("kind").AsString() == "threshold" && v.Type().HasAttribute("value"):
		tv := v.GetAttr("value")
		if tv.IsNull() || tv.Type() != cty.Number {
			*errs = append(*errs, &configError{"threshold", "the threshold reference has no value"})
			return
		}
		c.threshold, _ = tv.AsBigFloat().Float64()
		c.thrSource = "threshold stage"
		if m := v.GetAttr("method"); m.IsKnown() && !m.IsNull() && m.Type() == cty.String {
			c.thrSource += " (" + m.AsString() + ")"
		}
	default:
		*errs = append(*errs, &configError{"threshold", "expected threshold.NAME or a probability such as 0.5"})
		return
	}
	if !(c.threshold >= 0 && c.threshold <= 1) {
		*errs = append(*errs, &configError{"threshold", fmt.Sprintf("%v is outside [0, 1]: a decision threshold is a probability", c.threshold)})
	}
}

// decodeBaselines reads { majority = bool, colour_logistic = bool, NAME = model reference }.
func (c *config) decodeBaselines(v cty.Value, errs *[]*configError) {
	if !v.IsWhollyKnown() || v.IsNull() {
		return
	}
	if !v.Type().IsObjectType() && !v.Type().IsMapType() {
		*errs = append(*errs, &configError{"baselines", "expected an object such as { majority = true, colour_logistic = true, base = train.NAME }"})
		return
	}
	m := v.AsValueMap()
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		b := m[name]
		switch {
		case name == "majority" || name == "colour_logistic":
			if b.IsNull() || b.Type() != cty.Bool {
				*errs = append(*errs, &configError{"baselines", fmt.Sprintf("%s must be true or false", name)})
				continue
			}
			if name == "majority" {
				c.majority = b.True()
			} else {
				c.colour = b.True()
			}
		default:
			ref, err := modelref.Of(b)
			if err != nil {
				*errs = append(*errs, &configError{"baselines", fmt.Sprintf("%s: %v (the built-in baselines are majority and colour_logistic)", name, err)})
				continue
			}
			c.refBaselines = append(c.refBaselines, refBaseline{name: name, model: ref})
		}
	}
}

// decodeSlices checks the slice specifications.
func (c *config) decodeSlices(v cty.Value, errs *[]*configError) {
	if !v.IsWhollyKnown() || v.IsNull() {
		return
	}
	c.slices = map[string]string{}
	for name, sv := range v.AsValueMap() {
		spec := sv.AsString()
		c.slices[name] = spec
		bad := func(want string) {
			*errs = append(*errs, &configError{"slices", fmt.Sprintf("%s = %q: %s", name, spec, want)})
		}
		switch name {
		case sliceBrightness, sliceTissue, sliceStain:
			if spec != "auto" {
				bad(`use "auto" (or leave the family out)`)
			}
		case sliceSlide:
			if spec != "auto" && spec != "meta.wsi" {
				bad(`use "auto" or "meta.wsi"`)
			}
		case sliceCentre:
			if re, ok := strings.CutPrefix(spec, "meta.wsi:"); ok {
				if r, err := regexp.Compile(re); err != nil || r.NumSubexp() < 1 {
					bad("the regular expression after meta.wsi: must compile and have a capture group, e.g. \"meta.wsi:^(center_[0-9])\"")
				}
			} else if spec != "auto" {
				bad(`use "auto" or "meta.wsi:REGEX" (the first capture group names the centre)`)
			}
		case sliceAudit:
			if spec != "auto" && !strings.HasSuffix(spec, ".json") {
				bad(`use "auto" or a data_audit report (data_audit.NAME.report)`)
			}
		default:
			if !strings.HasSuffix(strings.ToLower(spec), ".csv") {
				bad(fmt.Sprintf("a user slice is a CSV file with columns index (or id) and slice; the built-in families are %q", builtinSlices))
			}
		}
	}
}

// userCSVs returns the user slice files, sorted by family name.
func (c *config) userCSVs() []string {
	var out []string
	for _, name := range c.sliceNames() {
		if !slices.Contains(builtinSlices, name) {
			out = append(out, c.slices[name])
		}
	}
	return out
}

// sliceNames returns the slice families in a fixed order: built-ins first, then user ones.
func (c *config) sliceNames() []string {
	var out, user []string
	for _, b := range builtinSlices {
		if _, ok := c.slices[b]; ok {
			out = append(out, b)
		}
	}
	for name := range c.slices {
		if !slices.Contains(builtinSlices, name) {
			user = append(user, name)
		}
	}
	sort.Strings(user)
	return append(out, user...)
}
