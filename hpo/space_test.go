package hpo

import (
	"math"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	ok := Dim{Name: "x", Kind: Uniform, Low: 0, High: 1}
	cases := []struct {
		name  string
		space Space
		want  []string // substrings of the error; nil means valid
	}{
		{"valid", Space{ok, {Name: "lr", Kind: LogUniform, Low: 1e-5, High: 1e-2}, {Name: "e", Kind: IntUniform, Low: 2, High: 6}, {Name: "c", Kind: Choice, Choices: 1}}, nil},
		{"empty", Space{}, []string{"no dimensions"}},
		{"low equals high", Space{{Name: "a", Kind: Uniform, Low: 1, High: 1}}, []string{`"a"`, "less than high"}},
		{"low above high", Space{{Name: "b", Kind: IntUniform, Low: 5, High: 2}}, []string{`"b"`, "less than high"}},
		{"log touching zero", Space{{Name: "lr", Kind: LogUniform, Low: 0, High: 1}}, []string{`"lr"`, "above 0"}},
		{"log negative", Space{{Name: "lr", Kind: LogUniform, Low: -1, High: 1}}, []string{"above 0"}},
		{"zero choices", Space{{Name: "bs", Kind: Choice}}, []string{`"bs"`, "at least one option"}},
		{"non-integer int", Space{{Name: "n", Kind: IntUniform, Low: 1.5, High: 4}}, []string{`"n"`, "integers"}},
		{"nan bound", Space{{Name: "u", Kind: Uniform, Low: math.NaN(), High: 1}}, []string{"finite"}},
		{"inf bound", Space{{Name: "u", Kind: Uniform, Low: 0, High: math.Inf(1)}}, []string{"finite"}},
		{"duplicate", Space{ok, ok}, []string{"used by dimension 0"}},
		{"unknown kind", Space{{Name: "k", Kind: Kind(9)}}, []string{"unknown kind"}},
		{"collects all", Space{{Name: "a", Kind: Uniform, Low: 1, High: 0}, {Name: "b", Kind: Choice}}, []string{`"a"`, `"b"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.space.Validate()
			if c.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want an error containing %q, got nil", c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestGridSize(t *testing.T) {
	cases := []struct {
		name  string
		space Space
		want  int
		err   string
	}{
		{"ints and choices", Space{{Name: "e", Kind: IntUniform, Low: 2, High: 6}, {Name: "c", Kind: Choice, Choices: 3}}, 15, ""},
		{"single", Space{{Name: "c", Kind: Choice, Choices: 1}}, 1, ""},
		{"uniform rejected", Space{{Name: "c", Kind: Choice, Choices: 3}, {Name: "wd", Kind: Uniform, Low: 0, High: 1}}, 0, `"wd": a grid needs choice() or int_uniform()`},
		{"log rejected", Space{{Name: "lr", Kind: LogUniform, Low: 1, High: 2}}, 0, `"lr"`},
		{"invalid", Space{{Name: "c", Kind: Choice}}, 0, "at least one option"},
		{"saturates", Space{
			{Name: "a", Kind: IntUniform, Low: 0, High: 1 << 40},
			{Name: "b", Kind: IntUniform, Low: 0, High: 1 << 40},
		}, math.MaxInt, ""},
		{"saturates wide int", Space{{Name: "a", Kind: IntUniform, Low: -(1 << 52), High: 1 << 52}, {Name: "b", Kind: Choice, Choices: 4096}}, math.MaxInt, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := GridSize(c.space)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want it to contain %q", err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("GridSize = %d, %v; want %d", got, err, c.want)
			}
		})
	}
}

func TestGridOrder(t *testing.T) {
	s := Space{{Name: "a", Kind: IntUniform, Low: -1, High: 0}, {Name: "b", Kind: Choice, Choices: 3}}
	g, err := NewGrid(s)
	if err != nil {
		t.Fatal(err)
	}
	want := []Point{{-1, 0}, {-1, 1}, {-1, 2}, {0, 0}, {0, 1}, {0, 2}}
	for i, w := range want {
		p, err := g.Propose(i, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p[0] != w[0] || p[1] != w[1] {
			t.Errorf("point %d = %v, want %v", i, p, w)
		}
	}
	for _, bad := range []int{-1, 6, 100} {
		if _, err := g.Propose(bad, nil); err == nil {
			t.Errorf("Propose(%d) gave no error", bad)
		}
	}
}
