package model

import "fmt"

// pixelLUT maps each byte value of each channel to its normalised float32, (b/255 − mean)/std.
type pixelLUT [][256]float32

func newPixelLUT(n Normalize, channels int) pixelLUT {
	lut := make(pixelLUT, channels)
	for c := range lut {
		mean, std := 0.0, 1.0
		if len(n.Mean) == channels {
			mean = n.Mean[c]
		}
		if len(n.Std) == channels {
			std = n.Std[c]
		}
		for b := range 256 {
			lut[c][b] = float32((float64(b)/255 - mean) / std)
		}
	}
	return lut
}

// fill writes the normalised pixels into dst (same length as pix, HWC order kept), on the kernel
// threads for large batches (each value is a table look-up, so the split changes nothing).
func (l pixelLUT) fill(dst []float32, pix []byte) {
	const small = 1 << 17 // below this many bytes, one thread is faster
	c := len(l)
	if len(pix) < small {
		l.fillRange(dst, pix)
		return
	}
	// split on whole pixels, so that every range starts at channel 0
	px := len(pix) / c
	parallelFor(px, func(lo, hi int) { l.fillRange(dst[lo*c:hi*c], pix[lo*c:hi*c]) })
}

// fillRange is fill on one range that starts at channel 0.
func (l pixelLUT) fillRange(dst []float32, pix []byte) {
	c := len(l)
	if c == 3 {
		l0, l1, l2 := &l[0], &l[1], &l[2]
		dst = dst[:len(pix)]
		for i := 0; i+2 < len(pix); i += 3 {
			dst[i], dst[i+1], dst[i+2] = l0[pix[i]], l1[pix[i+1]], l2[pix[i+2]]
		}
		return
	}
	for i, b := range pix {
		dst[i] = l[i%c][b]
	}
}

// countImages checks that pix holds a whole number of images of imgBytes bytes and, when labels
// is not nil, one label (0 or 1) per image; it returns the number of images.
func countImages(pix []byte, labels []uint8, imgBytes int, checkLabels bool) (int, error) {
	if len(pix) == 0 || len(pix)%imgBytes != 0 {
		return 0, fmt.Errorf("batch of %d bytes is not a positive whole number of %d-byte images", len(pix), imgBytes)
	}
	n := len(pix) / imgBytes
	if !checkLabels {
		return n, nil
	}
	if len(labels) != n {
		return 0, fmt.Errorf("batch has %d images but %d labels", n, len(labels))
	}
	for i, y := range labels {
		if y > 1 {
			return 0, fmt.Errorf("label %d of the batch is %d, not 0 or 1", i, y)
		}
	}
	return n, nil
}
