package audit

// PatchMeasures are the measures the audit takes of one patch, exported for the offline bundle's
// drift check (package bundle), so that inference and the audit call a patch blank, black or
// tissue-poor by the same rules.
type PatchMeasures struct {
	// ChannelMean is the patch's mean R, G and B on the 0..1 scale.
	ChannelMean [3]float64
	// Brightness is the mean luminance (0.299 R + 0.587 G + 0.114 B) on the 0..1 scale.
	Brightness float64
	// TissueFraction is the fraction of tissue pixels (see the package documentation).
	TissueFraction float64
	// Class is the audit's quality class of the patch ("" for a usable patch, else Black, Blank,
	// Saturated or LowTissue).
	Class string
}

// MeasurePatch measures one patch of PatchBytes interleaved RGB bytes.
func MeasurePatch(pix []byte) PatchMeasures {
	m := measurePixels(pix)
	var out PatchMeasures
	for c := range 3 {
		out.ChannelMean[c] = float64(m.sum[c]) / pixelsPerPatch / 255
	}
	out.Brightness = m.brightness() / 255
	out.TissueFraction = m.tissueFraction()
	out.Class = m.classify().class()
	return out
}
