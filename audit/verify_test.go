package audit

import (
	"math/rand/v2"
	"testing"

	"github.com/pcamflow/pcamflow/pcam"
)

// nucleusPatch draws pale background with a few dark nuclei near the centre, shaped by seed: the
// simple layout whose low-frequency hash is nearly the same for every seed.
func nucleusPatch(seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 77))
	p := uniformPatch(228, 214, 232)
	for range 2 + rng.IntN(3) {
		cx, cy := 40+rng.Float64()*16, 40+rng.Float64()*16
		rx, ry := 3+rng.Float64()*5, 3+rng.Float64()*5
		for y := range pcam.Height {
			for x := range pcam.Width {
				dx, dy := (float64(x)-cx)/rx, (float64(y)-cy)/ry
				if dx*dx+dy*dy <= 1 {
					copy(p[(y*pcam.Width+x)*3:], []byte{80, 50, 130})
				}
			}
		}
	}
	return p
}

func TestResidualSeparatesCopiesFromLookAlikes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	var copies, lookAlikes []float64
	for s := range uint64(80) {
		a := nucleusPatch(s)
		ha, _ := perceptualHash(a)
		for tr := range 8 {
			c := jitter(transform(a, tr), rng, 0.06, 10, 3)
			copies = append(copies, residual(makeThumb(a), makeThumb(c), tr))
		}
		b := nucleusPatch(s + 1000)
		hb, _ := perceptualHash(b)
		vars, rings := lowLayout.variants(ha.low), ringLayout.variants(ha.ring)
		if _, tr, ok := nearDistance(&vars, &rings, hb, DefaultHammingThreshold); ok {
			lookAlikes = append(lookAlikes, residual(makeThumb(a), makeThumb(b), tr))
		}
	}
	if len(lookAlikes) < 5 {
		t.Fatalf("only %d look-alike pairs pass the hash test; the test needs hash collisions to be meaningful", len(lookAlikes))
	}
	for _, r := range copies {
		if r > DefaultMaxResidual {
			t.Errorf("jittered copy has residual %.3f > %.2f", r, DefaultMaxResidual)
		}
	}
	for _, r := range lookAlikes {
		if r <= DefaultMaxResidual {
			t.Errorf("different nuclei pass verification with residual %.3f", r)
		}
	}
	t.Logf("%d hash-colliding look-alikes, %d copies; copy residual max %.3f, look-alike min %.3f",
		len(lookAlikes), len(copies), maxOf(copies), -maxOf(neg(lookAlikes)))
}

// TestRunVerificationRemovesLookAlikes audits 80 nucleus-on-background patches: hash matching
// alone groups different images, pixel verification keeps none of them.
func TestRunVerificationRemovesLookAlikes(t *testing.T) {
	r := &memReader{name: "mem:nuclei", pix: make([]byte, 80*pcam.PatchBytes), labels: make([]uint8, 80)}
	for i := range 80 {
		r.set(i, nucleusPatch(uint64(i)), 0)
	}
	off := DefaultOptions()
	off.MaxResidual = -1
	hashOnly := mustRun(t, map[pcam.Split]pcam.Reader{pcam.Train: r}, off)
	verified := mustRun(t, map[pcam.Split]pcam.Reader{pcam.Train: r}, DefaultOptions())
	if len(hashOnly.NearDuplicateGroups) == 0 {
		t.Fatalf("hash-only search found no look-alikes; the test is vacuous")
	}
	if n := len(verified.NearDuplicateGroups); n != 0 {
		t.Errorf("verified search kept %d groups of different images", n)
		for _, g := range verified.NearDuplicateGroups {
			t.Logf("%+v %+v", g.Members, g.Edges)
		}
	}
	if verified.NearSearch.Candidates != hashOnly.NearSearch.Pairs {
		t.Errorf("candidates %d != hash-only pairs %d", verified.NearSearch.Candidates, hashOnly.NearSearch.Pairs)
	}
}

func maxOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

func neg(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = -x
	}
	return out
}
