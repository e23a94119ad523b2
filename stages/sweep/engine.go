package sweep

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/pcamflow/pcamflow/hpo"
)

// The engine decides which trials run, with which values, to which budget, and which stop early.
// It is deterministic under asynchrony: every decision is a pure function of the seed and of the
// results of earlier trials, never of the order in which trials happen to finish.
//
//   - Trial i is proposed from the observations of trials 0 .. i-parallel, in index order; it waits
//     for them when they have not finished. So at most `parallel` trials are in flight, a freed
//     slot (the lowest unfinished trial finishing) lets the next trial start, and the proposals do
//     not depend on timing.
//   - ASHA: a trial runs to each rung of its budget ladder (hpo.ASHA.Rungs) in turn; at rung k it
//     is compared with the trials j <= i that have a value at rung k (it waits until every earlier
//     trial either has one or has finished below rung k) and continues only in their top
//     1/reduction_factor (hpo.ASHA.Promote). Otherwise it is pruned at that rung.
//   - In waves (Slurm: every exec call is one job array) trials are proposed in waves of
//     `parallel` (random and grid: one wave of all trials); each rung of a wave is one exec call.
//     The decisions are exactly those of the asynchronous schedule.

// request asks for one trial's child to run to a budget (0: the trial's full configuration).
type request struct {
	Trial  int
	Point  hpo.Point
	Budget int
}

// result is what became of a request.
type result struct {
	Failed error
	// Value is the objective (as reported, not negated) at the end of the run; Curve its value per
	// epoch; Epochs the epochs run.
	Value  float64
	Curve  []float64
	Epochs int
	// Handle identifies the child for prune and outputs (opaque to the engine).
	Handle any
}

// Trial states in tables.
const (
	stateComplete = "complete"
	statePruned   = "pruned"
	stateFailed   = "failed"
)

// trial is the engine's record of one trial.
type trial struct {
	Index   int
	Point   hpo.Point
	State   string // "" while running
	Value   float64
	Curve   []float64
	Epochs  int
	Rungs   []int
	Err     error
	Last    result // the last run's result
	started bool

	rungVals []float64 // minimised objective at rung k
}

// engine runs a sweep's trials.
type engine struct {
	n        int
	parallel int
	sampler  hpo.Sampler
	history  bool // the sampler uses the history (TPE)
	maximize bool
	asha     *hpo.ASHA
	// maxEpochs returns the epochs of the trial's full configuration (for its rungs).
	maxEpochs func(p hpo.Point) int
	waves     bool
	exec      func(ctx context.Context, reqs []request) ([]result, error)
	prune     func(ctx context.Context, t *trial, note string) error
	// progress is told whenever a trial starts or finishes.
	progress func(trials []*trial)

	mu     sync.Mutex
	cond   *sync.Cond
	trials []*trial
	err    error
}

// minimised turns an objective into the value samplers and ASHA minimise (NaN stays NaN).
func (e *engine) minimised(v float64) float64 {
	if e.maximize {
		return -v
	}
	return v
}

// run runs every trial and returns them in index order.
func (e *engine) run(ctx context.Context) ([]*trial, error) {
	e.cond = sync.NewCond(&e.mu)
	e.trials = make([]*trial, e.n)
	for i := range e.trials {
		e.trials[i] = &trial{Index: i, Value: math.NaN()}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		e.mu.Lock()
		e.cond.Broadcast()
		e.mu.Unlock()
	})
	defer stop()
	if e.waves {
		e.runWaves(ctx)
	} else {
		var wg sync.WaitGroup
		for i := range e.n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := e.runTrial(ctx, i); err != nil {
					e.fail(err)
					cancel()
				}
			}()
		}
		wg.Wait()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err == nil && ctx.Err() != nil {
		e.err = fmt.Errorf("interrupted: %w", context.Cause(ctx))
	}
	return e.trials, e.err
}

func (e *engine) fail(err error) {
	e.mu.Lock()
	if e.err == nil {
		e.err = err
	}
	e.cond.Broadcast()
	e.mu.Unlock()
}

// waitLocked waits (holding e.mu) until cond holds or ctx ends.
func (e *engine) waitLocked(ctx context.Context, cond func() bool) error {
	for !cond() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if e.err != nil {
			return e.err
		}
		e.cond.Wait()
	}
	return nil
}

// historyFor returns the observations trial i is proposed from (trials 0 .. i-parallel, which
// must have finished), in index order; nil for samplers that ignore the history. A pruned trial's
// Step is the epochs it ran, the epoch at which it reported its value (hpo.Observation), so TPE
// ranks the trials pruned at a later rung before those pruned earlier, as Optuna does.
func (e *engine) historyFor(i int) []hpo.Observation {
	if !e.history {
		return nil
	}
	var h []hpo.Observation
	for j := 0; j <= i-e.parallel; j++ {
		t := e.trials[j]
		o := hpo.Observation{Point: t.Point, Value: e.minimised(t.Value)}
		switch t.State {
		case statePruned:
			o.State, o.Step = hpo.Pruned, t.Epochs
		case stateFailed:
			o.State, o.Value = hpo.Failed, math.NaN()
		}
		h = append(h, o)
	}
	return h
}

// propose proposes trial i (e.mu held; its history has finished).
func (e *engine) propose(i int) error {
	p, err := e.sampler.Propose(i, e.historyFor(i))
	if err != nil {
		return fmt.Errorf("proposing trial %d: %w", i, err)
	}
	t := e.trials[i]
	t.Point, t.started = p, true
	if e.asha != nil {
		a := *e.asha
		a.MaxEpochs = e.maxEpochs(p)
		t.Rungs = a.Rungs()
	}
	return nil
}

// finish records a trial's end (e.mu held).
func (e *engine) finish(t *trial, state string, r result) {
	t.State, t.Last = state, r
	t.Curve, t.Epochs = r.Curve, r.Epochs
	if state == stateFailed {
		t.Value, t.Err = math.NaN(), r.Failed
	} else {
		t.Value = r.Value
	}
	e.cond.Broadcast()
}

// promoteLocked decides whether trial t continues after rung k (e.mu held; every trial before it
// has a value at rung k or has finished).
func (e *engine) promoteLocked(t *trial, k int) bool {
	var vals []float64
	for j := 0; j <= t.Index; j++ {
		if rv := e.trials[j].rungVals; len(rv) > k {
			vals = append(vals, rv[k])
		}
	}
	return e.asha.Promote(vals, t.rungVals[k])
}

// rungKnownLocked reports whether every trial before i has a value at rung k or has finished.
func (e *engine) rungKnownLocked(i, k int) bool {
	for j := range i {
		t := e.trials[j]
		if t.State == "" && len(t.rungVals) <= k {
			return false
		}
	}
	return true
}

// report tells progress about a snapshot of the trials (taken under the lock).
func (e *engine) report() {
	if e.progress == nil {
		return
	}
	e.mu.Lock()
	snap := make([]*trial, len(e.trials))
	for i, t := range e.trials {
		c := *t
		c.rungVals = nil
		snap[i] = &c
	}
	e.mu.Unlock()
	e.progress(snap)
}

// runTrial drives trial i asynchronously (local execution).
func (e *engine) runTrial(ctx context.Context, i int) error {
	e.mu.Lock()
	err := e.waitLocked(ctx, func() bool {
		for j := 0; j <= i-e.parallel; j++ {
			if e.trials[j].State == "" {
				return false
			}
		}
		return true
	})
	if err == nil {
		err = e.propose(i)
	}
	t := e.trials[i]
	e.mu.Unlock()
	if err != nil {
		return err
	}
	e.report()
	for k, budget := range t.Rungs {
		rs, err := e.exec(ctx, []request{{Trial: i, Point: t.Point, Budget: budget}})
		if err != nil {
			return err
		}
		r := rs[0]
		e.mu.Lock()
		if r.Failed != nil {
			e.finish(t, stateFailed, r)
			e.mu.Unlock()
			e.report()
			return nil
		}
		t.Last = r
		t.rungVals = append(t.rungVals, e.minimised(r.Value))
		e.cond.Broadcast()
		if err := e.waitLocked(ctx, func() bool { return e.rungKnownLocked(i, k) }); err != nil {
			e.mu.Unlock()
			return err
		}
		promoted := e.promoteLocked(t, k)
		e.mu.Unlock()
		if !promoted {
			return e.pruneTrial(ctx, t, k, r)
		}
	}
	rs, err := e.exec(ctx, []request{{Trial: i, Point: t.Point}})
	if err != nil {
		return err
	}
	e.mu.Lock()
	if rs[0].Failed != nil {
		e.finish(t, stateFailed, rs[0])
	} else {
		e.finish(t, stateComplete, rs[0])
	}
	e.mu.Unlock()
	e.report()
	return nil
}

// pruneTrial stops trial t at rung k.
func (e *engine) pruneTrial(ctx context.Context, t *trial, k int, r result) error {
	note := fmt.Sprintf("ASHA: pruned at rung %d (epoch %d), not in the top 1/%d of the trials so far", k, t.Rungs[k], e.asha.ReductionFactor)
	e.mu.Lock()
	t.Last = r
	e.mu.Unlock()
	if err := e.prune(ctx, t, note); err != nil {
		return err
	}
	e.mu.Lock()
	e.finish(t, statePruned, r)
	e.mu.Unlock()
	e.report()
	return nil
}

// runWaves runs the trials in waves (Slurm), making the same decisions as the asynchronous schedule.
func (e *engine) runWaves(ctx context.Context) {
	w := e.n
	if e.history {
		w = e.parallel
	}
	for start := 0; start < e.n; start += w {
		if err := e.wave(ctx, start, min(start+w, e.n)); err != nil {
			e.fail(err)
			return
		}
	}
}

// wave runs trials [from, to): proposals, then one exec call per rung of the wave.
func (e *engine) wave(ctx context.Context, from, to int) error {
	e.mu.Lock()
	for i := from; i < to; i++ {
		if err := e.propose(i); err != nil {
			e.mu.Unlock()
			return err
		}
	}
	e.mu.Unlock()
	e.report()
	active := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		active = append(active, i)
	}
	for k := 0; len(active) > 0; k++ {
		reqs := make([]request, len(active))
		for j, i := range active {
			t := e.trials[i]
			reqs[j] = request{Trial: i, Point: t.Point}
			if k < len(t.Rungs) {
				reqs[j].Budget = t.Rungs[k]
			}
		}
		rs, err := e.exec(ctx, reqs)
		if err != nil {
			return err
		}
		var atRung []int
		e.mu.Lock()
		for j, i := range active {
			t, r := e.trials[i], rs[j]
			switch {
			case r.Failed != nil:
				e.finish(t, stateFailed, r)
			case k >= len(t.Rungs):
				e.finish(t, stateComplete, r)
			default:
				t.Last = r
				t.rungVals = append(t.rungVals, e.minimised(r.Value))
				atRung = append(atRung, i)
			}
		}
		var next []int
		var pruned []int
		for _, i := range atRung {
			if e.promoteLocked(e.trials[i], k) {
				next = append(next, i)
			} else {
				pruned = append(pruned, i)
			}
		}
		e.mu.Unlock()
		for _, i := range pruned {
			t := e.trials[i]
			if err := e.pruneTrial(ctx, t, k, t.Last); err != nil {
				return err
			}
		}
		e.report()
		active = next
	}
	return nil
}

// errNoChampion is returned when no trial completed.
var errNoChampion = errors.New("no trial completed, so there is no champion; see the trial table and the trials' logs")

// champion returns the index of the best completed trial (ties: the lowest index), or -1.
func champion(trials []*trial, maximize bool) int {
	best := -1
	for _, t := range trials {
		if t.State != stateComplete || math.IsNaN(t.Value) {
			continue
		}
		if best < 0 || (maximize && t.Value > trials[best].Value) || (!maximize && t.Value < trials[best].Value) {
			best = t.Index
		}
	}
	return best
}
