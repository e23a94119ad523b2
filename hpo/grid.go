package hpo

import "fmt"

// grid enumerates the cartesian product of a space's levels.
type grid struct {
	space Space
	size  int
}

// NewGrid returns a sampler that enumerates the cartesian grid of s in order,
// the last dimension varying fastest. Every dimension must be IntUniform or
// Choice. Proposing index >= GridSize(s) is an error; the history is ignored.
func NewGrid(s Space) (Sampler, error) {
	n, err := GridSize(s)
	if err != nil {
		return nil, err
	}
	return &grid{space: append(Space(nil), s...), size: n}, nil
}

// Propose decodes index as a mixed-radix number, last dimension least significant.
func (g *grid) Propose(index int, _ []Observation) (Point, error) {
	if index < 0 || index >= g.size {
		return nil, fmt.Errorf("grid index %d out of range: the grid has %d points", index, g.size)
	}
	p := make(Point, len(g.space))
	rest := index
	for i := len(g.space) - 1; i >= 0; i-- {
		d := g.space[i]
		n := levels(d)
		k := rest % n
		rest /= n
		if d.Kind == Choice {
			p[i] = float64(k)
		} else {
			p[i] = d.Low + float64(k)
		}
	}
	return p, nil
}
