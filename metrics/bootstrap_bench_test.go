package metrics

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

// BenchmarkBootstrapOfficialTest times one bootstrap resample of a 32,768-patch test split (the
// official size) evaluated for the model, two baselines and 33 slices covering the split five
// times over (four tertile families and the slides), as the evaluate stage does.
func BenchmarkBootstrapOfficialTest(b *testing.B) {
	const n = 32768
	labels, probs := randomProbs(rand.New(rand.NewPCG(1, 2)), n, 0)
	var sets []*Scored
	for range 3 {
		s, _ := NewScored(labels, probs, 0.5, 2, 10)
		sets = append(sets, s)
	}
	for fam := range 5 {
		parts := 3
		if fam == 4 {
			parts = 21
		}
		groups := make([][]int, parts)
		r := rand.New(rand.NewPCG(uint64(fam), 9))
		for i := range n {
			g := r.IntN(parts)
			groups[g] = append(groups[g], i)
		}
		for _, idx := range groups {
			s, _ := NewScoredSubset(labels, probs, idx, 0.5, 2, 10)
			sets = append(sets, s)
		}
	}
	scratch := make([]Scratch, runtime.GOMAXPROCS(0))
	b.ResetTimer()
	Bootstrap(n, b.N, 1, func(worker int, w []int32) int {
		for _, s := range sets {
			s.Values(w, &scratch[worker])
		}
		return 0
	})
}

// BenchmarkResampleWeights times drawing one resample of 32,768 patches.
func BenchmarkResampleWeights(b *testing.B) {
	w := make([]int32, 32768)
	for i := 0; b.Loop(); i++ {
		ResampleWeights(w, 1, i)
	}
}
