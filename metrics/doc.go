// Package metrics computes binary classification metrics in pure Go with float64 arithmetic:
// ROC and precision-recall curves, ROC-AUC, average precision, confusion counts and the rates
// derived from them, F-beta, log loss, threshold search, calibration (reliability diagram and
// expected calibration error) and mean ± standard deviation over seeds.
//
// Conventions shared by every function:
//   - labels are 0 (negative) or 1 (positive); scores are higher for "more positive".
//   - A sample is predicted positive when its score is >= the threshold.
//   - Where scikit-learn has an equivalent, the result equals scikit-learn's (1.2 and later) on the
//     same inputs to within 1e-9; the tests check this against Debian's python3-sklearn. Rates whose
//     denominator is zero are 0, as with scikit-learn's zero_division=0.
//   - Functions that return an error reject invalid input (length mismatch, empty input, a label
//     other than 0 or 1, a NaN or infinite score). Functions whose signature has no error return
//     document what they return for invalid input (NaN for a float, a zero value otherwise); call
//     CheckInputs first when the input is untrusted.
package metrics
