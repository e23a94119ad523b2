package pcam

import "math"

// The synthetic H&E renderer. A patch is painted as two stain concentration fields (hematoxylin and
// eosin, in optical-density units) and converted to RGB by Beer-Lambert with per-patch stain vectors:
//
//	I_c = background_c * exp(-(H * h_c + E * e_c))
//
// The tissue kind (lymphoid, fibrous stroma, adipose, epithelium), coverage (from mostly background to
// full), stain vectors and intensities are drawn per patch and are independent of the label. The label
// is 1 when the centre 32x32 region holds a cluster of tumour cells: large, pleomorphic, irregular
// nuclei with vesicular chromatin, a dark rim and nucleoli. Tumour-like cells also appear outside the
// centre in both classes (as in PCAM, where only the centre decides the label), so a model must look
// at the centre's structure; the nuclear area is drawn from the same distribution for both classes.

const (
	npx          = Height * Width
	centreLo     = 32 // the label region is [32,64) x [32,64)
	centreHi     = 64
	odScale      = 128 // LUT steps per optical-density unit
	odMax        = 6 * odScale
	tumourAnyway = 0.35 // probability that tumour-like cells appear outside the centre (both classes)
)

// tissueKind is the dominant tissue of a patch.
type tissueKind int

const (
	lymphoid tissueKind = iota
	stroma
	adipose
	epithelium
)

// centreBump is a Gaussian bump (sigma 20 px, height 0.7) at the patch centre, added to the tissue
// field to put tissue in the label region.
var centreBump = func() (b [npx]float32) {
	for y := 0; y < Height; y++ {
		for x := 0; x < Width; x++ {
			dx, dy := float32(x)-47.5, float32(y)-47.5
			b[y*Width+x] = 0.7 * float32(math.Exp(float64(-(dx*dx+dy*dy)/(2*20*20))))
		}
	}
	return b
}()

// canvas holds the per-patch working fields; one per worker, reused.
type canvas struct {
	h, e, m, t [npx]float32
	lut        [3][odMax + 1]uint8
}

// style is the per-patch appearance, drawn independently of the label.
type style struct {
	hv, ev       [3]float32
	bg           [3]float32
	hGain, eGain float32
	kind         tissueKind
	coverage     float32
	nucFrac      float32
	tumourOut    bool
	paleTint     bool // the hard stain group: almost no haematoxylin tint outside the nuclei
}

// tissueLabel returns the label renderTissue(seed) will produce, without rendering.
func tissueLabel(seed uint64) uint8 {
	if newRNG(seed).f() < 0.5 {
		return 1
	}
	return 0
}

// renderTissue paints one synthetic H&E patch into dst (PatchBytes) from seed and returns its label
// and whether tumour-like cells appear anywhere in the patch.
func renderTissue(seed uint64, dst []byte, cv *canvas) (uint8, bool) {
	return renderTissueIn(seed, dst, cv, false)
}

// Hard stain group (SynthOptions.HardStainGroup = HardPaleHaematoxylin): a third of the patches,
// chosen by a hash of the content seed, are stained pale with haematoxylin (half the nuclear stain
// and a tenth of the faint tint of stroma and cytoplasm: the lowest haematoxylin density of the
// dataset) and get a centre whose appearance contradicts the label: tumour-labelled centres
// are drawn with benign nuclei and benign centres with tumour nuclei. A model trained on typical
// patches therefore scores below chance on them, whatever its skill elsewhere.
const (
	hardFraction = 1.0 / 3
	hardTint     = 0.1  // the group's stroma haematoxylin tint, relative to a typical patch
	hardNuclei   = 0.35 // the group's nuclear haematoxylin, relative to a typical patch
)

// inHardGroup reports whether the plain patch rendered from seed belongs to the hard stain group.
func inHardGroup(seed uint64) bool {
	return float64(mix64(seed^0x68617264)>>11)/(1<<53) < hardFraction
}

// renderTissueIn is renderTissue for a patch that may be in the hard stain group. Patches outside
// the group are rendered exactly as renderTissue renders them.
func renderTissueIn(seed uint64, dst []byte, cv *canvas, hard bool) (uint8, bool) {
	r := newRNG(seed)
	label := uint8(0)
	if r.f() < 0.5 {
		label = 1
	}
	st := newStyle(r)
	look := label // the label the centre's appearance follows
	if hard {
		st.paleTint = true
		st.hGain *= hardNuclei
		look ^= 1
	}
	cv.mask(r, st, look)
	cv.stroma(r, st)
	cv.nuclei(r, st, look)
	blur(&cv.h, &cv.t)
	blur(&cv.e, &cv.t)
	cv.compose(r, st, dst)
	return label, label == 1 || st.tumourOut
}

// newStyle draws the stain, background, tissue kind and density of a patch.
func newStyle(r *rng) style {
	var st style
	st.hv = unit([3]float32{0.58 + r.u(-0.06, 0.10), 0.76 + r.u(-0.06, 0.06), 0.32 + r.u(-0.06, 0.12)})
	st.ev = unit([3]float32{0.06 + r.u(-0.04, 0.14), 0.95, 0.38 + r.u(-0.10, 0.12)})
	base := r.u(222, 248)
	st.bg = [3]float32{base + r.u(-3, 5), base - r.u(2, 12), base + r.u(-2, 6)}
	st.hGain, st.eGain = r.u(0.8, 2.8), r.u(0.45, 2.0)
	switch k := r.f(); {
	case k < 0.30:
		st.kind = lymphoid
		st.nucFrac = r.u(0.45, 0.75)
	case k < 0.58:
		st.kind = stroma
		st.nucFrac = r.u(0.04, 0.12)
	case k < 0.70:
		st.kind = adipose
		st.nucFrac = r.u(0.01, 0.05)
	default:
		st.kind = epithelium
		st.nucFrac = r.u(0.15, 0.35)
	}
	switch c := r.f(); {
	case c < 0.24:
		st.coverage = r.u(0.02, 0.35)
	case c < 0.48:
		st.coverage = r.u(0.35, 0.85)
	default:
		st.coverage = 1
	}
	st.tumourOut = r.f() < tumourAnyway
	return st
}

// unit normalises a stain vector to length 1.
func unit(v [3]float32) [3]float32 {
	n := float32(math.Sqrt(float64(v[0]*v[0] + v[1]*v[1] + v[2]*v[2])))
	return [3]float32{v[0] / n, v[1] / n, v[2] / n}
}

// valueNoise adds amp times smooth value noise on a g x g lattice (g <= 32) to out.
func valueNoise(r *rng, g int, amp float32, out *[npx]float32) {
	var lat [33 * 33]float32
	for i := 0; i < (g+1)*(g+1); i++ {
		lat[i] = amp * r.f()
	}
	var ix [Width]int
	var tx [Width]float32
	step := float32(g) / Width
	for x := 0; x < Width; x++ {
		fx := (float32(x) + 0.5) * step
		ix[x] = int(fx)
		tx[x] = smooth(fx - float32(ix[x]))
	}
	for y := 0; y < Height; y++ {
		fy := (float32(y) + 0.5) * step
		iy := int(fy)
		ty := smooth(fy - float32(iy))
		r0, r1 := lat[iy*(g+1):], lat[(iy+1)*(g+1):]
		row := out[y*Width : (y+1)*Width]
		for x := range row {
			i, t := ix[x], tx[x]
			a := r0[i] + (r0[i+1]-r0[i])*t
			b := r1[i] + (r1[i+1]-r1[i])*t
			row[x] += a + (b-a)*ty
		}
	}
}

// smooth is the smoothstep fade.
func smooth(t float32) float32 { return t * t * (3 - 2*t) }

// clamp01 limits v to [0,1].
func clamp01(v float32) float32 { return min(max(v, 0), 1) }

// mask builds the tissue mask m (0 background .. 1 tissue) with the wanted coverage. Positive patches,
// and most negatives, have tissue in the centre.
func (cv *canvas) mask(r *rng, st style, label uint8) {
	clear(cv.t[:])
	valueNoise(r, 3, 0.6, &cv.t)
	valueNoise(r, 7, 0.3, &cv.t)
	valueNoise(r, 15, 0.1, &cv.t)
	if label == 1 || r.f() < 0.75 {
		for i, b := range centreBump {
			cv.t[i] += b
		}
	}
	thr := quantileThreshold(&cv.t, st.coverage)
	for i, v := range cv.t {
		cv.m[i] = clamp01((v-thr)*14 + 0.5)
	}
	if st.kind == adipose {
		cv.fatCells(r)
	}
	for k := r.intn(3); k > 0 && st.kind != adipose; k-- {
		cv.hole(r)
	}
}

// quantileThreshold returns the value above which a fraction cover of the field lies.
func quantileThreshold(t *[npx]float32, cover float32) float32 {
	if cover >= 1 {
		return -10
	}
	lo, hi := t[0], t[0]
	for _, v := range t {
		lo, hi = min(lo, v), max(hi, v)
	}
	var hist [256]int
	scale := 255 / (hi - lo + 1e-6)
	for _, v := range t {
		hist[int((v-lo)*scale)]++
	}
	want := int(cover * npx)
	acc := 0
	for b := 255; b >= 0; b-- {
		acc += hist[b]
		if acc >= want {
			return lo + float32(b)/scale
		}
	}
	return lo
}

// fatCells turns the tissue into adipose: empty polygonal cells with thin membranes (Voronoi edges).
func (cv *canvas) fatCells(r *rng) {
	n := 5 + r.intn(10)
	var sx, sy [16]float32
	for i := 0; i < n; i++ {
		sx[i], sy[i] = r.u(-10, 106), r.u(-10, 106)
	}
	width := r.u(1.0, 2.2)
	for y := 0; y < Height; y++ {
		for x := 0; x < Width; x++ {
			d1, d2 := float32(1e9), float32(1e9)
			for i := 0; i < n; i++ {
				dx, dy := float32(x)-sx[i], float32(y)-sy[i]
				d := dx*dx + dy*dy
				if d < d1 {
					d1, d2 = d, d1
				} else if d < d2 {
					d2 = d
				}
			}
			gap := float32(math.Sqrt(float64(d2))) - float32(math.Sqrt(float64(d1)))
			cv.m[y*Width+x] *= clamp01(width - gap + 0.5)
		}
	}
}

// hole cuts an empty elliptical lumen or crack into the tissue.
func (cv *canvas) hole(r *rng) {
	cx, cy := r.u(0, 96), r.u(0, 96)
	a, b := r.u(3, 14), r.u(2, 7)
	c, s := cosSin(r.u(0, math.Pi))
	for y := max(0, int(cy-a-2)); y < min(Height, int(cy+a+2)); y++ {
		for x := max(0, int(cx-a-2)); x < min(Width, int(cx+a+2)); x++ {
			dx, dy := float32(x)-cx, float32(y)-cy
			u, v := (dx*c+dy*s)/a, (-dx*s+dy*c)/b
			d := float32(math.Sqrt(float64(u*u + v*v)))
			cv.m[y*Width+x] *= clamp01((d - 1) * b)
		}
	}
}

// cosSin returns cos and sin of angle a as float32.
func cosSin(a float32) (float32, float32) {
	s, c := math.Sincos(float64(a))
	return float32(c), float32(s)
}

// stroma paints eosin (cytoplasm, collagen fibres) and a faint hematoxylin tint over the tissue.
func (cv *canvas) stroma(r *rng, st style) {
	clear(cv.t[:])
	valueNoise(r, 4, 0.5, &cv.t)
	valueNoise(r, 13, 0.3, &cv.t)
	valueNoise(r, 31, 0.2, &cv.t)
	base := st.eGain * r.u(0.4, 0.85)
	tint := st.hGain * r.u(0.12, 0.32)
	if st.paleTint {
		tint *= hardTint
	}
	if st.kind == lymphoid {
		tint *= 1.6
	}
	fibre := st.kind == stroma || (st.kind == epithelium && r.f() < 0.3)
	freq := r.u(0.3, 0.6)
	c, s := cosSin(r.u(0, math.Pi))
	warp := r.u(6, 14)
	for y := 0; y < Height; y++ {
		for x := 0; x < Width; x++ {
			i := y*Width + x
			tex := 0.6 + 0.8*(cv.t[i]-0.5)
			if fibre {
				ph := freq*(float32(x)*c+float32(y)*s) + warp*cv.t[i]
				sn := float32(math.Sin(float64(ph)))
				tex = 0.45 + 0.55*sn*sn
			}
			cv.e[i] = cv.m[i] * base * tex
			cv.h[i] = cv.m[i] * tint * (0.6 + 0.8*cv.t[i])
		}
	}
}

// nucleusKind selects the nucleus shape parameters.
type nucleusKind int

const (
	lymphocyte nucleusKind = iota
	fibroblast
	epithelial
	tumour
)

// nuclei places nuclei until each region (centre, surround) reaches its target nuclear area fraction.
func (cv *canvas) nuclei(r *rng, st style, label uint8) {
	normal := [...]nucleusKind{lymphoid: lymphocyte, stroma: fibroblast, adipose: fibroblast, epithelium: epithelial}[st.kind]
	centreKind, centreFrac := normal, st.nucFrac
	if label == 1 {
		centreKind, centreFrac = tumour, max(st.nucFrac, r.u(0.18, 0.4))
	} else if st.kind != lymphoid && r.f() < 0.5 {
		// Negative centres are often as cellular as tumour clusters, with benign nuclei.
		centreFrac = max(st.nucFrac, r.u(0.18, 0.4))
		centreKind = epithelial
	}
	outKind := normal
	if st.tumourOut {
		outKind = tumour
	}
	cv.populate(r, st, true, centreKind, centreFrac)
	cv.populate(r, st, false, outKind, st.nucFrac)
}

// inCentre reports whether pixel (x,y) lies in the label region.
func inCentre(x, y int) bool {
	return x >= centreLo && x < centreHi && y >= centreLo && y < centreHi
}

// populate stamps nuclei of one kind into the centre region or the surround.
func (cv *canvas) populate(r *rng, st style, centre bool, kind nucleusKind, frac float32) {
	var tissue float32
	for y := 0; y < Height; y++ {
		for x := 0; x < Width; x++ {
			if inCentre(x, y) == centre {
				tissue += cv.m[y*Width+x]
			}
		}
	}
	target := frac * tissue
	var area float32
	for tries := 0; area < target && tries < 6000; tries++ {
		x, y := r.intn(Width), r.intn(Height)
		if centre {
			x, y = centreLo+r.intn(centreHi-centreLo), centreLo+r.intn(centreHi-centreLo)
		} else if inCentre(x, y) {
			continue
		}
		if cv.m[y*Width+x] < 0.5 {
			continue
		}
		area += cv.stamp(r, st, kind, float32(x)+r.f(), float32(y)+r.f())
	}
}

// stamp draws one nucleus centred at (cx,cy) and returns its area in pixels.
func (cv *canvas) stamp(r *rng, st style, kind nucleusKind, cx, cy float32) float32 {
	var a, b, inten, tex, rim, k2, k3 float32
	nucleoli := 0
	switch kind {
	case lymphocyte:
		a = r.u(2.1, 3.1)
		b, inten, tex = a*r.u(0.8, 1), r.u(1.0, 1.7), 0.35
	case fibroblast:
		a = r.u(3, 5.5)
		b, inten, tex = r.u(1.1, 1.8), r.u(0.9, 1.5), 0.3
	case epithelial:
		a = r.u(2.8, 3.9)
		b, inten, tex, k2 = a*r.u(0.75, 1), r.u(0.8, 1.3), 0.4, r.u(0, 0.05)
	case tumour:
		a = r.u(4.2, 7.8)
		b, inten, tex, rim = a*r.u(0.6, 1), r.u(0.45, 0.85), 0.8, r.u(0.25, 0.6)
		k2, k3, nucleoli = r.u(0, 0.16), r.u(0, 0.14), 1+r.intn(2)
	}
	inten *= st.hGain
	c, s := cosSin(r.u(0, math.Pi))
	nseed := r.p.Uint64()
	ext := a*(1+k2+k3) + 1.5
	for y := max(0, int(cy-ext)); y < min(Height, int(cy+ext)+1); y++ {
		for x := max(0, int(cx-ext)); x < min(Width, int(cx+ext)+1); x++ {
			dx, dy := float32(x)+0.5-cx, float32(y)+0.5-cy
			u, v := (dx*c+dy*s)/a, (-dx*s+dy*c)/b
			d2 := u*u + v*v
			d := float32(math.Sqrt(float64(d2))) + 1e-6
			cu := u / d
			lim := 1 + k2*(2*cu*cu-1) + k3*cu*(4*cu*cu-3)
			alpha := clamp01((lim-d)*b + 0.5)
			if alpha == 0 {
				continue
			}
			i := y*Width + x
			n := hashNoise(nseed, i)
			val := inten * (1 + tex*(n-0.5))
			if rim > 0 && d > 0.72*lim {
				val += rim * st.hGain
			}
			cv.h[i] = max(cv.h[i], alpha*val)
			cv.e[i] *= 1 - 0.5*alpha
		}
	}
	for k := 0; k < nucleoli; k++ {
		ox, oy := r.u(-0.4, 0.4)*a, r.u(-0.4, 0.4)*b
		cv.dot(cx+ox, cy+oy, r.u(0.8, 1.3), 0.7*st.hGain)
	}
	return math.Pi * a * b
}

// dot adds a small dark blob (a nucleolus) of radius rad and strength k.
func (cv *canvas) dot(cx, cy, rad, k float32) {
	for y := max(0, int(cy-rad-1)); y < min(Height, int(cy+rad+2)); y++ {
		for x := max(0, int(cx-rad-1)); x < min(Width, int(cx+rad+2)); x++ {
			dx, dy := float32(x)+0.5-cx, float32(y)+0.5-cy
			d := float32(math.Sqrt(float64(dx*dx + dy*dy)))
			cv.h[y*Width+x] += k * clamp01(rad-d+0.5)
		}
	}
}

// hashNoise is a cheap deterministic per-pixel uniform value in [0,1).
func hashNoise(seed uint64, i int) float32 {
	return float32(mix64(seed^uint64(i))>>40) / (1 << 24)
}

// compose converts the stain fields to RGB bytes with Beer-Lambert and a little sensor noise.
func (cv *canvas) compose(r *rng, st style, dst []byte) {
	for c := 0; c < 3; c++ {
		for k := 0; k <= odMax; k++ {
			v := st.bg[c] * float32(math.Exp(-float64(k)/odScale))
			cv.lut[c][k] = uint8(min(max(v+0.5, 0), 255))
		}
	}
	nseed := r.p.Uint64()
	for i := 0; i < npx; i++ {
		h, e := cv.h[i], cv.e[i]
		noise := 0.10 * (hashNoise(nseed, i) - 0.5)
		for c := 0; c < 3; c++ {
			od := h*st.hv[c] + e*st.ev[c] + noise
			k := int(od*odScale + 0.5)
			k = min(max(k, 0), odMax)
			dst[i*3+c] = cv.lut[c][k]
		}
	}
}

// blur applies a separable [1 2 1]/4 filter to f (edges clamped), using tmp as scratch: the optics of
// a slide scanner soften every edge by about a pixel.
func blur(f, tmp *[npx]float32) {
	for y := 0; y < Height; y++ {
		row := f[y*Width : (y+1)*Width]
		for x := 0; x < Width; x++ {
			l, r := row[max(x-1, 0)], row[min(x+1, Width-1)]
			tmp[y*Width+x] = 0.25*l + 0.5*row[x] + 0.25*r
		}
	}
	for y := 0; y < Height; y++ {
		up, dn := max(y-1, 0)*Width, min(y+1, Height-1)*Width
		for x := 0; x < Width; x++ {
			f[y*Width+x] = 0.25*tmp[up+x] + 0.5*tmp[y*Width+x] + 0.25*tmp[dn+x]
		}
	}
}
