package audit

import "github.com/pcamflow/pcamflow/pcam"

// quality is the per-patch quality class; a patch has at most one.
type quality uint8

// Quality classes in precedence order (first match wins).
const (
	qualityOK quality = iota
	qualityBlack
	qualityBlank
	qualitySaturated
	qualityLowTissue
)

// class returns the finding class name of q, or "" for qualityOK.
func (q quality) class() string {
	switch q {
	case qualityBlack:
		return Black
	case qualityBlank:
		return Blank
	case qualitySaturated:
		return Saturated
	case qualityLowTissue:
		return LowTissue
	}
	return ""
}

// Pixel thresholds of the quality classes (8-bit channel values); see the package documentation.
const (
	blackMax          = 25  // a pixel is dark when max(R,G,B) <= blackMax
	whiteMin          = 220 // a pixel is near-white when min(R,G,B) >= whiteMin
	tissueMinMax      = 30  // a tissue pixel has max(R,G,B) >= tissueMinMax
	tissueSatPercent  = 8   // and HSV saturation (max-min)/max >= 8%
	blackPercent      = 95  // black patch: >= 95% dark pixels
	blankPermille     = 995 // blank patch: >= 99.5% near-white pixels (a visible nucleus is content)
	saturatedPercent  = 50  // saturated patch: >= 50% clipped pixels
	lowTissuePercent  = 10  // low-tissue patch: < 10% tissue pixels
	lowInfoGreyStdMax = 2.0 // near-dup search skips patches whose 32x32 grey std is below this
)

// pixelsPerPatch is the number of pixels in one patch.
const pixelsPerPatch = pcam.Height * pcam.Width

// patchPixels holds the per-patch pixel counts and channel sums gathered in one pass.
type patchPixels struct {
	dark, white, clipped, tissue int
	sum, sumSq                   [3]uint64
}

// measurePixels scans one patch once and counts what the quality classes and the split statistics
// need. The per-pixel tests are branch-free (sign-bit arithmetic) because tissue, background and
// nuclei alternate unpredictably; sums are kept per row in 32 bits and folded into 64 bits.
func measurePixels(pix []byte) patchPixels {
	var m patchPixels
	var dark, white, clipped, tissue int32
	const rowBytes = pcam.Width * pcam.Channels
	for row := 0; row+rowBytes <= len(pix); row += rowBytes {
		var s, sq [3]uint32
		line := pix[row : row+rowBytes]
		for len(line) >= 3 {
			r, g, b := int32(line[0]), int32(line[1]), int32(line[2])
			line = line[3:]
			s[0] += uint32(r)
			s[1] += uint32(g)
			s[2] += uint32(b)
			sq[0] += uint32(r * r)
			sq[1] += uint32(g * g)
			sq[2] += uint32(b * b)
			mx, mn := max(r, g, b), min(r, g, b)
			isDark := (mx - (blackMax + 1)) >> 31 & 1  // mx <= blackMax
			isWhite := ((whiteMin - 1) - mn) >> 31 & 1 // mn >= whiteMin
			notBright := (mx - tissueMinMax) >> 31     // -1 when mx < tissueMinMax
			notSat := ((mx-mn)*100 - tissueSatPercent*mx) >> 31
			dark += isDark
			white += isWhite &^ isDark
			tissue += ^(notBright | notSat) & 1 &^ isWhite
			clipped += ((mn-1)>>31 | (254-mx)>>31) & 1
		}
		for c := range 3 {
			m.sum[c] += uint64(s[c])
			m.sumSq[c] += uint64(sq[c])
		}
	}
	m.dark, m.white, m.clipped, m.tissue = int(dark), int(white), int(clipped), int(tissue)
	return m
}

// classify applies the quality thresholds in precedence order.
func (m patchPixels) classify() quality {
	switch {
	case m.dark*100 >= blackPercent*pixelsPerPatch:
		return qualityBlack
	case m.white*1000 >= blankPermille*pixelsPerPatch:
		return qualityBlank
	case m.clipped*100 >= saturatedPercent*pixelsPerPatch:
		return qualitySaturated
	case m.tissue*100 < lowTissuePercent*pixelsPerPatch:
		return qualityLowTissue
	}
	return qualityOK
}

// tissueFraction returns the fraction of tissue pixels.
func (m patchPixels) tissueFraction() float64 {
	return float64(m.tissue) / pixelsPerPatch
}

// brightness returns the mean luminance of the patch on the 0..255 scale.
func (m patchPixels) brightness() float64 {
	return (0.299*float64(m.sum[0]) + 0.587*float64(m.sum[1]) + 0.114*float64(m.sum[2])) / pixelsPerPatch
}
