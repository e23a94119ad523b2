package hpo

import (
	"math"
	"sort"
	"testing"
)

// quad2 is a 2-d quadratic with its minimum 0 at (0.3, -0.2) on [-1,1]^2.
func quad2(p Point) float64 {
	return (p[0]-0.3)*(p[0]-0.3) + (p[1]+0.2)*(p[1]+0.2)
}

// run drives s for trials proposals on f and returns the best value and the
// history.
func run(t testing.TB, s Sampler, f func(Point) float64, trials int) (float64, []Observation) {
	t.Helper()
	var hist []Observation
	best := math.Inf(1)
	for i := 0; i < trials; i++ {
		p, err := s.Propose(i, hist)
		if err != nil {
			t.Fatal(err)
		}
		v := f(p)
		best = math.Min(best, v)
		hist = append(hist, Observation{Point: p, Value: v})
	}
	return best, hist
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func sameBits(a, b Point) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

func TestTPEBeatsRandomOnQuadratic(t *testing.T) {
	space := Space{{Name: "x", Kind: Uniform, Low: -1, High: 1}, {Name: "y", Kind: Uniform, Low: -1, High: 1}}
	var tb, rb []float64
	wins := 0
	const seeds = 20
	for seed := int64(0); seed < seeds; seed++ {
		a, _ := run(t, NewTPE(space, seed, TPEOptions{}), quad2, 40)
		b, _ := run(t, NewRandom(space, seed), quad2, 40)
		tb, rb = append(tb, a), append(rb, b)
		if a < b {
			wins++
		}
	}
	mt, mr := median(tb), median(rb)
	t.Logf("median best over %d seeds × 40 trials: tpe %.3g, random %.3g; tpe better in %d", seeds, mt, mr, wins)
	if !(mt < mr/3) || wins < seeds*3/4 {
		t.Errorf("TPE is not clearly better than random: median %.3g vs %.3g, better in %d of %d", mt, mr, wins, seeds)
	}
}

func TestTPEDeterministic(t *testing.T) {
	_, hist := run(t, NewRandom(mixed, 3), func(p Point) float64 { return p[0]*p[0] + p[2] - p[3] }, 30)
	for _, opt := range []TPEOptions{{}, {Multivariate: true}, {NormalizedKernels: true, ConsiderEndpoints: true}} {
		a, b := NewTPE(mixed, 11, opt), NewTPE(mixed, 11, opt)
		differ := 0
		for i := 30; i < 40; i++ {
			p, err := a.Propose(i, hist)
			if err != nil {
				t.Fatal(err)
			}
			q, _ := b.Propose(i, append([]Observation(nil), hist...))
			if !sameBits(p, q) {
				t.Fatalf("%+v: trial %d proposed %v then %v from the same inputs", opt, i, p, q)
			}
			again, _ := a.Propose(i, hist) // a sampler keeps no state between calls
			if !sameBits(p, again) {
				t.Fatalf("%+v: a second call for trial %d proposed %v, not %v", opt, i, again, p)
			}
			r, _ := NewTPE(mixed, 12, opt).Propose(i, hist)
			if !sameBits(p, r) {
				differ++
			}
		}
		if differ < 8 {
			t.Errorf("%+v: seeds 11 and 12 proposed the same point in %d of 10 trials", opt, 10-differ)
		}
	}
}

func TestTPEStartupIsRandom(t *testing.T) {
	_, hist := run(t, NewRandom(mixed, 5), func(p Point) float64 { return p[0] }, 9)
	tpe, rnd := NewTPE(mixed, 5, TPEOptions{}), NewRandom(mixed, 5)
	for i := 0; i <= 9; i++ {
		p, _ := tpe.Propose(i, hist[:min(i, len(hist))])
		q, _ := rnd.Propose(i, nil)
		if !sameBits(p, q) {
			t.Fatalf("startup trial %d: tpe %v, random %v", i, p, q)
		}
	}
	// Failed trials do not count towards the startup trials.
	failed := append(append([]Observation(nil), hist...), Observation{Point: hist[0].Point, State: Failed})
	p, _ := tpe.Propose(10, failed)
	q, _ := rnd.Propose(10, nil)
	if !sameBits(p, q) {
		t.Errorf("with 9 usable trials and a failed one TPE left its startup phase")
	}
}

func TestTPEStaysInSpace(t *testing.T) {
	f := func(p Point) float64 { return math.Abs(math.Log10(p[1])+4) + p[3] + math.Abs(p[0]-2.9) }
	for _, opt := range []TPEOptions{{}, {Multivariate: true}, {ConsiderEndpoints: true, NormalizedKernels: true}, {StartupTrials: 1, Candidates: 100}} {
		s := NewTPE(mixed, 9, opt)
		var hist []Observation
		for i := 0; i < 60; i++ {
			p, err := s.Propose(i, hist)
			if err != nil {
				t.Fatal(err)
			}
			checkInSpace(t, mixed, p)
			hist = append(hist, Observation{Point: p, Value: f(p)})
		}
	}
}

func TestTPEConcentratesOnGoodCategory(t *testing.T) {
	s := Space{{Name: "c", Kind: Choice, Choices: 5}, {Name: "n", Kind: IntUniform, Low: -3, High: 3}}
	f := func(p Point) float64 { return math.Abs(p[0]-3) + math.Abs(p[1]-1) }
	_, hist := run(t, NewTPE(s, 1, TPEOptions{}), f, 60)
	hits := 0
	for _, o := range hist[40:] {
		if o.Point[0] == 3 && o.Point[1] == 1 {
			hits++
		}
	}
	if hits < 5 {
		t.Errorf("only %d of the last 20 proposals are the optimum (3, 1); random would hit it about 0.6 times", hits)
	}
}

func TestSplitRanksPrunedAfterComplete(t *testing.T) {
	obs := []ranked{
		{point: Point{0}, group: -2, value: -100}, // pruned at step 2
		{point: Point{1}, group: math.Inf(-1), value: 5},
		{point: Point{2}, group: -3, value: 7}, // pruned at step 3
		{point: Point{3}, group: math.Inf(-1), value: 1},
		{point: Point{4}, group: -3, value: 6},
		{point: Point{5}, group: math.Inf(-1), value: 5}, // ties keep chronological order
	}
	cases := []struct {
		n    int
		want []float64
	}{
		{1, []float64{3}},
		{2, []float64{1, 3}},
		{3, []float64{1, 3, 5}},
		{4, []float64{1, 3, 4, 5}},
		{5, []float64{1, 2, 3, 4, 5}},
		{6, []float64{0, 1, 2, 3, 4, 5}},
	}
	for _, c := range cases {
		below, above := split(obs, c.n)
		var got []float64
		for _, p := range below {
			got = append(got, p[0])
		}
		if len(got) != len(c.want) || len(above) != len(obs)-c.n {
			t.Fatalf("n=%d: below %v (above %d), want %v", c.n, got, len(above), c.want)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Fatalf("n=%d: below %v, want %v (chronological)", c.n, got, c.want)
			}
		}
	}
}

func TestTPEUsableHistory(t *testing.T) {
	s := Space{{Name: "x", Kind: Uniform, Low: 0, High: 1}, {Name: "c", Kind: Choice, Choices: 2}}
	obs, err := usable(s, []Observation{
		{Point: Point{0.5, 1}, Value: 1},
		{Point: Point{0.5, 1}, Value: math.NaN()},                       // dropped: NaN objective
		{Point: Point{0.5, 0}, State: Failed},                           // dropped
		{Point: Point{7, 0}, Value: math.NaN(), State: Pruned, Step: 4}, // kept, clamped, ranked last in its step
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != 2 || obs[1].point[0] != 1 || !math.IsInf(obs[1].value, 1) || obs[1].group != -4 {
		t.Fatalf("usable = %+v", obs)
	}
	bad := []Observation{
		{Point: Point{0.5}},
		{Point: Point{math.NaN(), 0}},
		{Point: Point{0.5, 2}},
		{Point: Point{0.5, 0.5}},
	}
	for _, o := range bad {
		if _, err := usable(s, []Observation{o}); err == nil {
			t.Errorf("point %v accepted", o.Point)
		}
	}
}

// TestTPEHostileHistories throws histories with extreme, infinite and NaN
// values, all-failed and all-pruned trials and degenerate spaces at the
// sampler: it must return a valid point (or an error), never panic.
func TestTPEHostileHistories(t *testing.T) {
	spaces := []Space{
		mixed,
		{{Name: "c", Kind: Choice, Choices: 1}},
		{{Name: "n", Kind: IntUniform, Low: 0, High: 1}},
		{{Name: "tiny", Kind: Uniform, Low: 1, High: math.Nextafter(1, 2)}},
		{{Name: "wide", Kind: Uniform, Low: -1e300, High: 1e300}},
		{{Name: "lr", Kind: LogUniform, Low: 1e-300, High: 1e300}},
	}
	values := []float64{0, 1, -1, math.Inf(1), math.Inf(-1), math.NaN(), 1e308, -1e308, 5e-324}
	states := []State{Complete, Pruned, Failed, State(7)}
	g := &rng{s: 42}
	for si, s := range spaces {
		for trial := 0; trial < 40; trial++ {
			n := g.intn(40)
			hist := make([]Observation, n)
			prior := NewRandom(s, int64(trial))
			for i := range hist {
				p, _ := prior.Propose(i, nil)
				if g.intn(3) == 0 && i > 0 { // duplicate points
					p = append(Point(nil), hist[0].Point...)
				}
				hist[i] = Observation{Point: p, Value: values[g.intn(len(values))], State: states[g.intn(len(states))], Step: g.intn(4) - 1}
			}
			if trial%10 == 0 {
				for i := range hist {
					hist[i].State = Failed
				}
			}
			for _, opt := range []TPEOptions{{StartupTrials: 1}, {StartupTrials: 1, Multivariate: true}, {StartupTrials: 2, NormalizedKernels: true, Gamma: func(n int) int { return n + 5 }}} {
				p, err := NewTPE(s, int64(trial), opt).Propose(n, hist)
				if err != nil {
					t.Fatalf("space %d, trial %d: %v", si, trial, err)
				}
				checkInSpace(t, s, p)
			}
		}
	}
}

func TestTPEInvalidSpace(t *testing.T) {
	if _, err := NewTPE(Space{{Name: "x", Kind: LogUniform, Low: 0, High: 1}}, 1, TPEOptions{}).Propose(0, nil); err == nil {
		t.Error("an invalid space proposed a point")
	}
}

func TestDefaultGamma(t *testing.T) {
	for _, c := range []struct{ n, want int }{{0, 0}, {1, 1}, {10, 1}, {11, 2}, {50, 5}, {249, 25}, {1000, 25}} {
		if got := DefaultGamma(c.n); got != c.want {
			t.Errorf("DefaultGamma(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}
