package audit

import (
	"fmt"
	"math"
	"sort"

	"github.com/pcamflow/pcamflow/pcam"
)

// DefaultMaxResidual is the default largest relative pixel residual of a verified near duplicate;
// see Options.MaxResidual and residual.
const DefaultMaxResidual = 0.25

// thumbSide is the side of the per-channel thumbnails used to verify candidate pairs.
const thumbSide = smallSide

// thumb is a 3x32x32 box-averaged colour thumbnail (channel-major).
type thumb [3][thumbSide * thumbSide]float32

// makeThumb box-averages one patch to a colour thumbnail.
func makeThumb(pix []byte) *thumb {
	var t thumb
	for y := range pcam.Height {
		for x := range pcam.Width {
			o := (y*pcam.Width + x) * 3
			k := (y/boxSide)*thumbSide + x/boxSide
			for c := range 3 {
				t[c][k] += float32(pix[o+c])
			}
		}
	}
	for c := range 3 {
		for k := range t[c] {
			t[c][k] /= boxSide * boxSide
		}
	}
	return &t
}

// dihedralIndex maps thumbnail position (x, y) of variant t to the source position, the same
// transform under which the hash of the transformed image equals variant t of the hash.
func dihedralIndex(x, y, t int) int {
	sx, sy := dihedralSource(x, y, t, thumbSide)
	return sy*thumbSide + sx
}

// dihedralSource returns the source position of position (x, y) of variant t of a side×side image:
// bit 1 flips horizontally, bit 2 vertically, then bit 4 transposes.
func dihedralSource(x, y, t, side int) (int, int) {
	sx, sy := x, y
	if t&1 != 0 {
		sx = side - 1 - sx
	}
	if t&2 != 0 {
		sy = side - 1 - sy
	}
	if t&4 != 0 {
		sx, sy = sy, sx
	}
	return sx, sy
}

// transformNames names the dihedral variants t = 0..7 of dihedralSource as geometric transforms
// (rotations clockwise, image y pointing down). Variant t of image A is image B when
// B(x, y) = A(dihedralSource(x, y, t)).
var transformNames = [8]string{"identity", "flip_h", "flip_v", "rot180", "transpose", "rot90", "rot270", "anti_transpose"}

// exactUnder reports whether patch b is exactly variant t of patch a, pixel for pixel.
func exactUnder(a, b []byte, t int) bool {
	for y := range pcam.Height {
		for x := range pcam.Width {
			sx, sy := dihedralSource(x, y, t, pcam.Width)
			o, so := (y*pcam.Width+x)*3, (sy*pcam.Width+sx)*3
			if a[so] != b[o] || a[so+1] != b[o+1] || a[so+2] != b[o+2] {
				return false
			}
		}
	}
	return true
}

// exactCheckMaxResidual is the thumbnail residual below which a verified pair is re-read at full
// resolution to tell an exact flip/rotation from a near copy; exact transforms leave only float
// rounding (about 1e-7), while colour jitter alone leaves more than 1e-3.
const exactCheckMaxResidual = 1e-3

// residual fits b ≈ gain·T(a) + offset per channel by least squares, T being flip/rotation t, and
// returns the residual relative to b's own spread: sqrt(residual sum of squares / total sum of
// squares about the channel means), pooled over the channels, i.e. sqrt(1 - R²). A near duplicate
// (flip/rotation plus colour jitter and noise) leaves only noise and clipping (< 0.15 in the tests);
// a different image with a similar layout, such as another nucleus on plain background, leaves
// its differences (> 0.45 on the synthetic generator's look-alikes). Flat b gives 1.
func residual(a, b *thumb, t int) float64 {
	var sse, tot float64
	n := float64(thumbSide * thumbSide)
	for c := range 3 {
		var sa, sb, saa, sab, sbb float64
		for y := range thumbSide {
			for x := range thumbSide {
				av := float64(a[c][dihedralIndex(x, y, t)])
				bv := float64(b[c][y*thumbSide+x])
				sa, sb, saa, sab, sbb = sa+av, sb+bv, saa+av*av, sab+av*bv, sbb+bv*bv
			}
		}
		va := saa - sa*sa/n
		vb := sbb - sb*sb/n
		cov := sab - sa*sb/n
		res := vb
		if va > 1e-9 {
			res = vb - cov*cov/va
		}
		sse += math.Max(0, res)
		tot += math.Max(0, vb)
	}
	if tot < 1e-9 {
		return 1
	}
	return math.Min(1, math.Sqrt(sse/tot))
}

// thumbLoader reads the thumbnails of chosen patches through the split readers.
type thumbLoader struct {
	d       *dataset
	readers []pcam.Reader // by split position
	chunk   int
}

// readPatch reads the pixels of one global id into buf (PatchBytes bytes).
func (l *thumbLoader) readPatch(gid int, buf []byte) error {
	s, i := l.d.locate(gid)
	if err := l.readers[s].Read([]int{i}, buf, nil); err != nil {
		return fmt.Errorf("audit: re-read patch %s:%d (%s) to compare a near duplicate exactly: %w",
			l.d.scans[s].split, i, l.readers[s].Source(), err)
	}
	return nil
}

// markExact sets e.exact for the kept edges whose residual is small enough to be an exact
// flip/rotation, comparing the two patches at full resolution.
func (l *thumbLoader) markExact(edges []edge, gids []int) error {
	a, b := make([]byte, pcam.PatchBytes), make([]byte, pcam.PatchBytes)
	for k := range edges {
		e := &edges[k]
		if e.rms > exactCheckMaxResidual {
			continue
		}
		if err := l.readPatch(gids[e.a], a); err != nil {
			return err
		}
		if err := l.readPatch(gids[e.b], b); err != nil {
			return err
		}
		e.exact = exactUnder(a, b, int(e.trans))
	}
	return nil
}

// load returns thumbnails for the given global ids (sorted, unique), read in chunks per split.
func (l *thumbLoader) load(gids []int) (map[int]*thumb, error) {
	out := make(map[int]*thumb, len(gids))
	buf := make([]byte, l.chunk*pcam.PatchBytes)
	for start := 0; start < len(gids); {
		s, _ := l.d.locate(gids[start])
		end := start
		var idx []int
		for end < len(gids) && len(idx) < l.chunk {
			si, i := l.d.locate(gids[end])
			if si != s {
				break
			}
			idx = append(idx, i)
			end++
		}
		if err := l.readers[s].Read(idx, buf[:len(idx)*pcam.PatchBytes], nil); err != nil {
			return nil, fmt.Errorf("audit: re-read %d patches of split %s (%s) to verify near duplicates: %w",
				len(idx), l.d.scans[s].split, l.readers[s].Source(), err)
		}
		for k := range idx {
			out[gids[start+k]] = makeThumb(buf[k*pcam.PatchBytes : (k+1)*pcam.PatchBytes])
		}
		start = end
	}
	return out, nil
}

// verifyEdges keeps the candidate edges whose pixel residual is at most maxRMS. Items are
// positions in gids. Thumbnails are loaded for at most batch distinct items at a time, so memory
// stays bounded (12 KB per item) whatever the number of candidates.
func verifyEdges(cands []edge, gids []int, l *thumbLoader, maxRMS float64, batch int) ([]edge, error) {
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].a != cands[j].a {
			return cands[i].a < cands[j].a
		}
		return cands[i].b < cands[j].b
	})
	var kept []edge
	for start := 0; start < len(cands); {
		need := map[int]bool{}
		end := start
		for end < len(cands) && (len(need) < batch || (need[gids[cands[end].a]] && need[gids[cands[end].b]])) {
			need[gids[cands[end].a]], need[gids[cands[end].b]] = true, true
			end++
		}
		ids := make([]int, 0, len(need))
		for g := range need {
			ids = append(ids, g)
		}
		sort.Ints(ids)
		thumbs, err := l.load(ids)
		if err != nil {
			return nil, err
		}
		for _, e := range cands[start:end] {
			r := residual(thumbs[gids[e.a]], thumbs[gids[e.b]], int(e.trans))
			if r <= maxRMS {
				e.rms = float32(r)
				kept = append(kept, e)
			}
		}
		start = end
	}
	return kept, l.markExact(kept, gids)
}
