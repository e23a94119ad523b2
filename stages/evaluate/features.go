package evaluate

import (
	"math"

	"github.com/pcamflow/pcamflow/pcam"
)

// Features are the per-patch measurements that slices and the colour baseline use, computed from
// the pixels in the same pass as the prediction.
type Features struct {
	// Brightness is the mean luminance 0.299 R + 0.587 G + 0.114 B, scaled to [0, 1].
	Brightness float64 `json:"brightness"`
	// Tissue is the fraction of tissue pixels, with the data audit's definition: max(R,G,B) >= 30,
	// min(R,G,B) < 220 and HSV saturation (max−min)/max >= 0.08.
	Tissue float64 `json:"tissue"`
	// Haematoxylin and Eosin are the mean stain optical densities of the tissue pixels (0 when the
	// patch has none), from colour deconvolution with Ruifrok & Johnston's stain vectors.
	Haematoxylin float64 `json:"haematoxylin"`
	Eosin        float64 `json:"eosin"`
	// Mean and Std are the per-channel (R, G, B) mean and population standard deviation of the
	// pixels scaled to [0, 1]: the colour baseline's inputs.
	Mean [3]float64 `json:"mean"`
	Std  [3]float64 `json:"std"`
}

// Colour returns the six colour statistics (means, then standard deviations).
func (f Features) Colour() []float64 {
	return []float64{f.Mean[0], f.Mean[1], f.Mean[2], f.Std[0], f.Std[1], f.Std[2]}
}

// Stain vectors of Ruifrok & Johnston (2001), "Quantification of histochemical staining by colour
// deconvolution", Anal. Quant. Cytol. Histol. 23(4): the optical density of haematoxylin, eosin
// and DAB per RGB channel (the values scikit-image's rgb2hed uses), normalised to unit length.
var stainVectors = [3][3]float64{
	{0.65, 0.70, 0.29}, // haematoxylin
	{0.07, 0.99, 0.11}, // eosin
	{0.27, 0.57, 0.78}, // DAB (the residual channel)
}

// unmix is the inverse of the matrix whose rows are the unit stain vectors: a pixel's optical
// densities (OD_R, OD_G, OD_B) times unmix gives its stain amounts (H, E, D).
var unmix = func() [3][3]float64 {
	var m [3][3]float64
	for i, v := range stainVectors {
		n := math.Sqrt(v[0]*v[0] + v[1]*v[1] + v[2]*v[2])
		for j := range 3 {
			m[i][j] = v[j] / n
		}
	}
	return invert3(m)
}()

// odLUT maps an 8-bit channel value I to its optical density −log10(max(I, 1)/255).
var odLUT = func() (t [256]float64) {
	for i := range t {
		t[i] = -math.Log10(float64(max(i, 1)) / 255)
	}
	return t
}()

// Measure computes the features of one patch (PatchBytes interleaved RGB bytes).
func Measure(patch []byte) Features {
	var f Features
	var st pcam.PixelStats
	st.Add(patch)
	f.Mean, f.Std = st.Mean(), st.Std()
	var lum, h, e float64
	tissue := 0
	for p := 0; p+2 < len(patch); p += 3 {
		r, g, b := int(patch[p]), int(patch[p+1]), int(patch[p+2])
		lum += 0.299*float64(r) + 0.587*float64(g) + 0.114*float64(b)
		mx, mn := max(r, g, b), min(r, g, b)
		if mx >= 30 && mn < 220 && (mx-mn)*100 >= 8*mx {
			tissue++
			od := [3]float64{odLUT[r], odLUT[g], odLUT[b]}
			h += od[0]*unmix[0][0] + od[1]*unmix[1][0] + od[2]*unmix[2][0]
			e += od[0]*unmix[0][1] + od[1]*unmix[1][1] + od[2]*unmix[2][1]
		}
	}
	px := float64(len(patch) / 3)
	f.Brightness = lum / px / 255
	f.Tissue = float64(tissue) / px
	if tissue > 0 {
		f.Haematoxylin, f.Eosin = h/float64(tissue), e/float64(tissue)
	}
	return f
}

// invert3 inverts a 3×3 matrix by the adjugate (the stain matrix is well conditioned).
func invert3(m [3][3]float64) [3][3]float64 {
	det := m[0][0]*(m[1][1]*m[2][2]-m[1][2]*m[2][1]) - m[0][1]*(m[1][0]*m[2][2]-m[1][2]*m[2][0]) + m[0][2]*(m[1][0]*m[2][1]-m[1][1]*m[2][0])
	var inv [3][3]float64
	inv[0][0] = (m[1][1]*m[2][2] - m[1][2]*m[2][1]) / det
	inv[0][1] = (m[0][2]*m[2][1] - m[0][1]*m[2][2]) / det
	inv[0][2] = (m[0][1]*m[1][2] - m[0][2]*m[1][1]) / det
	inv[1][0] = (m[1][2]*m[2][0] - m[1][0]*m[2][2]) / det
	inv[1][1] = (m[0][0]*m[2][2] - m[0][2]*m[2][0]) / det
	inv[1][2] = (m[0][2]*m[1][0] - m[0][0]*m[1][2]) / det
	inv[2][0] = (m[1][0]*m[2][1] - m[1][1]*m[2][0]) / det
	inv[2][1] = (m[0][1]*m[2][0] - m[0][0]*m[2][1]) / det
	inv[2][2] = (m[0][0]*m[1][1] - m[0][1]*m[1][0]) / det
	return inv
}
