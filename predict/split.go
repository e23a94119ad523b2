package predict

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/stages/dataset"
)

// OpenSplit opens one split of a dataset view (a whole dataset or an audited view) as a labelled
// Source over the view's indices. A split the dataset does not have is an error naming the split,
// the folder and the splits that exist.
func OpenSplit(view dataset.View, split pcam.Split) (*ReaderSource, error) {
	if !slices.Contains(pcam.Splits, split) {
		return nil, fmt.Errorf("split %q is not one of %q", split, pcam.Splits)
	}
	r, idx, err := view.Open(split)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("the dataset in %s has no %s split (it has: %s): %w", view.Dir, split, existingSplits(view), err)
		}
		return nil, fmt.Errorf("split %s of the dataset in %s: %w", split, view.Dir, err)
	}
	if len(idx) == 0 {
		r.Close()
		return nil, fmt.Errorf("split %s of the dataset in %s has no patches to use", split, view.Dir)
	}
	return &ReaderSource{Input: r.Source(), R: r, Indices: idx}, nil
}

// existingSplits lists the splits of view that open, for error messages.
func existingSplits(view dataset.View) string {
	var have []string
	for _, s := range pcam.Splits {
		if r, err := pcam.OpenDir(view.Dir, view.Format, s); err == nil {
			r.Close()
			have = append(have, string(s))
		}
	}
	if len(have) == 0 {
		return "none"
	}
	return fmt.Sprint(have)
}

// Predictions are the predictions of one or more models on a labelled source, in source order.
type Predictions struct {
	// Index is each patch's index in its reader (the row of dataset x).
	Index []int
	// ID is each patch's Kaggle id (hex SHA-1 of its pixel bytes).
	ID []string
	// Labels are the true labels.
	Labels []uint8
	// Probs holds one probability vector per predictor, in the order given.
	Probs [][]float64
}

// Collect predicts every patch of src with every predictor and returns the predictions with
// labels and ids. visit, when not nil, also sees every batch (for per-patch measurements from the
// pixels, in the same single pass).
func Collect(ctx context.Context, src Source, preds []Predictor, opt Options, visit func(*Batch) error) (*Predictions, error) {
	opt.Labels = true
	n := src.Len()
	out := &Predictions{Index: make([]int, 0, n), ID: make([]string, 0, n), Labels: make([]uint8, 0, n), Probs: make([][]float64, len(preds))}
	_, err := Run(ctx, []Source{src}, preds, opt, func(b *Batch) error {
		for k := range b.Len() {
			_, idx := src.Where(b.Start + k)
			out.Index = append(out.Index, idx)
			out.ID = append(out.ID, pcam.KaggleID(b.Pix[k*pcam.PatchBytes:(k+1)*pcam.PatchBytes]))
		}
		out.Labels = append(out.Labels, b.Labels...)
		for m := range preds {
			out.Probs[m] = append(out.Probs[m], b.Probs[m]...)
		}
		if visit != nil {
			return visit(b)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PredictSplit loads every checkpoint, predicts the split of view with each in one pass over the
// data and closes them; Probs[m] holds checkpoint m's probabilities. visit, when not nil, sees
// every batch (see Collect). Errors name the checkpoint or the data at fault.
func PredictSplit(ctx context.Context, checkpoints []string, view dataset.View, split pcam.Split, opt Options, visit func(*Batch) error) (*Predictions, error) {
	models, err := LoadAll(checkpoints)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, m := range models {
			m.Close()
		}
	}()
	src, err := OpenSplit(view, split)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return Collect(ctx, src, Predictors(models), opt, visit)
}
