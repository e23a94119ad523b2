package audit

import (
	"math"
	"math/bits"

	"github.com/pcamflow/pcamflow/pcam"
)

// Perceptual-hash geometry: the luminance image is box-averaged to smallSide x smallSide and the
// DCT coefficients (u,v) with u,v < dctSide are computed. The low hash holds the signs of the
// 8x8 lowest frequencies (63 bits, DC excluded); the ring hash, used to verify candidates, holds
// the signs of the 57 coefficients with 8 <= max(u,v) < 11.
const (
	smallSide = 32
	boxSide   = pcam.Width / smallSide // 3x3 pixels per small pixel
	lowSide   = 8
	dctSide   = 11
)

// dctBasis[u][x] = cos((2x+1) u pi / (2 smallSide)), the unnormalised DCT-II basis.
var dctBasis = func() (b [dctSide][smallSide]float64) {
	for u := range dctSide {
		for x := range smallSide {
			b[u][x] = math.Cos(float64(2*x+1) * float64(u) * math.Pi / (2 * smallSide))
		}
	}
	return b
}()

// hashLayout maps hash bits to DCT coefficients and precomputes how flips and transposes act.
type hashLayout struct {
	coords [][2]int // bit -> (u,v), u vertical frequency
	oddV   uint64   // bits negated by a horizontal flip
	oddU   uint64   // bits negated by a vertical flip
	transp []int    // bit -> bit of the transposed coefficient
}

// newLayout builds the layout for the coefficients accepted by keep, in row-major order.
func newLayout(keep func(u, v int) bool) *hashLayout {
	l := &hashLayout{}
	pos := map[[2]int]int{}
	for u := range dctSide {
		for v := range dctSide {
			if keep(u, v) {
				pos[[2]int{u, v}] = len(l.coords)
				l.coords = append(l.coords, [2]int{u, v})
			}
		}
	}
	for b, c := range l.coords {
		if c[1]%2 == 1 {
			l.oddV |= 1 << b
		}
		if c[0]%2 == 1 {
			l.oddU |= 1 << b
		}
		l.transp = append(l.transp, pos[[2]int{c[1], c[0]}])
	}
	return l
}

// The two hash layouts. The low layout keeps bit u*8+v so bit 0 (DC) is always 0.
var (
	lowLayout  = newLayout(func(u, v int) bool { return u < lowSide && v < lowSide })
	ringLayout = newLayout(func(u, v int) bool { return max(u, v) >= lowSide })
)

// transpose returns the hash of the transposed image.
func (l *hashLayout) transpose(h uint64) uint64 {
	var t uint64
	for b, to := range l.transp {
		t |= (h >> b & 1) << to
	}
	return t
}

// variants returns the hashes of the 8 flips/rotations of the image hashed to h: variant t applies
// an optional transpose (t&4), then a horizontal (t&1) and a vertical (t&2) flip.
func (l *hashLayout) variants(h uint64) [8]uint64 {
	var out [8]uint64
	tr := l.transpose(h)
	for t := range 8 {
		x := h
		if t&4 != 0 {
			x = tr
		}
		if t&1 != 0 {
			x ^= l.oddV
		}
		if t&2 != 0 {
			x ^= l.oddU
		}
		out[t] = x
	}
	return out
}

// imageHash is the perceptual hash of one patch.
type imageHash struct {
	low  uint64 // signs of the 8x8 lowest DCT frequencies (indexed)
	ring uint64 // signs of the next frequency ring (verification)
}

// greySmall converts one patch to luminance and box-averages it to smallSide x smallSide grey
// levels (0..255). It uses integer sums so the result does not depend on summation order.
func greySmall(pix []byte, out *[smallSide * smallSide]float64) {
	var acc [smallSide]int
	for sy := range smallSide {
		clear(acc[:])
		for dy := range boxSide {
			row := pix[(sy*boxSide+dy)*pcam.Width*pcam.Channels:]
			for x := range pcam.Width {
				p := row[x*3 : x*3+3]
				acc[x/boxSide] += 299*int(p[0]) + 587*int(p[1]) + 114*int(p[2])
			}
		}
		for sx := range smallSide {
			out[sy*smallSide+sx] = float64(acc[sx]) / (1000 * boxSide * boxSide)
		}
	}
}

// hashGrey computes the hashes of a small grey image and the standard deviation of its grey levels
// (a measure of information content).
func hashGrey(g *[smallSide * smallSide]float64) (imageHash, float64) {
	var rows [smallSide][dctSide]float64
	var sum, sumSq float64
	for y := range smallSide {
		line := g[y*smallSide : (y+1)*smallSide]
		for _, val := range line {
			sum += val
			sumSq += val * val
		}
		for v := range dctSide {
			var s float64
			for x, val := range line {
				s += val * dctBasis[v][x]
			}
			rows[y][v] = s
		}
	}
	coef := func(u, v int) float64 {
		var c float64
		for y := range smallSide {
			c += dctBasis[u][y] * rows[y][v]
		}
		return c
	}
	var h imageHash
	for b, c := range lowLayout.coords {
		if b > 0 && coef(c[0], c[1]) > 0 {
			h.low |= 1 << b
		}
	}
	for b, c := range ringLayout.coords {
		if coef(c[0], c[1]) > 0 {
			h.ring |= 1 << b
		}
	}
	n := float64(smallSide * smallSide)
	mean := sum / n
	return h, math.Sqrt(math.Max(0, sumSq/n-mean*mean))
}

// perceptualHash returns the identity-orientation hash of one patch and its grey-level spread.
func perceptualHash(pix []byte) (imageHash, float64) {
	var g [smallSide * smallSide]float64
	greySmall(pix, &g)
	return hashGrey(&g)
}

// dihedralVariants returns the 8 flip/rotation variants of a low hash.
func dihedralVariants(h uint64) [8]uint64 { return lowLayout.variants(h) }

// canonicalHash returns the smallest of the 8 dihedral variants of a low hash: equal for every flip
// or rotation of the same image.
func canonicalHash(h uint64) uint64 {
	vs := dihedralVariants(h)
	m := vs[0]
	for _, v := range vs[1:] {
		m = min(m, v)
	}
	return m
}

// hashDistance is the dihedral-invariant distance of two low hashes: the minimum Hamming distance
// between b and any flip/rotation variant of a. It is symmetric.
func hashDistance(a, b uint64) int {
	vars := dihedralVariants(a)
	return minDistance(&vars, b)
}

// minDistance is the smallest Hamming distance between x and any of the variants.
func minDistance(vars *[8]uint64, x uint64) int {
	d := 64
	for _, v := range vars {
		d = min(d, bits.OnesCount64(v^x))
	}
	return d
}

// nearDistance is the hash test of two images: the smallest low-hash distance over the
// flips/rotations t for which both the low and the ring hash of variant t of a are within radius
// of b, and that t. ok is false when no transform passes both.
func nearDistance(aLow, aRing *[8]uint64, b imageHash, radius int) (dist, t int, ok bool) {
	dist = 65
	for v := range 8 {
		dl := bits.OnesCount64(aLow[v] ^ b.low)
		if dl <= radius && dl < dist && bits.OnesCount64(aRing[v]^b.ring) <= radius {
			dist, t = dl, v
		}
	}
	return dist, t, dist <= radius
}
