package evaluate

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/pcamflow/pcamflow/metrics"
	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/predict"
	"github.com/pcamflow/pcamflow/stages/dataset"
)

// trainFit is what the built-in baselines learn from the train split.
type trainFit struct {
	// Prior is the fraction of positive train patches (the majority baseline's probability).
	Prior     float64 `json:"prior"`
	TrainN    int     `json:"train_patches"`
	ColourFit int     `json:"colour_fit_patches,omitempty"`
	// Colour is the colour-statistics logistic regression (nil unless asked for).
	Colour *metrics.Logistic `json:"colour_logistic,omitempty"`
}

// fitTrain reads the train split of view: every label for the prior and, for the colour
// baseline, the colour statistics of up to limit evenly spaced patches (0: all).
func fitTrain(ctx context.Context, view dataset.View, colour bool, limit, batch int) (*trainFit, error) {
	src, err := predict.OpenSplit(view, pcam.Train)
	if err != nil {
		return nil, fmt.Errorf("the majority and colour_logistic baselines are fitted on the train split: %w", err)
	}
	defer src.Close()
	n := src.Len()
	labels := make([]uint8, n)
	for start := 0; start < n; start += 4096 {
		end := min(start+4096, n)
		idx := make([]int, 0, end-start)
		for i := start; i < end; i++ {
			idx = append(idx, src.Index(i))
		}
		if err := src.R.Read(idx, nil, labels[start:end]); err != nil {
			return nil, fmt.Errorf("train labels: %w", err)
		}
	}
	fit := &trainFit{TrainN: n}
	pos := 0
	for _, y := range labels {
		pos += int(y)
	}
	fit.Prior = float64(pos) / float64(n)
	if !colour {
		return fit, nil
	}
	sample := src.Indices
	if limit > 0 && limit < n {
		sample = make([]int, limit)
		for k := range limit {
			sample[k] = src.Indices[k*n/limit]
		}
	}
	sub := &predict.ReaderSource{Input: src.Input, R: src.R, Indices: sample}
	x := make([]float64, 0, 6*len(sample))
	var y []uint8
	_, err = predict.Run(ctx, []predict.Source{sub}, nil, predict.Options{BatchSize: batch, Labels: true}, func(b *predict.Batch) error {
		for _, f := range measureBatch(b.Pix) {
			x = append(x, f.Colour()...)
		}
		y = append(y, b.Labels...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("train patches for the colour baseline: %w", err)
	}
	fit.ColourFit = len(y)
	if fit.Colour, err = metrics.FitLogistic(x, 6, y, 1); err != nil {
		return nil, fmt.Errorf("fitting the colour baseline: %w", err)
	}
	return fit, nil
}

// measureBatch measures every patch of pix on all cores.
func measureBatch(pix []byte) []Features {
	n := len(pix) / pcam.PatchBytes
	out := make([]Features, n)
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				out[i] = Measure(pix[i*pcam.PatchBytes : (i+1)*pcam.PatchBytes])
			}
		}()
	}
	wg.Wait()
	return out
}
