package hpo

import (
	"math"
	"testing"
)

// mixed has one dimension of every kind.
var mixed = Space{
	{Name: "wd", Kind: Uniform, Low: -2, High: 3},
	{Name: "lr", Kind: LogUniform, Low: 1e-5, High: 1e-2},
	{Name: "epochs", Kind: IntUniform, Low: 2, High: 6},
	{Name: "hidden", Kind: Choice, Choices: 3},
}

// checkInSpace fails the test when p is not a valid point of s.
func checkInSpace(t *testing.T, s Space, p Point) {
	t.Helper()
	if len(p) != len(s) {
		t.Fatalf("point %v has %d values for %d dimensions", p, len(p), len(s))
	}
	for j, d := range s {
		x := p[j]
		if math.IsNaN(x) || math.IsInf(x, 0) {
			t.Fatalf("dimension %s: value %v", d.Name, x)
		}
		switch d.Kind {
		case Choice:
			if x != math.Trunc(x) || x < 0 || x >= float64(d.Choices) {
				t.Fatalf("dimension %s: category %v out of range", d.Name, x)
			}
		default:
			if x < d.Low || x > d.High {
				t.Fatalf("dimension %s: %v outside [%v, %v]", d.Name, x, d.Low, d.High)
			}
			if d.Kind == IntUniform && x != math.Trunc(x) {
				t.Fatalf("dimension %s: %v is not an integer", d.Name, x)
			}
		}
	}
}

func TestRandomReproducibleAndInRange(t *testing.T) {
	a, b, c := NewRandom(mixed, 7), NewRandom(mixed, 7), NewRandom(mixed, 8)
	differ := false
	seen := map[float64]bool{} // epochs values seen
	cats := map[float64]bool{}
	for i := 0; i < 500; i++ {
		p, err := a.Propose(i, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkInSpace(t, mixed, p)
		// Order independence and history independence: ask b in reverse order with a history.
		q, _ := b.Propose(i, []Observation{{Point: p, Value: 1}})
		for j := range p {
			if math.Float64bits(p[j]) != math.Float64bits(q[j]) {
				t.Fatalf("trial %d: same seed gave %v and %v", i, p, q)
			}
		}
		r, _ := c.Propose(i, nil)
		if r[0] != p[0] {
			differ = true
		}
		seen[p[2]] = true
		cats[p[3]] = true
	}
	if !differ {
		t.Error("seeds 7 and 8 proposed the same points")
	}
	if len(seen) != 5 || len(cats) != 3 {
		t.Errorf("500 draws covered epochs %v and categories %v; want all 5 and all 3", seen, cats)
	}
}

func TestRandomLogUniformIsLogSpread(t *testing.T) {
	s := Space{{Name: "lr", Kind: LogUniform, Low: 1e-6, High: 1}}
	r := NewRandom(s, 1)
	below := 0 // draws below 1e-3, which is half the log range
	const n = 4000
	for i := 0; i < n; i++ {
		p, _ := r.Propose(i, nil)
		if p[0] < 1e-3 {
			below++
		}
	}
	if below < n*45/100 || below > n*55/100 {
		t.Errorf("%d of %d draws below the log midpoint; want about half", below, n)
	}
}

func TestRandomInvalidSpace(t *testing.T) {
	if _, err := NewRandom(Space{{Name: "x", Kind: Uniform, Low: 1, High: 0}}, 1).Propose(0, nil); err == nil {
		t.Error("an invalid space proposed a point")
	}
}
