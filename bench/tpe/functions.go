package main

import (
	"math"

	"github.com/pcamflow/pcamflow/hpo"
)

// function is a test function to minimise over a search space. optuna_ref.py
// defines the same functions with the same spaces.
type function struct {
	name  string
	space hpo.Space
	f     func(hpo.Point) float64
	min   float64 // known global minimum
}

var functions = []function{
	{
		name: "branin",
		space: hpo.Space{
			{Name: "x1", Kind: hpo.Uniform, Low: -5, High: 10},
			{Name: "x2", Kind: hpo.Uniform, Low: 0, High: 15},
		},
		f:   branin,
		min: 0.397887,
	},
	{
		name:  "hartmann6",
		space: unitCube(6),
		f:     hartmann6,
		min:   -3.32237,
	},
	{
		name: "mixed4",
		space: hpo.Space{
			{Name: "lr", Kind: hpo.LogUniform, Low: 1e-5, High: 1e-1},
			{Name: "wd", Kind: hpo.Uniform, Low: 0, High: 1},
			{Name: "layers", Kind: hpo.IntUniform, Low: 1, High: 8},
			{Name: "act", Kind: hpo.Choice, Choices: 4},
		},
		f:   mixed4,
		min: 0,
	},
}

func unitCube(d int) hpo.Space {
	s := make(hpo.Space, d)
	for j := range s {
		s[j] = hpo.Dim{Name: "x" + string(rune('0'+j)), Kind: hpo.Uniform, Low: 0, High: 1}
	}
	return s
}

// branin is the Branin-Hoo function on [-5,10]x[0,15]; minimum 0.397887 at
// three points.
func branin(p hpo.Point) float64 {
	x1, x2 := p[0], p[1]
	b := 5.1 / (4 * math.Pi * math.Pi)
	c := 5 / math.Pi
	t := 1 / (8 * math.Pi)
	u := x2 - b*x1*x1 + c*x1 - 6
	return u*u + 10*(1-t)*math.Cos(x1) + 10
}

var (
	hartA = [4][6]float64{
		{10, 3, 17, 3.5, 1.7, 8},
		{0.05, 10, 17, 0.1, 8, 14},
		{3, 3.5, 1.7, 10, 17, 8},
		{17, 8, 0.05, 10, 0.1, 14},
	}
	hartP = [4][6]float64{
		{1312, 1696, 5569, 124, 8283, 5886},
		{2329, 4135, 8307, 3736, 1004, 9991},
		{2348, 1451, 3522, 2883, 3047, 6650},
		{4047, 8828, 8732, 5743, 1091, 381},
	}
	hartAlpha = [4]float64{1, 1.2, 3, 3.2}
)

// hartmann6 is the 6-d Hartmann function on [0,1]^6; minimum -3.32237.
func hartmann6(p hpo.Point) float64 {
	s := 0.0
	for i := 0; i < 4; i++ {
		in := 0.0
		for j := 0; j < 6; j++ {
			d := p[j] - hartP[i][j]*1e-4
			in += hartA[i][j] * d * d
		}
		s += hartAlpha[i] * math.Exp(-in)
	}
	return -s
}

// mixed4Offset is the penalty of each category of "act".
var mixed4Offset = [4]float64{0.5, 0, 0.8, 0.3}

// mixed4 mimics a training objective over a log learning rate (best 1e-3), a
// uniform weight decay (best 0.7), an integer depth (best 5) and a
// categorical activation (best category 1); minimum 0.
func mixed4(p hpo.Point) float64 {
	lr := math.Log10(p[0]) + 3
	wd := p[1] - 0.7
	layers := p[2] - 5
	return lr*lr + 2*wd*wd + 0.1*layers*layers + mixed4Offset[int(p[3])]
}
