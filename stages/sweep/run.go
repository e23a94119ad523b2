package sweep

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/hpo"
	"github.com/pcamflow/pcamflow/stages"
)

// sweepRun is one execution of a sweep node.
type sweepRun struct {
	env      *stages.Env
	s        *settings
	baseAddr string
	base     cty.Value
	name     string // the sweep's name (its address without "sweep.")

	mu       sync.Mutex
	outcomes map[int]stages.ChildOutcome // trial => its last child
	lastLine string
}

// newRun resolves the base stage and its configuration.
func newRun(env *stages.Env, s *settings) (*sweepRun, error) {
	refs, ok := env.Children.(stages.ChildReferents)
	if !ok {
		return nil, errors.New("the runner's Children does not name the base stage (stages.ChildReferents)")
	}
	bases, ok := env.Children.(stages.ChildBases)
	if !ok {
		return nil, errors.New("the runner's Children does not give the base configuration (stages.ChildBases)")
	}
	addr, err := refs.Referent("base")
	if err != nil {
		return nil, fmt.Errorf("base: %w; write base = train.NAME or base = command.NAME", err)
	}
	kind, _, _ := strings.Cut(addr, ".")
	if kind != baseTrain && kind != baseCommand {
		return nil, fmt.Errorf("base %s is a %s stage; a sweep's base must be a train or command stage", addr, kind)
	}
	s.BaseKind = kind
	base, err := bases.BaseConfig(addr)
	if err != nil {
		return nil, err
	}
	name := env.Node
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	name = strings.NewReplacer("[", "_", "]", "", `"`, "").Replace(name)
	return &sweepRun{env: env, s: s, baseAddr: addr, base: base, name: name, outcomes: map[int]stages.ChildOutcome{}}, nil
}

// sampler builds the sweep's sampler.
func (r *sweepRun) sampler() (hpo.Sampler, error) {
	space := r.s.space()
	switch r.s.Sampler {
	case "grid":
		return hpo.NewGrid(space)
	case "random":
		return hpo.NewRandom(space, r.s.Seed), nil
	default:
		return hpo.NewTPE(space, r.s.Seed, hpo.TPEOptions{}), nil
	}
}

// run runs the sweep and writes its outputs.
func (r *sweepRun) run(ctx context.Context) error {
	smp, err := r.sampler()
	if err != nil {
		return err
	}
	n := r.s.count()
	if n < 1 {
		return errors.New("the sweep has no trials")
	}
	waves := false
	if w, ok := r.env.Children.(stages.ChildWaves); ok {
		waves = w.Waves()
	}
	e := &engine{n: n, parallel: r.s.Parallel, sampler: smp, history: r.s.Sampler == "tpe", maximize: r.s.Maximize,
		asha: r.s.ASHA, waves: waves, exec: r.exec, prune: r.prune, progress: r.progress,
		maxEpochs: r.maxEpochs}
	fmt.Fprintf(r.env.Log, "sweep %s over %s: %s sampler, %d trials, %d at once, objective %s (%s), waves %v\n",
		r.env.Node, r.baseAddr, r.s.Sampler, n, r.s.Parallel, r.s.Metric, goalWord(r.s.Maximize), waves)
	trials, err := e.run(ctx)
	if err != nil {
		return err
	}
	return r.write(trials)
}

func goalWord(maximize bool) string {
	if maximize {
		return "maximize"
	}
	return "minimize"
}

// config returns the configuration of the trial at point p.
func (r *sweepRun) config(p hpo.Point) (cty.Value, error) {
	cfg, err := apply(r.base, r.s.Dims, p)
	if err != nil {
		return cty.NilVal, err
	}
	if r.s.BaseKind == baseCommand {
		return trialOutputs(cfg, r.name, pointID(r.s.Dims, p))
	}
	return cfg, nil
}

// maxEpochs is the number of epochs of the trial's full configuration.
func (r *sweepRun) maxEpochs(p hpo.Point) int {
	cfg, err := r.config(p)
	if err != nil || !cfg.Type().IsObjectType() || !cfg.Type().HasAttribute("epochs") {
		return 1
	}
	n, ok := intOf(cfg, "epochs")
	if !ok || n < 1 {
		return 1
	}
	return n
}

// pointID names a point: the first 8 hex digits of the SHA-256 of its parameter values.
func pointID(dims []dim, p hpo.Point) string {
	h := sha256.New()
	for i, d := range dims {
		v, _ := formatValue(d.paramValue(p[i]))
		fmt.Fprintf(h, "%s=%s\n", d.Path, v)
	}
	return hex.EncodeToString(h.Sum(nil))[:8]
}

// trialOutputs gives a command trial its own output folder: every declared output path P becomes
// DIR(P)/SWEEP-ID/BASE(P), and the command gets PCAMFLOW_METRICS (the metrics.json output) and
// PCAMFLOW_TRIAL_DIR in its environment.
func trialOutputs(cfg cty.Value, sweep, id string) (cty.Value, error) {
	attrs := cfg.AsValueMap()
	outs := attrs["outputs"]
	if outs.IsNull() || !outs.IsKnown() {
		return cty.NilVal, errors.New("the command base declares no outputs; declare its metrics.json, e.g. outputs = { metrics = \"results/metrics.json\" }")
	}
	rewrite := func(p string) string {
		return filepath.ToSlash(filepath.Join(filepath.Dir(p), sweep+"-"+id, filepath.Base(p)))
	}
	metrics := ""
	isMetrics := func(name, p string) bool { return name == "metrics" || filepath.Base(p) == "metrics.json" }
	ty := outs.Type()
	var newOuts cty.Value
	switch {
	case ty.IsObjectType() || ty.IsMapType():
		m := map[string]cty.Value{}
		for k, v := range outs.AsValueMap() {
			p := rewrite(v.AsString())
			m[k] = cty.StringVal(p)
			if isMetrics(k, v.AsString()) && (metrics == "" || k == "metrics") {
				metrics = p
			}
		}
		if ty.IsObjectType() {
			newOuts = cty.ObjectVal(m)
		} else {
			newOuts = cty.MapVal(m)
		}
	default:
		var l []cty.Value
		for it := outs.ElementIterator(); it.Next(); {
			_, v := it.Element()
			p := rewrite(v.AsString())
			l = append(l, cty.StringVal(p))
			if isMetrics("", v.AsString()) && metrics == "" {
				metrics = p
			}
		}
		if len(l) == 0 {
			return cty.NilVal, errors.New("the command base declares no outputs; declare its metrics.json")
		}
		newOuts = cty.TupleVal(l)
		if ty.IsListType() {
			newOuts = cty.ListVal(l)
		}
	}
	if metrics == "" {
		return cty.NilVal, errors.New("the command base declares no metrics.json output; declare one, e.g. outputs = { metrics = \"results/metrics.json\" }, and write it")
	}
	attrs["outputs"] = newOuts
	env := map[string]cty.Value{}
	if e := attrs["env"]; !e.IsNull() && e.LengthInt() > 0 {
		env = e.AsValueMap()
	}
	env["PCAMFLOW_METRICS"] = cty.StringVal(metrics)
	env["PCAMFLOW_TRIAL_DIR"] = cty.StringVal(filepath.ToSlash(filepath.Dir(metrics)))
	attrs["env"] = cty.MapVal(env)
	return cty.ObjectVal(attrs), nil
}

// exec runs the children of one batch of requests (one Children.Run call).
func (r *sweepRun) exec(ctx context.Context, reqs []request) ([]result, error) {
	specs := make([]stages.ChildSpec, len(reqs))
	res := make([]result, len(reqs))
	bad := make([]bool, len(reqs))
	var run []stages.ChildSpec
	var idx []int
	for i, q := range reqs {
		cfg, err := r.config(q.Point)
		if err != nil {
			res[i], bad[i] = result{Failed: err, Value: math.NaN()}, true
			continue
		}
		label := "trial " + strconv.Itoa(q.Trial)
		if q.Budget > 0 {
			label += " to epoch " + strconv.Itoa(q.Budget)
		}
		specs[i] = stages.ChildSpec{Base: r.baseAddr, Config: cfg, Seed: r.env.Seed, Budget: q.Budget, Label: label}
		run = append(run, specs[i])
		idx = append(idx, i)
	}
	if len(run) > 0 {
		outs, err := r.env.Children.Run(ctx, run)
		if err != nil {
			return nil, err
		}
		for j, o := range outs {
			i := idx[j]
			res[i] = r.evaluate(o)
			r.mu.Lock()
			r.outcomes[reqs[i].Trial] = o
			r.mu.Unlock()
		}
	}
	return res, nil
}

// evaluate reads a child's objective.
func (r *sweepRun) evaluate(o stages.ChildOutcome) result {
	if o.State == stages.ChildFailed {
		err := o.Err
		if err == nil {
			err = errors.New("the trial failed")
		}
		return result{Failed: err, Value: math.NaN(), Handle: o}
	}
	curve, final, err := readObjective(r.s.BaseKind, r.env.ProjectDir, o.Outputs, r.s.Metric)
	if err != nil {
		return result{Failed: fmt.Errorf("%s: %w", o.Addr, err), Value: math.NaN(), Handle: o}
	}
	v := final
	if math.IsNaN(v) {
		v = bestOf(curve, r.s.Maximize)
	}
	if math.IsNaN(v) {
		return result{Failed: fmt.Errorf("%s: the objective %s is not a number", o.Addr, r.s.Metric), Value: math.NaN(), Handle: o}
	}
	return result{Value: v, Curve: curve, Epochs: len(curve), Handle: o}
}

// bestOf is the best value of a curve (NaN when empty).
func bestOf(curve []float64, maximize bool) float64 {
	best := math.NaN()
	for _, v := range curve {
		if math.IsNaN(v) {
			continue
		}
		if math.IsNaN(best) || (maximize && v > best) || (!maximize && v < best) {
			best = v
		}
	}
	return best
}

// prune records that a trial stops at its rung.
func (r *sweepRun) prune(ctx context.Context, t *trial, note string) error {
	o, ok := t.Last.Handle.(stages.ChildOutcome)
	if !ok {
		return nil
	}
	return r.env.Children.Prune(ctx, o, note)
}

// progress prints one line whenever the counts or the best trial change.
func (r *sweepRun) progress(trials []*trial) {
	var done, running, pruned, failed int
	for _, t := range trials {
		switch t.State {
		case stateComplete:
			done++
		case statePruned:
			pruned++
		case stateFailed:
			failed++
		default:
			if t.started {
				running++
			}
		}
	}
	line := fmt.Sprintf("%s: %d/%d trials done, %d running, %d pruned", r.env.Node, done+pruned+failed, len(trials), running, pruned)
	if failed > 0 {
		line += fmt.Sprintf(", %d failed", failed)
	}
	if b := champion(trials, r.s.Maximize); b >= 0 {
		t := trials[b]
		line += fmt.Sprintf("; best %s %.4g (trial %d: %s)", r.s.Metric, t.Value, b, describePoint(r.s.Dims, t.Point))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if line == r.lastLine {
		return
	}
	r.lastLine = line
	fmt.Fprintf(r.env.Progress, "           %s\n", line)
	fmt.Fprintln(r.env.Log, line)
}

// sortedOutputNames returns the names of a child's outputs in order.
func sortedOutputNames(outs map[string]stages.Output) []string {
	names := make([]string, 0, len(outs))
	for n := range outs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
