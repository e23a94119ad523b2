package hpo

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// TestNumpyArgsort checks numpyArgsort against np.argsort on arrays with many
// ties (testdata/numpy_argsort.json, written by testdata/numpy_argsort.py).
func TestNumpyArgsort(t *testing.T) {
	raw, err := os.ReadFile("testdata/numpy_argsort.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Numpy string
		Cases []struct {
			V       []float64
			Argsort []int
		}
	}
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Cases) < 100 {
		t.Fatalf("fixture has %d cases", len(fx.Cases))
	}
	stableDiffers := 0
	for i, c := range fx.Cases {
		got := numpyArgsort(c.V)
		if !slices.Equal(got, c.Argsort) {
			t.Fatalf("case %d (n=%d): got %v, numpy %s gives %v", i, len(c.V), got, fx.Numpy, c.Argsort)
		}
		stable := make([]int, len(c.V))
		for k := range stable {
			stable[k] = k
		}
		slices.SortStableFunc(stable, func(a, b int) int {
			switch {
			case c.V[a] < c.V[b]:
				return -1
			case c.V[a] > c.V[b]:
				return 1
			}
			return 0
		})
		if !slices.Equal(stable, c.Argsort) {
			stableDiffers++
		}
	}
	if stableDiffers == 0 {
		t.Error("no case tells numpy's order from a stable sort's: the fixture tests nothing")
	}
}

func TestHeapArgsortSorts(t *testing.T) {
	v := []float64{3, 1, 2, 3, 0, 2, 5, 1, 1, 4}
	idx := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	heapArgsort(v, idx)
	for k := 1; k < len(idx); k++ {
		if v[idx[k-1]] > v[idx[k]] {
			t.Fatalf("not sorted: %v", idx)
		}
	}
}
