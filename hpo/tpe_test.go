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

// run drives s for trials proposals on f and returns the best value.
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
	return s[len(s)/2]
}

func TestTPEBeatsRandomOnQuadratic(t *testing.T) {
	space := Space{{Name: "x", Kind: Uniform, Low: -1, High: 1}, {Name: "y", Kind: Uniform, Low: -1, High: 1}}
	var tb, rb []float64
	wins := 0
	for seed := int64(0); seed < 20; seed++ {
		a, _ := run(t, NewTPE(space, seed, TPEOptions{}), quad2, 40)
		b, _ := run(t, NewRandom(space, seed), quad2, 40)
		tb, rb = append(tb, a), append(rb, b)
		if a < b {
			wins++
		}
	}
	mt, mr := median(tb), median(rb)
	t.Logf("median best over 20 seeds: tpe %.3g random %.3g; tpe wins %d/20", mt, mr, wins)
	if !(mt < mr/2) || wins < 13 {
		t.Errorf("TPE is not clearly better than random: median %.3g vs %.3g, wins %d/20", mt, mr, wins)
	}
}
