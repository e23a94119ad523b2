package bundle

import (
	"strings"
	"testing"

	"github.com/pcamflow/pcamflow/pcam"
)

// patch returns a patch whose every pixel is (r, g, b).
func patch(r, g, b byte) []byte {
	pix := make([]byte, pcam.PatchBytes)
	for i := 0; i < len(pix); i += 3 {
		pix[i], pix[i+1], pix[i+2] = r, g, b
	}
	return pix
}

// tissueDrift is drift statistics of pink-purple tissue (every measure sd 0.05).
func tissueDrift() *Drift {
	d := &Drift{Patches: 100}
	means := []float64{0.7, 0.5, 0.7, 0.58, 1}
	for i, n := range featureNames {
		d.Features = append(d.Features, Feature{Name: n, Mean: means[i], SD: 0.05})
	}
	return d
}

func TestCheckerFlags(t *testing.T) {
	for _, c := range []struct {
		name string
		pix  []byte
		want string
	}{
		{"tissue", patch(178, 128, 178), ""},
		{"blank", patch(250, 250, 250), "blank"},
		{"black", patch(3, 3, 3), "black"},
		{"green", patch(40, 200, 40), "far:mean_red=-"},
	} {
		c := c
		t.Run(c.name, func(t *testing.T) {
			got := NewChecker(tissueDrift()).Flag(c.pix)
			if c.want == "" && got != "" || c.want != "" && !strings.HasPrefix(got, c.want) {
				t.Errorf("flag %q, want %q", got, c.want)
			}
		})
	}
}

func TestCheckerWarning(t *testing.T) {
	ch := NewChecker(tissueDrift())
	for range 20 {
		ch.Flag(patch(178, 128, 178))
	}
	if w := ch.Warning(); w != "" {
		t.Errorf("warning for training-like patches: %q", w)
	}
	ch.Flag(patch(250, 250, 250))
	ch.Flag(patch(40, 200, 40))
	w := ch.Warning()
	if !strings.Contains(w, "drift: 2 of 22 patches unlike the training data (1 blank, 0 black, 1 more than 4 sd from the training mean: mean_red 1)") {
		t.Errorf("warning %q", w)
	}
	// A batch shifted by 2 sd in every patch: no patch is far, the batch mean is.
	shifted := NewChecker(tissueDrift())
	for range 12 {
		shifted.Flag(patch(204, 128, 178)) // red mean 0.8 = +2 sd
	}
	if w := shifted.Warning(); !strings.Contains(w, "drift: 0 of 12") || !strings.Contains(w, "the mean over the batch moved: mean_red +2.0sd") {
		t.Errorf("shift warning %q", w)
	}
}
