package pcam

import "math"

// PixelStats accumulates per-channel mean and standard deviation of pixel values scaled to [0,1], over
// every pixel of the patches added. The zero value is ready to use.
type PixelStats struct {
	n        int64
	sum, ssq [3]float64
}

// Add accumulates the pixels of patches (a whole number of patches, PatchBytes each).
func (s *PixelStats) Add(patches []byte) {
	var sum, ssq [3]uint64
	for i := 0; i+2 < len(patches); i += 3 {
		for c := 0; c < 3; c++ {
			v := uint64(patches[i+c])
			sum[c] += v
			ssq[c] += v * v
		}
	}
	for c := 0; c < 3; c++ {
		s.sum[c] += float64(sum[c]) / 255
		s.ssq[c] += float64(ssq[c]) / (255 * 255)
	}
	s.n += int64(len(patches) / 3)
}

// Pixels returns the number of pixels accumulated.
func (s *PixelStats) Pixels() int64 { return s.n }

// Mean returns the per-channel (R, G, B) mean in [0,1].
func (s *PixelStats) Mean() [3]float64 {
	var m [3]float64
	for c := range m {
		m[c] = s.sum[c] / float64(max(s.n, 1))
	}
	return m
}

// Std returns the per-channel (R, G, B) population standard deviation in [0,1].
func (s *PixelStats) Std() [3]float64 {
	var sd [3]float64
	m := s.Mean()
	for c := range sd {
		sd[c] = math.Sqrt(max(s.ssq[c]/float64(max(s.n, 1))-m[c]*m[c], 0))
	}
	return sd
}
