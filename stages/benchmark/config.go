package benchmark

import (
	"fmt"
	"math/big"
	"path/filepath"
	"slices"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/predict"
	"github.com/pcamflow/pcamflow/stages/dataset"
	"github.com/pcamflow/pcamflow/stages/modelref"
)

// Limits of the numeric settings.
const (
	maxImages  = 10_000_000
	maxThreads = 4096
)

// config is a decoded, checked configuration.
type config struct {
	model     *modelref.Model
	command   []string
	collect   []string // results.json paths of the collected nodes, in order
	batches   []int
	images    int
	warmup    int
	threads   int
	data      *dataset.View
	split     pcam.Split
	partition string
	nodeType  string
}

// configError is a configuration problem tied to an attribute.
type configError struct {
	attr, msg string
}

func (e *configError) Error() string { return e.attr + ": " + e.msg }

// wholeNumber converts a known number attribute; ok is false when it is not a whole number in
// [lo, hi].
func wholeNumber(v cty.Value, lo, hi int) (int, bool) {
	if v.IsNull() || !v.IsKnown() {
		return 0, false
	}
	bf := v.AsBigFloat()
	i, acc := bf.Int64()
	if !bf.IsInt() || acc != big.Exact || i < int64(lo) || i > int64(hi) {
		return 0, false
	}
	return int(i), true
}

// present reports whether an attribute has a value (or is not known yet, which counts as set).
func present(v cty.Value) bool { return !v.IsKnown() || !v.IsNull() }

// check returns every problem of cfg that can be seen with the values known so far.
func check(cfg cty.Value) []*configError {
	var errs []*configError
	mv, cv, col := cfg.GetAttr("model"), cfg.GetAttr("command"), cfg.GetAttr("collect")
	var set []string
	for _, a := range []struct {
		name string
		v    cty.Value
	}{{"model", mv}, {"command", cv}, {"collect", col}} {
		if present(a.v) {
			set = append(set, a.name)
		}
	}
	switch len(set) {
	case 0:
		errs = append(errs, &configError{"model", `the benchmark measures nothing: set model (a model reference such as train.NAME), ` +
			`command (a program printing JSON lines) or collect (benchmark stages to combine)`})
	case 1:
	default:
		errs = append(errs, &configError{set[1], fmt.Sprintf("%s and %s cannot both be set: a benchmark node measures one engine "+
			"(model or command) or combines other stages (collect); split it into two benchmark blocks", set[0], set[1])})
	}
	if mv.IsWhollyKnown() && !mv.IsNull() {
		if _, err := modelref.Of(mv); err != nil {
			errs = append(errs, &configError{"model", err.Error()})
		}
	}
	if cv.IsWhollyKnown() && !cv.IsNull() {
		argv := strs(cv)
		if len(argv) == 0 || argv[0] == "" {
			errs = append(errs, &configError{"command", `the command is empty; give the program and its arguments, e.g. command = ["python3", "examples/bench_torch.py", "--arch", "mlp"]`})
		}
	}
	if col.IsWhollyKnown() && !col.IsNull() {
		if _, err := collected(col); err != nil {
			errs = append(errs, &configError{"collect", err.Error()})
		}
	}
	if bs := cfg.GetAttr("batch_sizes"); bs.IsWhollyKnown() && !bs.IsNull() {
		if bs.LengthInt() == 0 {
			errs = append(errs, &configError{"batch_sizes", "the list is empty; give at least one batch size, e.g. [1, 8, 32, 128]"})
		}
		seen := map[int]bool{}
		for it := bs.ElementIterator(); it.Next(); {
			_, e := it.Element()
			n, ok := wholeNumber(e, 1, predict.MaxBatch)
			if !ok {
				errs = append(errs, &configError{"batch_sizes", fmt.Sprintf("%s is not a batch size: each must be a whole number from 1 to %d", e.AsBigFloat().Text('g', 10), predict.MaxBatch)})
				break
			}
			if seen[n] {
				errs = append(errs, &configError{"batch_sizes", fmt.Sprintf("batch size %d is listed twice; list each once", n)})
				break
			}
			seen[n] = true
		}
	}
	for _, a := range []struct {
		name   string
		lo, hi int
	}{{"images", 1, maxImages}, {"warmup", 0, maxImages}, {"threads", 0, maxThreads}} {
		v := cfg.GetAttr(a.name)
		if !v.IsKnown() {
			continue
		}
		if _, ok := wholeNumber(v, a.lo, a.hi); !ok {
			errs = append(errs, &configError{a.name, fmt.Sprintf("must be a whole number from %d to %d", a.lo, a.hi)})
		}
	}
	dv := cfg.GetAttr("data")
	if dv.IsWhollyKnown() && !dv.IsNull() {
		if _, err := dataset.ViewOf(dv); err != nil {
			errs = append(errs, &configError{"data", err.Error()})
		}
	}
	if present(dv) && !dv.IsNull() && present(col) && !col.IsNull() {
		errs = append(errs, &configError{"data", "collect measures nothing, so it reads no data; remove data"})
	}
	if s := cfg.GetAttr("split"); s.IsKnown() && !s.IsNull() && !slices.Contains(pcam.Splits, pcam.Split(s.AsString())) {
		errs = append(errs, &configError{"split", fmt.Sprintf("%q is not a split; use \"train\", \"valid\" or \"test\"", s.AsString())})
	}
	if p := cfg.GetAttr("partition"); p.IsKnown() && !p.IsNull() && strings.ContainsAny(p.AsString(), " \t\n,'\"") {
		errs = append(errs, &configError{"partition", fmt.Sprintf("%q is not a Slurm partition name", p.AsString())})
	}
	return errs
}

// strs converts a known list of strings.
func strs(v cty.Value) []string {
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	out := []string{}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() || !e.IsKnown() {
			out = append(out, "")
			continue
		}
		out = append(out, e.AsString())
	}
	return out
}

// collected walks a collect value: a benchmark stage's value, a for_each stage's object of them,
// or a list or tuple of either; it returns the results.json path of every node, in order.
func collected(v cty.Value) ([]string, error) {
	const want = "collect takes benchmark stages: benchmark.NAME (every instance of a for_each stage) or a list of them, e.g. collect = [benchmark.native, benchmark.torch]"
	if v.IsNull() {
		return nil, fmt.Errorf("%s", want)
	}
	ty := v.Type()
	switch {
	case ty.IsObjectType() && ty.HasAttribute("kind"):
		k := v.GetAttr("kind")
		if !k.IsKnown() || k.IsNull() || k.Type() != cty.String || k.AsString() != "benchmark" {
			return nil, fmt.Errorf("%s; this is not one", want)
		}
		r := v.GetAttr("results")
		if !r.IsKnown() || r.IsNull() {
			return nil, fmt.Errorf("%s", want)
		}
		return []string{r.AsString()}, nil
	case ty.IsObjectType() || ty.IsMapType() || ty.IsListType() || ty.IsTupleType():
		var out []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			paths, err := collected(e)
			if err != nil {
				return nil, err
			}
			out = append(out, paths...)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s; it holds none", want)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s", want)
}

// decode converts a wholly known configuration.
func decode(cfg cty.Value) (*config, error) {
	if errs := check(cfg); len(errs) > 0 {
		return nil, errs[0]
	}
	c := &config{split: pcam.Split(cfg.GetAttr("split").AsString()), partition: cfg.GetAttr("partition").AsString(),
		nodeType: cfg.GetAttr("node_type").AsString()}
	if mv := cfg.GetAttr("model"); !mv.IsNull() {
		m, _ := modelref.Of(mv)
		c.model = &m
	}
	if cv := cfg.GetAttr("command"); !cv.IsNull() {
		c.command = strs(cv)
	}
	if col := cfg.GetAttr("collect"); !col.IsNull() {
		c.collect, _ = collected(col)
	}
	for it := cfg.GetAttr("batch_sizes").ElementIterator(); it.Next(); {
		_, e := it.Element()
		n, _ := wholeNumber(e, 1, predict.MaxBatch)
		c.batches = append(c.batches, n)
	}
	c.images, _ = wholeNumber(cfg.GetAttr("images"), 1, maxImages)
	c.warmup, _ = wholeNumber(cfg.GetAttr("warmup"), 0, maxImages)
	c.threads, _ = wholeNumber(cfg.GetAttr("threads"), 0, maxThreads)
	if dv := cfg.GetAttr("data"); !dv.IsNull() {
		v, _ := dataset.ViewOf(dv)
		c.data = &v
	}
	return c, nil
}

// inputs returns the project files whose content is part of the key: checkpoints written by hand
// (a model object with relative paths) and the scripts a command names.
func inputs(cfg cty.Value) (in, optional []string) {
	if mv := cfg.GetAttr("model"); mv.IsWhollyKnown() && !mv.IsNull() {
		if m, err := modelref.Of(mv); err == nil {
			in = m.ProjectFiles()
		}
	}
	if cv := cfg.GetAttr("command"); cv.IsWhollyKnown() && !cv.IsNull() {
		for _, arg := range strs(cv) {
			if looksLikeFile(arg) {
				optional = append(optional, filepath.Clean(arg))
			}
		}
	}
	return in, optional
}

// looksLikeFile says whether a command argument names a project file (a script), whose content
// then belongs to the key when it exists.
func looksLikeFile(arg string) bool {
	if arg == "" || strings.HasPrefix(arg, "-") || filepath.IsAbs(arg) || strings.Contains(arg, "..") {
		return false
	}
	return strings.Contains(arg, "/") || strings.Contains(arg, ".")
}
