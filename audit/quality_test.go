package audit

import (
	"math/rand/v2"
	"testing"

	"github.com/pcamflow/pcamflow/pcam"
)

// referencePixels is the obvious, branchy definition of the pixel counts.
func referencePixels(pix []byte) patchPixels {
	var m patchPixels
	for i := 0; i < len(pix); i += 3 {
		r, g, b := pix[i], pix[i+1], pix[i+2]
		for c, v := range []byte{r, g, b} {
			m.sum[c] += uint64(v)
			m.sumSq[c] += uint64(v) * uint64(v)
		}
		mx, mn := max(r, g, b), min(r, g, b)
		switch {
		case mx <= blackMax:
			m.dark++
		case mn >= whiteMin:
			m.white++
		case mx >= tissueMinMax && int(mx-mn)*100 >= tissueSatPercent*int(mx):
			m.tissue++
		}
		if mn == 0 || mx == 255 {
			m.clipped++
		}
	}
	return m
}

func TestMeasurePixelsMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	p := make([]byte, pcam.PatchBytes)
	for k := range 20 {
		switch k % 3 {
		case 0:
			for i := range p {
				p[i] = byte(rng.IntN(256))
			}
		case 1:
			texturedPatch(uint64(k), p)
		default:
			copy(p, saturate(jitter(lowTissuePatch(), rng, 0.2, 30, 20)))
		}
		if got, want := measurePixels(p), referencePixels(p); got != want {
			t.Fatalf("case %d: measurePixels = %+v, want %+v", k, got, want)
		}
	}
}

func TestClassifyQuality(t *testing.T) {
	textured := make([]byte, pcam.PatchBytes)
	texturedPatch(3, textured)
	rng := rand.New(rand.NewPCG(1, 1))
	cases := []struct {
		name string
		pix  []byte
		want quality
	}{
		{"textured tissue", textured, qualityOK},
		{"pure white", uniformPatch(255, 255, 255), qualityBlank},
		{"near-white glass", jitter(uniformPatch(232, 230, 236), rng, 0, 0, 5), qualityBlank},
		{"black", uniformPatch(0, 0, 0), qualityBlack},
		{"dark noise", jitter(uniformPatch(10, 10, 10), rng, 0, 0, 8), qualityBlack},
		{"pure red", uniformPatch(255, 0, 0), qualitySaturated},
		{"clipped contrast", saturate(textured), qualitySaturated},
		{"grey uniform", uniformPatch(128, 128, 128), qualityLowTissue},
		{"small spot", lowTissuePatch(), qualityLowTissue},
	}
	for _, c := range cases {
		if got := measurePixels(c.pix).classify(); got != c.want {
			t.Errorf("%s: quality %q, want %q", c.name, got.class(), c.want.class())
		}
	}
}
