package sweep

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pcamflow/pcamflow/hpo"
)

// fakeTrials is a fake child executor: a trial's objective at epoch e is a deterministic function
// of its point and e, and every call sleeps a random time so that trials finish in varying order.
type fakeTrials struct {
	mu     sync.Mutex
	rng    *rand.Rand
	calls  [][]request
	pruned []int
	fail   map[int]bool
}

func (f *fakeTrials) value(p hpo.Point, epochs int) []float64 {
	curve := make([]float64, epochs)
	for e := range curve {
		// Better (lower) near x=0.3, improving with epochs.
		curve[e] = math.Abs(p[0]-0.3) + 1/float64(e+2) + 0.01*p[1]
	}
	return curve
}

func (f *fakeTrials) exec(ctx context.Context, reqs []request) ([]result, error) {
	f.mu.Lock()
	f.calls = append(f.calls, reqs)
	d := time.Duration(f.rng.Intn(3000)) * time.Microsecond
	f.mu.Unlock()
	time.Sleep(d)
	out := make([]result, len(reqs))
	for i, q := range reqs {
		if f.fail[q.Trial] {
			out[i] = result{Failed: fmt.Errorf("trial %d fails", q.Trial), Value: math.NaN()}
			continue
		}
		epochs := q.Budget
		if epochs == 0 {
			epochs = 9
		}
		c := f.value(q.Point, epochs)
		out[i] = result{Value: c[len(c)-1], Curve: c, Epochs: epochs}
	}
	return out, nil
}

func (f *fakeTrials) prune(_ context.Context, t *trial, _ string) error {
	f.mu.Lock()
	f.pruned = append(f.pruned, t.Index)
	f.mu.Unlock()
	return nil
}

var testSpace = hpo.Space{
	{Name: "x", Kind: hpo.Uniform, Low: 0, High: 1},
	{Name: "k", Kind: hpo.IntUniform, Low: 1, High: 4},
}

// table renders the trials for comparison.
func table(trials []*trial) string {
	var b strings.Builder
	for _, t := range trials {
		fmt.Fprintf(&b, "%d %v %s %.6g %d\n", t.Index, t.Point, t.State, t.Value, t.Epochs)
	}
	return b.String()
}

func runEngine(t *testing.T, sampler string, waves bool, asha bool, seed int64, fail map[int]bool) (string, *fakeTrials) {
	t.Helper()
	f := &fakeTrials{rng: rand.New(rand.NewSource(seed)), fail: fail}
	var smp hpo.Sampler
	switch sampler {
	case "tpe":
		smp = hpo.NewTPE(testSpace, 7, hpo.TPEOptions{StartupTrials: 4})
	case "random":
		smp = hpo.NewRandom(testSpace, 7)
	}
	e := &engine{n: 14, parallel: 3, sampler: smp, history: sampler == "tpe", waves: waves, exec: f.exec, prune: f.prune,
		maxEpochs: func(hpo.Point) int { return 9 }, progress: func(ts []*trial) { _ = champion(ts, false) }}
	if asha {
		e.asha = &hpo.ASHA{MinEpochs: 1, ReductionFactor: 3}
	}
	trials, err := e.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return table(trials), f
}

// TestEngineDeterministic checks that the trial table does not depend on the order in which
// trials finish, and that waves (Slurm) make exactly the decisions of the asynchronous schedule.
func TestEngineDeterministic(t *testing.T) {
	for _, tc := range []struct {
		sampler string
		asha    bool
		fail    map[int]bool
	}{
		{"tpe", false, nil},
		{"tpe", true, nil},
		{"random", true, map[int]bool{2: true}},
		{"tpe", true, map[int]bool{5: true}},
	} {
		t.Run(fmt.Sprintf("%s asha=%v fail=%v", tc.sampler, tc.asha, tc.fail), func(t *testing.T) {
			want, _ := runEngine(t, tc.sampler, false, tc.asha, 1, tc.fail)
			for seed := int64(2); seed < 5; seed++ {
				if got, _ := runEngine(t, tc.sampler, false, tc.asha, seed, tc.fail); got != want {
					t.Fatalf("local schedule %d differs:\n%s\nwant\n%s", seed, got, want)
				}
			}
			got, f := runEngine(t, tc.sampler, true, tc.asha, 9, tc.fail)
			if got != want {
				t.Fatalf("waves differ from the asynchronous schedule:\n%s\nwant\n%s", got, want)
			}
			// Waves: TPE one exec call per rung of each wave of `parallel` trials; random one wave.
			for _, c := range f.calls {
				if tc.sampler == "tpe" && len(c) > 3 {
					t.Errorf("a TPE wave of %d trials, more than parallel = 3", len(c))
				}
			}
			if tc.sampler == "random" && len(f.calls[0]) != 14 {
				t.Errorf("random: the first wave has %d trials, want all 14", len(f.calls[0]))
			}
			if tc.asha && !strings.Contains(want, statePruned) {
				t.Errorf("ASHA pruned nothing:\n%s", want)
			}
			if tc.fail != nil && !strings.Contains(want, stateFailed) {
				t.Errorf("no failed trial:\n%s", want)
			}
		})
	}
}

// TestEngineParallelBound checks that at most `parallel` trials are in flight locally.
func TestEngineParallelBound(t *testing.T) {
	var mu sync.Mutex
	inFlight, peak := 0, 0
	e := &engine{n: 12, parallel: 3, sampler: hpo.NewRandom(testSpace, 1), maxEpochs: func(hpo.Point) int { return 1 },
		exec: func(_ context.Context, reqs []request) ([]result, error) {
			mu.Lock()
			inFlight++
			peak = max(peak, inFlight)
			mu.Unlock()
			time.Sleep(2 * time.Millisecond)
			mu.Lock()
			inFlight--
			mu.Unlock()
			return []result{{Value: reqs[0].Point[0], Epochs: 1}}, nil
		}}
	if _, err := e.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if peak > 3 || peak < 2 {
		t.Errorf("peak of %d trials at once, want 2..3 (parallel = 3)", peak)
	}
}

// TestChampion checks the champion choice: best completed trial, ties to the lowest index.
func TestChampion(t *testing.T) {
	ts := []*trial{{Index: 0, State: stateComplete, Value: 0.5}, {Index: 1, State: statePruned, Value: 0.9},
		{Index: 2, State: stateComplete, Value: 0.7}, {Index: 3, State: stateComplete, Value: 0.7}, {Index: 4, State: stateFailed, Value: math.NaN()}}
	if got := champion(ts, true); got != 2 {
		t.Errorf("maximize: champion %d, want 2", got)
	}
	if got := champion(ts, false); got != 0 {
		t.Errorf("minimize: champion %d, want 0", got)
	}
	if got := champion(ts[4:], true); got != -1 {
		t.Errorf("no completed trial: champion %d", got)
	}
}

// BenchmarkEngineTPE measures the sweep's own bookkeeping per trial: a 50-trial TPE sweep (4
// dimensions, 2 at once) whose trials cost nothing, so the time is proposals, waiting and records.
func BenchmarkEngineTPE(b *testing.B) {
	space := hpo.Space{
		{Name: "a", Kind: hpo.LogUniform, Low: 1e-5, High: 1e-1},
		{Name: "b", Kind: hpo.Uniform, Low: 0, High: 1},
		{Name: "c", Kind: hpo.IntUniform, Low: 1, High: 8},
		{Name: "d", Kind: hpo.Choice, Choices: 3},
	}
	for b.Loop() {
		e := &engine{n: 50, parallel: 2, sampler: hpo.NewTPE(space, 1, hpo.TPEOptions{}), history: true,
			maxEpochs: func(hpo.Point) int { return 1 },
			exec: func(_ context.Context, reqs []request) ([]result, error) {
				p := reqs[0].Point
				return []result{{Value: math.Log(p[0]) + p[1] + p[2] + p[3], Epochs: 1}}, nil
			}}
		if _, err := e.run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHistoryForStep checks the history handed to TPE: a pruned trial carries the epochs it ran as
// its Step (so deeper-pruned trials rank first, as in Optuna), failed ones carry NaN, objectives are
// minimised, and only trials 0 .. i-parallel are included.
func TestHistoryForStep(t *testing.T) {
	e := &engine{parallel: 2, history: true, maximize: true, trials: []*trial{
		{Index: 0, Point: hpo.Point{0.1, 1}, State: stateComplete, Value: 0.8, Epochs: 9},
		{Index: 1, Point: hpo.Point{0.2, 2}, State: statePruned, Value: 0.6, Epochs: 1},
		{Index: 2, Point: hpo.Point{0.3, 3}, State: statePruned, Value: 0.5, Epochs: 3},
		{Index: 3, Point: hpo.Point{0.4, 4}, State: stateFailed, Value: math.NaN(), Epochs: 2},
		{Index: 4, Point: hpo.Point{0.5, 1}, State: statePruned, Value: 0.7, Epochs: 3},
	}}
	for _, tc := range []struct {
		i    int
		want []hpo.Observation
	}{
		{1, nil},
		{2, []hpo.Observation{{Point: hpo.Point{0.1, 1}, Value: -0.8, State: hpo.Complete}}},
		{6, []hpo.Observation{
			{Point: hpo.Point{0.1, 1}, Value: -0.8, State: hpo.Complete},
			{Point: hpo.Point{0.2, 2}, Value: -0.6, State: hpo.Pruned, Step: 1},
			{Point: hpo.Point{0.3, 3}, Value: -0.5, State: hpo.Pruned, Step: 3},
			{Point: hpo.Point{0.4, 4}, Value: math.NaN(), State: hpo.Failed},
			{Point: hpo.Point{0.5, 1}, Value: -0.7, State: hpo.Pruned, Step: 3},
		}},
	} {
		got := e.historyFor(tc.i)
		if len(got) != len(tc.want) {
			t.Fatalf("historyFor(%d): %d observations, want %d", tc.i, len(got), len(tc.want))
		}
		for j, o := range got {
			w := tc.want[j]
			same := o.State == w.State && o.Step == w.Step && fmt.Sprint(o.Point) == fmt.Sprint(w.Point) &&
				(o.Value == w.Value || math.IsNaN(o.Value) && math.IsNaN(w.Value))
			if !same {
				t.Errorf("historyFor(%d)[%d] = %+v, want %+v", tc.i, j, o, w)
			}
		}
	}
}
