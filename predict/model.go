package predict

import (
	"fmt"

	"github.com/pcamflow/pcamflow/model"
	"github.com/pcamflow/pcamflow/pcam"
)

// Predictor gives the probability of tumour for each patch of pix (a whole number of patches,
// PatchBytes each, interleaved RGB). *Model implements it; tests may use other predictors.
type Predictor interface {
	Predict(pix []byte) ([]float64, error)
}

// Model is a trained network loaded from a checkpoint of the train stage.
type Model struct {
	path string
	t    *model.Trainer
}

// Load opens the checkpoint at path and checks that the model takes 96×96×3 PCAM patches; the
// error names the file and both shapes otherwise.
func Load(path string) (*Model, error) {
	t, err := model.LoadTrainerFile(path)
	if err != nil {
		return nil, err
	}
	in := t.Config().Input
	if in.Height != pcam.Height || in.Width != pcam.Width || in.Channels != pcam.Channels {
		t.Close()
		return nil, fmt.Errorf("model %s takes %dx%dx%d images; PCAM patches are %dx%dx%d", path, in.Height, in.Width,
			in.Channels, pcam.Height, pcam.Width, pcam.Channels)
	}
	return &Model{path: path, t: t}, nil
}

// LoadAll loads every checkpoint; on error the models loaded so far are closed.
func LoadAll(paths []string) ([]*Model, error) {
	var out []*Model
	for _, p := range paths {
		m, err := Load(p)
		if err != nil {
			for _, o := range out {
				o.Close()
			}
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// Path returns the checkpoint file the model was loaded from.
func (m *Model) Path() string { return m.path }

// Config returns the model's resolved configuration.
func (m *Model) Config() model.Config { return m.t.Config() }

// Predict returns the probability of tumour of every patch of pix. It is the one call into the
// model package on the prediction path: a faster entry point is switched here.
func (m *Model) Predict(pix []byte) ([]float64, error) {
	return m.t.Predict(pix)
}

// PredictTimed is Predict that adds the time spent preprocessing (pixels to normalised inputs) and
// computing (the forward pass) to ph; the benchmark stage uses it to split an inference call.
func (m *Model) PredictTimed(pix []byte, ph *model.Phases) ([]float64, error) {
	return m.t.PredictTimed(pix, ph)
}

// Close releases the model's compiled graphs.
func (m *Model) Close() error { return m.t.Close() }

// Predictors returns models as a slice of Predictor.
func Predictors(models []*Model) []Predictor {
	out := make([]Predictor, len(models))
	for i, m := range models {
		out[i] = m
	}
	return out
}
