package hpo

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestASHAValidate(t *testing.T) {
	cases := []struct {
		a    ASHA
		want string
	}{
		{ASHA{1, 3, 9}, ""},
		{ASHA{2, 2, 2}, ""}, // no rungs, still valid
		{ASHA{0, 3, 9}, "min_epochs"},
		{ASHA{1, 1, 9}, "reduction_factor"},
		{ASHA{1, 3, 0}, "epochs"},
	}
	for _, c := range cases {
		err := c.a.Validate()
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v.Validate() = %v, want %q", c.a, err, c.want)
		}
	}
}

func TestASHARungs(t *testing.T) {
	cases := []struct {
		a    ASHA
		want []int
	}{
		{ASHA{1, 3, 6}, []int{1, 3}},
		{ASHA{1, 3, 9}, []int{1, 3}}, // strictly below the last epoch
		{ASHA{1, 3, 10}, []int{1, 3, 9}},
		{ASHA{2, 2, 20}, []int{2, 4, 8, 16}},
		{ASHA{5, 3, 5}, nil},
		{ASHA{1, 2, 1}, nil},
		{ASHA{0, 2, 10}, nil},
		{ASHA{1, 1 << 40, math.MaxInt}, []int{1, 1 << 40}},
	}
	for _, c := range cases {
		if got := c.a.Rungs(); !slices.Equal(got, c.want) {
			t.Errorf("%+v.Rungs() = %v, want %v", c.a, got, c.want)
		}
	}
}

func TestASHAPromote(t *testing.T) {
	a := ASHA{MinEpochs: 1, ReductionFactor: 3, MaxEpochs: 9}
	nan := math.NaN()
	cases := []struct {
		name   string
		values []float64
		v      float64
		want   bool
	}{
		{"first trial continues", []float64{0.5}, 0.5, true},
		{"second, better", []float64{0.5, 0.4}, 0.4, true},
		{"second, worse", []float64{0.5, 0.6}, 0.6, false},
		{"three: only the best", []float64{0.3, 0.1, 0.2}, 0.1, true},
		{"three: the middle stops", []float64{0.3, 0.1, 0.2}, 0.2, false},
		{"six: top two", []float64{6, 5, 4, 3, 2, 1}, 2, true},
		{"six: third stops", []float64{6, 5, 4, 3, 2, 1}, 3, false},
		{"tie at the threshold continues", []float64{1, 1, 1}, 1, true},
		{"tie above the threshold", []float64{0, 1, 1, 1, 1, 1}, 1, true}, // k=2, 2nd smallest is 1
		{"order does not matter", []float64{1, 6, 2, 5, 3, 4}, 2, true},
		{"NaN v stops", []float64{1, 2, nan}, nan, false},
		{"NaN others count as worst", []float64{nan, nan, 5}, 5, true},
		{"+Inf v behind finite", []float64{1, 2, math.Inf(1)}, math.Inf(1), false},
		{"v missing from values", []float64{2, 3}, 1, true},
	}
	for _, c := range cases {
		if got := a.Promote(c.values, c.v); got != c.want {
			t.Errorf("%s: Promote(%v, %v) = %v, want %v", c.name, c.values, c.v, got, c.want)
		}
	}
	if (ASHA{1, 1, 9}).Promote([]float64{1}, 1) {
		t.Error("invalid settings promoted a trial")
	}
}
