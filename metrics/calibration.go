package metrics

import "math"

// CalibrationBin is one bin of a reliability diagram: the samples whose predicted probability lies
// in (Lo, Hi] (the first bin also holds probability 0).
type CalibrationBin struct {
	// Lo and Hi bound the bin's probabilities.
	Lo, Hi float64
	// Count is the number of samples in the bin.
	Count int
	// MeanProb is the mean predicted probability of the bin's samples (the confidence); 0 when empty.
	MeanProb float64
	// FracPos is the fraction of the bin's samples whose label is positive (the observed
	// frequency); 0 when empty.
	FracPos float64
}

// Calibration returns a reliability diagram of bins equal-width bins over [0, 1]: bin k holds the
// probabilities in (k/bins, (k+1)/bins], the first bin also holds 0 (right-closed bins, as in Guo et
// al. 2017 and scikit-learn's calibration_curve; the edges are the float64 values k/bins). Empty bins
// are included with Count 0 so that every diagram has the same x axis; scikit-learn drops them, and
// its edges are widened by 1e-8, so a probability within 1e-8 above an inner edge may land one bin
// lower there. Pass the result to ECE for the expected calibration error. It returns nil when
// bins < 1, the lengths differ, the input is empty, a label is not 0 or 1, or a probability is NaN
// or outside [0, 1].
func Calibration(labels []uint8, probs []float64, bins int) []CalibrationBin {
	if bins < 1 || len(labels) != len(probs) || len(labels) == 0 {
		return nil
	}
	sumProb := make([]float64, bins)
	out := make([]CalibrationBin, bins)
	for i, y := range labels {
		p := probs[i]
		if y > 1 || !(p >= 0 && p <= 1) {
			return nil
		}
		k := binOf(p, bins)
		out[k].Count++
		sumProb[k] += p
		out[k].FracPos += float64(y) // positives for now, divided below
	}
	for k := range out {
		out[k].Lo = float64(k) / float64(bins)
		out[k].Hi = float64(k+1) / float64(bins)
		if n := float64(out[k].Count); n > 0 {
			out[k].MeanProb = sumProb[k] / n
			out[k].FracPos /= n
		}
	}
	return out
}

// ECE returns the expected calibration error of a reliability diagram: the mean over samples of
// |FracPos − MeanProb| of the sample's bin, that is Σ Count·|FracPos − MeanProb| / Σ Count. It
// returns NaN when the bins hold no sample.
func ECE(bins []CalibrationBin) float64 {
	var sum float64
	n := 0
	for _, b := range bins {
		sum += float64(b.Count) * math.Abs(b.FracPos-b.MeanProb)
		n += b.Count
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// binOf returns the index k of the right-closed bin (k/bins, (k+1)/bins] holding p, with 0 in bin 0.
// The estimate from p·bins can be off by one through rounding; the comparisons with the float64
// edges make the result exact.
func binOf(p float64, bins int) int {
	n := float64(bins)
	k := min(max(int(math.Ceil(p*n))-1, 0), bins-1)
	for k > 0 && p <= float64(k)/n {
		k--
	}
	for k < bins-1 && p > float64(k+1)/n {
		k++
	}
	return k
}
