package metrics

import (
	"errors"
	"fmt"
	"math"
)

// ErrNoPositives is returned (wrapped) by the functions that need at least one positive label.
var ErrNoPositives = errors.New("no positive label: the metric is undefined")

// ErrOneClass is returned (wrapped) by the functions that need both classes when the labels hold
// only one.
var ErrOneClass = errors.New("only one class present in labels")

// CheckInputs reports whether labels and scores form a valid input for this package: the same
// non-zero length, every label 0 or 1, every score finite. The error names the first offending
// index. It does not require both classes to be present.
func CheckInputs(labels []uint8, scores []float64) error {
	if err := validate(labels, scores); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// validate is CheckInputs without the package prefix, for wrapping by the metric functions.
func validate(labels []uint8, scores []float64) error {
	if len(labels) != len(scores) {
		return fmt.Errorf("%d labels but %d scores: lengths must be equal", len(labels), len(scores))
	}
	if len(labels) == 0 {
		return errors.New("no samples: labels and scores are empty")
	}
	for i, y := range labels {
		if y > 1 {
			return fmt.Errorf("label[%d] is %d: labels must be 0 or 1", i, y)
		}
	}
	for i, s := range scores {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return fmt.Errorf("score[%d] is %v: scores must be finite", i, s)
		}
	}
	return nil
}

// classCounts returns the number of positive and negative labels.
func classCounts(labels []uint8) (pos, neg int) {
	for _, y := range labels {
		if y == 1 {
			pos++
		}
	}
	return pos, len(labels) - pos
}

// checkBothClasses validates the input and requires at least one positive and one negative label.
func checkBothClasses(labels []uint8, scores []float64) error {
	if err := validate(labels, scores); err != nil {
		return err
	}
	pos, neg := classCounts(labels)
	if pos == 0 || neg == 0 {
		return fmt.Errorf("%d positive and %d negative labels: %w", pos, neg, ErrOneClass)
	}
	return nil
}
