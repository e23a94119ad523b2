package train

import (
	"fmt"
	"math"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/pcamflow/pcamflow/model"
)

// PCAM channel statistics, the default normalisation.
var (
	pcamMean = []float64{0.70, 0.54, 0.69}
	pcamStd  = []float64{0.24, 0.28, 0.21}
)

func optional(attrs map[string]cty.Type) cty.Type {
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	return cty.ObjectWithOptionalAttrs(attrs, names)
}

var (
	modelType = optional(map[string]cty.Type{
		"arch": cty.String, "hidden_units": cty.List(cty.Number), "activation": cty.String, "dropout": cty.Number,
		"channels": cty.List(cty.Number), "pooling": cty.String, "batch_norm": cty.Bool, "head_units": cty.List(cty.Number),
	})
	optimizerType = optional(map[string]cty.Type{
		"name": cty.String, "learning_rate": cty.Number, "momentum": cty.Number, "weight_decay": cty.Number,
		"beta1": cty.Number, "beta2": cty.Number, "eps": cty.Number,
	})
	schedulerType = optional(map[string]cty.Type{
		"name": cty.String, "factor": cty.Number, "patience": cty.Number, "threshold": cty.Number, "cooldown": cty.Number,
		"min_lr": cty.Number, "step_size": cty.Number, "gamma": cty.Number, "t_max": cty.Number, "eta_min": cty.Number,
	})
	normalizeType = optional(map[string]cty.Type{"mean": cty.List(cty.Number), "std": cty.List(cty.Number)})
	augmentType   = optional(map[string]cty.Type{"flips": cty.Bool, "rotations": cty.Bool})
	earlyType     = optional(map[string]cty.Type{"metric": cty.String, "patience": cty.Number, "min_delta": cty.Number})
)

// options is everything the training loop needs besides the network.
type options struct {
	Epochs, BatchSize, Limit, ValLimit int
	Sampler                            string
	Flips, Rotations                   bool
	Monitor                            string
	Beta                               float64
	EarlyMetric                        string
	EarlyPatience                      int
	EarlyMinDelta                      float64
	Threads                            int
}

// decodeError locates a configuration problem at an attribute.
type decodeError struct {
	attr string
	msg  string
}

func (e *decodeError) Error() string { return e.attr + ": " + e.msg }

func fail(attr, format string, a ...any) error {
	return &decodeError{attr: attr, msg: fmt.Sprintf(format, a...)}
}

// getter reads optional attributes of an object value.
type getter struct {
	v    cty.Value
	attr string
	err  error
}

func (g *getter) num(name string, def float64) float64 {
	if g.err != nil || g.v.IsNull() {
		return def
	}
	a := g.v.GetAttr(name)
	if a.IsNull() {
		return def
	}
	f, _ := a.AsBigFloat().Float64()
	if math.IsNaN(f) || math.IsInf(f, 0) {
		g.err = fail(g.attr, "%s must be a finite number", name)
	}
	return f
}

func (g *getter) int(name string, def int) int {
	f := g.num(name, float64(def))
	if g.err == nil && f != math.Trunc(f) {
		g.err = fail(g.attr, "%s must be a whole number, not %v", name, f)
	}
	return int(f)
}

func (g *getter) str(name, def string) string {
	if g.err != nil || g.v.IsNull() {
		return def
	}
	a := g.v.GetAttr(name)
	if a.IsNull() {
		return def
	}
	return a.AsString()
}

func (g *getter) boolean(name string, def bool) bool {
	if g.err != nil || g.v.IsNull() {
		return def
	}
	a := g.v.GetAttr(name)
	if a.IsNull() {
		return def
	}
	return a.True()
}

func (g *getter) ints(name string) []int {
	if g.err != nil || g.v.IsNull() {
		return nil
	}
	a := g.v.GetAttr(name)
	if a.IsNull() {
		return nil
	}
	var out []int
	if err := gocty.FromCtyValue(a, &out); err != nil {
		g.err = fail(g.attr, "%s must be a list of whole numbers", name)
	}
	return out
}

func (g *getter) floats(name string) []float64 {
	if g.err != nil || g.v.IsNull() {
		return nil
	}
	a := g.v.GetAttr(name)
	if a.IsNull() {
		return nil
	}
	var out []float64
	if err := gocty.FromCtyValue(a, &out); err != nil {
		g.err = fail(g.attr, "%s must be a list of numbers", name)
	}
	return out
}

// decode turns an evaluated train configuration into the model config (seed not set) and the loop
// options, validating both.
func decode(cfg cty.Value) (model.Config, options, error) {
	var mc model.Config
	var opt options
	m := &getter{v: cfg.GetAttr("model"), attr: "model"}
	mc.Arch = m.str("arch", model.ArchMLP)
	mc.HiddenUnits = m.ints("hidden_units")
	if mc.Arch == model.ArchMLP && (m.v.IsNull() || m.v.GetAttr("hidden_units").IsNull()) {
		mc.HiddenUnits = []int{128}
	}
	mc.Activation = m.str("activation", "relu")
	mc.Dropout = m.num("dropout", 0)
	mc.Channels = m.ints("channels")
	if mc.Arch == model.ArchCNN && len(mc.Channels) == 0 {
		mc.Channels = []int{16, 32}
	}
	mc.Pooling = m.str("pooling", "")
	mc.BatchNorm = m.boolean("batch_norm", false)
	mc.HeadUnits = m.ints("head_units")
	if m.err != nil {
		return mc, opt, m.err
	}
	o := &getter{v: cfg.GetAttr("optimizer"), attr: "optimizer"}
	mc.Optimizer = model.OptimizerConfig{Name: o.str("name", "adam"), LearningRate: o.num("learning_rate", 1e-3),
		Momentum: o.num("momentum", 0), WeightDecay: o.num("weight_decay", 0), Beta1: o.num("beta1", 0),
		Beta2: o.num("beta2", 0), Eps: o.num("eps", 0)}
	if o.err != nil {
		return mc, opt, o.err
	}
	s := &getter{v: cfg.GetAttr("scheduler"), attr: "scheduler"}
	mc.Scheduler = model.SchedulerConfig{Name: s.str("name", "none"), Factor: s.num("factor", 0), Cooldown: s.int("cooldown", 0),
		MinLR: s.num("min_lr", 0), StepSize: s.int("step_size", 0), Gamma: s.num("gamma", 0), TMax: s.int("t_max", 0), EtaMin: s.num("eta_min", 0)}
	if !s.v.IsNull() && !s.v.GetAttr("patience").IsNull() {
		p := s.int("patience", 0)
		mc.Scheduler.Patience = &p
	}
	if !s.v.IsNull() && !s.v.GetAttr("threshold").IsNull() {
		t := s.num("threshold", 0)
		mc.Scheduler.Threshold = &t
	}
	if s.err != nil {
		return mc, opt, s.err
	}
	n := &getter{v: cfg.GetAttr("normalize"), attr: "normalize"}
	mc.Normalize = model.Normalize{Mean: n.floats("mean"), Std: n.floats("std")}
	if n.v.IsNull() {
		mc.Normalize = model.Normalize{Mean: pcamMean, Std: pcamStd}
	}
	if n.err != nil {
		return mc, opt, n.err
	}
	top := &getter{v: cfg, attr: ""}
	mc.ClipNorm = top.num("clip_norm", 0)
	mc.PosWeight = top.num("pos_weight", 1)
	opt.Epochs, opt.BatchSize = top.int("epochs", 5), top.int("batch_size", 128)
	opt.Limit, opt.ValLimit = top.int("limit", 0), top.int("val_limit", 0)
	opt.Sampler, opt.Monitor, opt.Beta = top.str("sampler", "shuffle"), top.str("monitor", "val_roc_auc"), top.num("beta", 2)
	opt.Threads = top.int("threads", 0)
	if top.err != nil {
		return mc, opt, top.err
	}
	a := &getter{v: cfg.GetAttr("augment"), attr: "augment"}
	opt.Flips, opt.Rotations = a.boolean("flips", false), a.boolean("rotations", false)
	e := &getter{v: cfg.GetAttr("early_stopping"), attr: "early_stopping"}
	if !e.v.IsNull() {
		opt.EarlyMetric, opt.EarlyPatience, opt.EarlyMinDelta = e.str("metric", "val_loss"), e.int("patience", 3), e.num("min_delta", 0)
	}
	if e.err != nil {
		return mc, opt, e.err
	}
	return mc, opt, validate(mc, opt)
}

// validate checks ranges and names, naming the attribute at fault.
func validate(mc model.Config, opt options) error {
	switch {
	case opt.Epochs < 1 || opt.Epochs > 100000:
		return fail("epochs", "must be from 1 to 100000, not %d", opt.Epochs)
	case opt.BatchSize < 1 || opt.BatchSize > 65536:
		return fail("batch_size", "must be from 1 to 65536, not %d", opt.BatchSize)
	case opt.Limit < 0:
		return fail("limit", "must be >= 0 (0 uses the whole split)")
	case opt.ValLimit < 0:
		return fail("val_limit", "must be >= 0 (0 uses the whole split)")
	case opt.Sampler != "weighted" && opt.Sampler != "shuffle" && opt.Sampler != "sequential":
		return fail("sampler", `must be "weighted", "shuffle" or "sequential", not %q`, opt.Sampler)
	case !isMetric(opt.Monitor):
		return fail("monitor", "must be one of %v, not %q", monitorMetrics, opt.Monitor)
	case opt.EarlyMetric != "" && !isMetric(opt.EarlyMetric):
		return fail("early_stopping", "metric must be one of %v, not %q", monitorMetrics, opt.EarlyMetric)
	case opt.EarlyMetric != "" && opt.EarlyPatience < 1:
		return fail("early_stopping", "patience must be at least 1")
	case !(opt.Beta > 0):
		return fail("beta", "must be positive")
	}
	if err := mc.Defaults().Validate(); err != nil {
		return fail("model", "%v", err)
	}
	return nil
}

// monitorMetrics can be monitored for the best checkpoint and early stopping.
var monitorMetrics = []string{"val_roc_auc", "val_f_beta", "val_accuracy", "val_loss"}

func isMetric(name string) bool {
	for _, m := range monitorMetrics {
		if m == name {
			return true
		}
	}
	return false
}

// better reports whether a improves on b for metric (losses go down, the rest up).
func better(metric string, a, b, minDelta float64) bool {
	if math.IsNaN(b) {
		return !math.IsNaN(a)
	}
	if metric == "val_loss" {
		return a < b-minDelta
	}
	return a > b+minDelta
}
