package model

import (
	"slices"
	"testing"
)

// TestPredictTimed: PredictTimed gives Predict's probabilities bit for bit and adds a positive time
// to both phases, accumulating over calls; the next plain Predict is not timed.
func TestPredictTimed(t *testing.T) {
	for name, cfg := range map[string]Config{"mlp": smallMLP(), "cnn": smallCNN()} {
		t.Run(name, func(t *testing.T) {
			tr := mustNew(t, cfg)
			pix, _ := toyData(cfg.Input, 5, 3)
			want, err := tr.Predict(pix)
			if err != nil {
				t.Fatal(err)
			}
			var ph Phases
			got, err := tr.PredictTimed(pix, &ph)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("PredictTimed = %v, Predict = %v", got, want)
			}
			if ph.Preprocess <= 0 || ph.Compute <= 0 {
				t.Errorf("phases = %+v, want both positive", ph)
			}
			first := ph
			if _, err := tr.PredictTimed(pix, &ph); err != nil {
				t.Fatal(err)
			}
			if ph.Preprocess <= first.Preprocess || ph.Compute <= first.Compute {
				t.Errorf("phases did not accumulate: %+v then %+v", first, ph)
			}
			after := ph
			if _, err := tr.Predict(pix); err != nil {
				t.Fatal(err)
			}
			if ph != after {
				t.Errorf("a plain Predict changed the phases: %+v -> %+v", after, ph)
			}
		})
	}
}
