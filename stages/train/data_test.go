package train

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/pcamflow/pcamflow/pcam"
)

// dihedral returns the 8 flips/rotations of a 96x96x3 image.
func dihedral(img []byte) [][]byte {
	const n, c = pcam.Width, pcam.Channels
	at := func(src []byte, y, x int) []byte { return src[(y*n+x)*c : (y*n+x)*c+c] }
	transform := func(src []byte, f func(y, x int) (int, int)) []byte {
		out := make([]byte, len(src))
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				sy, sx := f(y, x)
				copy(out[(y*n+x)*c:], at(src, sy, sx))
			}
		}
		return out
	}
	rot := func(src []byte) []byte { return transform(src, func(y, x int) (int, int) { return x, n - 1 - y }) }
	flip := func(src []byte) []byte { return transform(src, func(y, x int) (int, int) { return y, n - 1 - x }) }
	var out [][]byte
	for _, base := range [][]byte{img, flip(img)} {
		r := base
		for i := 0; i < 4; i++ {
			out = append(out, r)
			r = rot(r)
		}
	}
	return out
}

func TestAugmentIsADihedralTransform(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	img := make([]byte, pcam.PatchBytes)
	for i := range img {
		img[i] = byte(rng.IntN(256))
	}
	seen := map[int]bool{}
	for trial := 0; trial < 64; trial++ {
		got := append([]byte(nil), img...)
		augment(got, true, true, rng)
		match := -1
		for i, d := range dihedral(img) {
			if bytes.Equal(got, d) {
				match = i
			}
		}
		if match < 0 {
			t.Fatalf("trial %d: augmented image is not a flip/rotation of the input", trial)
		}
		seen[match] = true
	}
	if len(seen) != 8 {
		t.Errorf("64 draws produced %d of the 8 transforms", len(seen))
	}
}

func TestWeightedOrderBalancesClasses(t *testing.T) {
	d := &data{idx: make([]int, 1000), labels: make([]uint8, 1000)}
	for i := range d.idx {
		d.idx[i] = i
		if i < 100 {
			d.labels[i] = 1 // 10% positives
		}
	}
	order := d.order("weighted", rand.New(rand.NewPCG(3, 4)))
	pos := 0
	for _, i := range order {
		if i < 100 {
			pos++
		}
	}
	if len(order) != 1000 || pos < 430 || pos > 570 {
		t.Errorf("weighted sampling drew %d positives out of %d, want about half", pos, len(order))
	}
	if seq := d.order("sequential", nil); seq[0] != 0 || seq[999] != 999 {
		t.Error("sequential order is not the index order")
	}
}
