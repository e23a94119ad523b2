package bundle

import "github.com/pcamflow/pcamflow/predict"

// Ensemble predicts the mean probability of its models (predict.Mean, summed in member order), as
// the threshold and evaluate stages do for a model with seeds. One model predicts exactly its own
// probabilities.
type Ensemble struct {
	Models []*predict.Model
}

// LoadModels loads the bundle's checkpoints.
func (b *Bundle) LoadModels() (*Ensemble, error) {
	ms, err := predict.LoadAll(b.Checkpoints())
	if err != nil {
		return nil, err
	}
	return &Ensemble{Models: ms}, nil
}

// Predict implements predict.Predictor.
func (e *Ensemble) Predict(pix []byte) ([]float64, error) {
	probs := make([][]float64, len(e.Models))
	for i, m := range e.Models {
		p, err := m.Predict(pix)
		if err != nil {
			return nil, err
		}
		probs[i] = p
	}
	return predict.Mean(probs), nil
}

// Close releases the models.
func (e *Ensemble) Close() error {
	for _, m := range e.Models {
		m.Close()
	}
	return nil
}
