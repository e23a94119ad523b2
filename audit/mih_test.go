package audit

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestMIHMatchesBruteForce checks the multi-index finds exactly the pairs a full comparison finds.
func TestMIHMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	hashes := make([]imageHash, 1500)
	for i := range hashes {
		if i > 0 && i%5 == 0 {
			// A planted neighbour: a dihedral variant of an earlier hash with a few bits flipped.
			src, t := hashes[rng.IntN(i)], rng.IntN(8)
			h := imageHash{low: lowLayout.variants(src.low)[t], ring: ringLayout.variants(src.ring)[t]}
			for range rng.IntN(14) {
				h.low ^= 1 << (1 + rng.IntN(63))
			}
			for range rng.IntN(14) {
				h.ring ^= 1 << rng.IntN(57)
			}
			hashes[i] = h
			continue
		}
		hashes[i] = imageHash{low: rng.Uint64() &^ 1, ring: rng.Uint64() & (1<<57 - 1)}
	}
	for _, radius := range []int{0, 3, 4, 8, 12, 16} {
		var want, got [][3]int
		for i := range hashes {
			vars, rings := lowLayout.variants(hashes[i].low), ringLayout.variants(hashes[i].ring)
			for j := i + 1; j < len(hashes); j++ {
				if d, _, ok := nearDistance(&vars, &rings, hashes[j], radius); ok {
					want = append(want, [3]int{i, j, d})
				}
			}
		}
		newMIH(hashes, radius).search(2, func(es []edge) {
			for _, e := range es {
				got = append(got, [3]int{int(e.a), int(e.b), int(e.dist)})
			}
		})
		cmp := func(a, b [3]int) int { return slices.Compare(a[:], b[:]) }
		slices.SortFunc(want, cmp)
		slices.SortFunc(got, cmp)
		if !slices.Equal(want, got) {
			t.Errorf("radius %d: index found %d pairs, brute force %d", radius, len(got), len(want))
		}
		if radius == 8 && len(want) == 0 {
			t.Fatalf("test data has no pairs within 8 bits; the comparison is vacuous")
		}
	}
}
