package audit

import (
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/pcamflow/pcamflow/pcam"
)

// TestDihedralVariantsMatchTransformedImages checks that the bit operations on a hash equal the
// hash of the actually flipped/rotated image, so all 8 transforms share one canonical hash.
func TestDihedralVariantsMatchTransformedImages(t *testing.T) {
	for seed := range uint64(20) {
		p := make([]byte, pcam.PatchBytes)
		texturedPatch(seed, p)
		hh, _ := perceptualHash(p)
		h := hh.low
		vars := dihedralVariants(h)
		rings := ringLayout.variants(hh.ring)
		for tr := range 8 {
			hth, _ := perceptualHash(transform(p, tr))
			ht := hth.low
			if d := bits.OnesCount64(hth.ring ^ rings[tr]); d > 1 {
				t.Errorf("seed %d transform %d: ring hash of transformed image differs from variant in %d bits", seed, tr, d)
			}
			if d := bits.OnesCount64(ht ^ vars[tr]); d > 1 {
				t.Errorf("seed %d transform %d: hash of transformed image differs from variant in %d bits", seed, tr, d)
			}
			if canonicalHash(ht) != canonicalHash(h) && bits.OnesCount64(ht^vars[tr]) == 0 {
				t.Errorf("seed %d transform %d: canonical hash differs", seed, tr)
			}
			if d := hashDistance(h, ht); d > 1 {
				t.Errorf("seed %d transform %d: dihedral distance %d, want <= 1", seed, tr, d)
			}
		}
	}
}

// TestHashDistanceSymmetric checks the dihedral distance is symmetric.
func TestHashDistanceSymmetric(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		a, b := rng.Uint64()&^1, rng.Uint64()&^1
		if hashDistance(a, b) != hashDistance(b, a) {
			t.Fatalf("distance(%x,%x) is not symmetric", a, b)
		}
	}
}

// TestHashInvariantToBrightnessAndContrast checks the sign-of-DCT hash ignores affine grey changes.
func TestHashInvariantToBrightnessAndContrast(t *testing.T) {
	p := make([]byte, pcam.PatchBytes)
	texturedPatch(7, p)
	h, _ := perceptualHash(p)
	q := make([]byte, len(p))
	for i, v := range p {
		q[i] = byte(float64(v)*0.8 + 20)
	}
	hq, _ := perceptualHash(q)
	if d := bits.OnesCount64(h.low ^ hq.low); d > 2 {
		t.Errorf("brightness/contrast change moved the hash by %d bits, want <= 2", d)
	}
}

// TestDistinctPatchesAreFar checks unrelated textured patches are far apart.
func TestDistinctPatchesAreFar(t *testing.T) {
	hashes := make([]uint64, 200)
	p := make([]byte, pcam.PatchBytes)
	for i := range hashes {
		texturedPatch(uint64(1000+i), p)
		h, _ := perceptualHash(p)
		hashes[i] = h.low
	}
	minD := 64
	for i := range hashes {
		for j := i + 1; j < len(hashes); j++ {
			minD = min(minD, hashDistance(hashes[i], hashes[j]))
		}
	}
	if minD <= DefaultHammingThreshold {
		t.Errorf("closest distinct pair at %d bits, want > %d", minD, DefaultHammingThreshold)
	}
	t.Logf("closest of %d distinct textured patches: %d bits", len(hashes), minD)
}
