package audit

import "math"

// brightnessBins is the number of bins of the reported per-patch brightness histogram.
const brightnessBins = 16

// PixelStats summarises the colour of one split, to spot drift between splits.
type PixelStats struct {
	// Patches is the number of readable patches the statistics cover.
	Patches int `json:"patches"`
	// ChannelMean and ChannelStd are the per-channel (R,G,B) mean and standard deviation over all
	// pixels of the split, on the 0..1 scale (official PCAM: about 0.70/0.54/0.69 and 0.24/0.28/0.21).
	ChannelMean [3]float64 `json:"channel_mean"`
	ChannelStd  [3]float64 `json:"channel_std"`
	// MeanShiftVsTrain is (ChannelMean - train ChannelMean) / train ChannelStd per channel; nil for
	// train itself or when train was not audited. |shift| > 0.25 deserves a look.
	MeanShiftVsTrain []float64 `json:"mean_shift_vs_train,omitempty"`
	// BrightnessHistogram counts patches by mean luminance in 16 equal bins over 0..255.
	BrightnessHistogram []int `json:"brightness_histogram"`
	// BrightnessQuantiles are the 5th, 25th, 50th, 75th and 95th percentiles of per-patch mean
	// luminance on the 0..1 scale (resolution 1/256).
	BrightnessQuantiles [5]float64 `json:"brightness_quantiles"`
	// MeanTissueFraction is the average fraction of tissue pixels per patch.
	MeanTissueFraction float64 `json:"mean_tissue_fraction"`
}

// pixelAcc accumulates split statistics with integer sums, so the result is the same whatever order
// the chunks are merged in.
type pixelAcc struct {
	patches      int
	sum, sumSq   [3]uint64
	brightHist   [256]int
	tissuePixels uint64
}

// add records one readable patch.
func (a *pixelAcc) add(m patchPixels) {
	a.patches++
	for c := range 3 {
		a.sum[c] += m.sum[c]
		a.sumSq[c] += m.sumSq[c]
	}
	a.brightHist[min(255, int(m.brightness()))]++
	a.tissuePixels += uint64(m.tissue)
}

// merge adds the counts of b to a.
func (a *pixelAcc) merge(b *pixelAcc) {
	a.patches += b.patches
	for c := range 3 {
		a.sum[c] += b.sum[c]
		a.sumSq[c] += b.sumSq[c]
	}
	for i, n := range b.brightHist {
		a.brightHist[i] += n
	}
	a.tissuePixels += b.tissuePixels
}

// stats turns the accumulated sums into PixelStats.
func (a *pixelAcc) stats() PixelStats {
	s := PixelStats{Patches: a.patches, BrightnessHistogram: make([]int, brightnessBins)}
	for i, n := range a.brightHist {
		s.BrightnessHistogram[i*brightnessBins/256] += n
	}
	if a.patches == 0 {
		return s
	}
	n := float64(a.patches) * pixelsPerPatch
	for c := range 3 {
		mean := float64(a.sum[c]) / n
		v := float64(a.sumSq[c])/n - mean*mean
		s.ChannelMean[c] = round6(mean / 255)
		s.ChannelStd[c] = round6(math.Sqrt(math.Max(0, v)) / 255)
	}
	for i, q := range []float64{0.05, 0.25, 0.5, 0.75, 0.95} {
		s.BrightnessQuantiles[i] = round6(histQuantile(a.brightHist[:], a.patches, q) / 256)
	}
	s.MeanTissueFraction = round6(float64(a.tissuePixels) / n)
	return s
}

// histQuantile returns the lower edge of the bin holding quantile q of a histogram with total counts.
func histQuantile(hist []int, total int, q float64) float64 {
	target := int(math.Ceil(q * float64(total)))
	seen := 0
	for i, n := range hist {
		seen += n
		if seen >= max(1, target) {
			return float64(i)
		}
	}
	return float64(len(hist) - 1)
}

// shiftVs returns the per-channel mean shift of s against ref in units of ref's std.
func shiftVs(s, ref PixelStats) []float64 {
	out := make([]float64, 3)
	for c := range 3 {
		if ref.ChannelStd[c] > 0 {
			out[c] = round6((s.ChannelMean[c] - ref.ChannelMean[c]) / ref.ChannelStd[c])
		}
	}
	return out
}

// round6 rounds to 6 decimals so reports stay readable and stable.
func round6(x float64) float64 {
	return math.Round(x*1e6) / 1e6
}
