package audit

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/pcamflow/pcamflow/pcam"
)

// memReader is an in-memory pcam.Reader for tests; fail makes chosen indices unreadable.
type memReader struct {
	name   string
	pix    []byte
	labels []uint8
	fail   map[int]bool
	gen    func(i int, dst []byte) uint8 // when set, patches are generated on demand instead
	n      int
}

func (m *memReader) Len() int {
	if m.gen != nil {
		return m.n
	}
	return len(m.labels)
}

func (m *memReader) Read(indices []int, pix []byte, labels []uint8) error {
	for k, i := range indices {
		if i < 0 || i >= m.Len() {
			return fmt.Errorf("%s: index %d out of range [0,%d)", m.name, i, m.Len())
		}
		if m.fail[i] {
			return fmt.Errorf("%s: dataset x: patch %d: checksum mismatch", m.name, i)
		}
		var lab uint8
		if m.gen != nil {
			lab = m.gen(i, pix[k*pcam.PatchBytes:(k+1)*pcam.PatchBytes])
		} else {
			if pix != nil {
				copy(pix[k*pcam.PatchBytes:(k+1)*pcam.PatchBytes], m.patch(i))
			}
			lab = m.labels[i]
		}
		if labels != nil {
			labels[k] = lab
		}
	}
	return nil
}

func (m *memReader) Source() string { return m.name }
func (m *memReader) Close() error   { return nil }

// patch returns the stored bytes of patch i.
func (m *memReader) patch(i int) []byte { return m.pix[i*pcam.PatchBytes : (i+1)*pcam.PatchBytes] }

// set overwrites patch i.
func (m *memReader) set(i int, p []byte, label uint8) {
	copy(m.patch(i), p)
	m.labels[i] = label
}

// newTextured makes a reader of n distinct textured patches from seed, labels alternating.
func newTextured(name string, n int, seed uint64) *memReader {
	m := &memReader{name: name, pix: make([]byte, n*pcam.PatchBytes), labels: make([]uint8, n)}
	for i := range n {
		texturedPatch(seed*1_000_003+uint64(i), m.patch(i))
		m.labels[i] = uint8(i % 2)
	}
	return m
}

// texturedPatch draws an H&E-like random patch into dst: a pink stroma background with smooth
// colour modulation, purple nuclei of random size and some white gaps, plus pixel noise.
func texturedPatch(seed uint64, dst []byte) {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	bg := [3]float64{215 + 25*rng.Float64(), 150 + 40*rng.Float64(), 195 + 30*rng.Float64()}
	// Smooth modulation: a few random low-frequency waves.
	type wave struct{ fx, fy, ph, amp float64 }
	var waves [4]wave
	for i := range waves {
		waves[i] = wave{rng.Float64() * 0.12, rng.Float64() * 0.12, rng.Float64() * 6.28, 10 + 20*rng.Float64()}
	}
	// sin(fx x + fy y + ph) = sin(fx x) cos(fy y + ph) + cos(fx x) sin(fy y + ph), tabulated per axis.
	var sx, cx, sy, cy [len(waves)][96]float64
	for k, w := range waves {
		for i := range 96 {
			sx[k][i], cx[k][i] = math.Sincos(w.fx * float64(i))
			sy[k][i], cy[k][i] = math.Sincos(w.fy*float64(i) + w.ph)
		}
	}
	img := make([]float64, pcam.Height*pcam.Width*3)
	for y := range pcam.Height {
		for x := range pcam.Width {
			var mod float64
			for k, w := range waves {
				mod += w.amp * (sx[k][x]*cy[k][y] + cx[k][x]*sy[k][y])
			}
			o := (y*pcam.Width + x) * 3
			img[o], img[o+1], img[o+2] = bg[0]+mod*0.5, bg[1]+mod, bg[2]+mod*0.6
		}
	}
	blobs := func(count int, rmin, rmax float64, col [3]float64) {
		for range count {
			cx, cy := rng.Float64()*96, rng.Float64()*96
			r := rmin + rng.Float64()*(rmax-rmin)
			for y := max(0, int(cy-r)); y < min(96, int(cy+r)+1); y++ {
				for x := max(0, int(cx-r)); x < min(96, int(cx+r)+1); x++ {
					dx, dy := float64(x)-cx, float64(y)-cy
					if dx*dx+dy*dy <= r*r {
						o := (y*pcam.Width + x) * 3
						img[o], img[o+1], img[o+2] = col[0], col[1], col[2]
					}
				}
			}
		}
	}
	blobs(rng.IntN(4), 6, 14, [3]float64{242, 238, 242})
	blobs(15+rng.IntN(40), 2, 6, [3]float64{70 + 50*rng.Float64(), 30 + 40*rng.Float64(), 120 + 40*rng.Float64()})
	for i, v := range img {
		dst[i] = clamp8(v + float64(rng.IntN(9)-4))
	}
}

// clamp8 rounds and clamps to 0..255.
func clamp8(v float64) byte {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return byte(v + 0.5)
}

// transform applies dihedral element t (bit 4: transpose, bit 1: horizontal flip, bit 2: vertical
// flip, in that order) to a patch.
func transform(src []byte, t int) []byte {
	out := make([]byte, len(src))
	for y := range pcam.Height {
		for x := range pcam.Width {
			sx, sy := x, y
			if t&1 != 0 {
				sx = pcam.Width - 1 - sx
			}
			if t&2 != 0 {
				sy = pcam.Height - 1 - sy
			}
			if t&4 != 0 {
				sx, sy = sy, sx
			}
			copy(out[(y*pcam.Width+x)*3:(y*pcam.Width+x)*3+3], src[(sy*pcam.Width+sx)*3:])
		}
	}
	return out
}

// jitter applies mild colour jitter: per-channel gain and offset plus pixel noise.
func jitter(src []byte, rng *rand.Rand, gain, offset float64, noise int) []byte {
	var g, o [3]float64
	for c := range 3 {
		g[c] = 1 + gain*(2*rng.Float64()-1)
		o[c] = offset * (2*rng.Float64() - 1)
	}
	out := make([]byte, len(src))
	for i, v := range src {
		n := 0
		if noise > 0 {
			n = rng.IntN(2*noise+1) - noise
		}
		out[i] = clamp8(float64(v)*g[i%3] + o[i%3] + float64(n))
	}
	return out
}

// uniformPatch is a patch of one colour.
func uniformPatch(r, g, b byte) []byte {
	p := make([]byte, pcam.PatchBytes)
	for i := 0; i < len(p); i += 3 {
		p[i], p[i+1], p[i+2] = r, g, b
	}
	return p
}
