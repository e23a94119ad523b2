package metrics

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// docLabels and docScores are scikit-learn's precision_recall_curve documentation example.
var (
	docLabels = []uint8{0, 0, 1, 1}
	docScores = []float64{0.1, 0.4, 0.35, 0.8}
)

func TestROCCurveHandComputed(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name           string
		labels         []uint8
		scores         []float64
		fpr, tpr, thrs []float64
	}{
		{"doc example", docLabels, docScores,
			[]float64{0, 0, 0.5, 0.5, 1}, []float64{0, 0.5, 0.5, 1, 1}, []float64{inf, 0.8, 0.4, 0.35, 0.1}},
		{"all tied", []uint8{0, 1, 0, 1}, []float64{0.5, 0.5, 0.5, 0.5},
			[]float64{0, 1}, []float64{0, 1}, []float64{inf, 0.5}},
		{"partial tie", []uint8{1, 0, 1, 0}, []float64{0.9, 0.9, 0.1, 0.2},
			[]float64{0, 0.5, 1, 1}, []float64{0, 0.5, 0.5, 1}, []float64{inf, 0.9, 0.2, 0.1}},
		{"negative scores", []uint8{1, 0}, []float64{-1, -3},
			[]float64{0, 0, 1}, []float64{0, 1, 1}, []float64{inf, -1, -3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fpr, tpr, thrs, err := ROCCurve(tc.labels, tc.scores)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(fpr, tc.fpr) || !slices.Equal(tpr, tc.tpr) || !slices.Equal(thrs, tc.thrs) {
				t.Errorf("got fpr %v tpr %v thresholds %v; want %v %v %v", fpr, tpr, thrs, tc.fpr, tc.tpr, tc.thrs)
			}
		})
	}
}

func TestPRCurveHandComputed(t *testing.T) {
	// Values from scikit-learn's documentation of precision_recall_curve.
	p, r, thr, err := PRCurve(docLabels, docScores)
	if err != nil {
		t.Fatal(err)
	}
	wantP := []float64{0.5, 2.0 / 3, 0.5, 1, 1}
	wantR := []float64{1, 1, 0.5, 0.5, 0}
	wantT := []float64{0.1, 0.35, 0.4, 0.8}
	if !slices.Equal(p, wantP) || !slices.Equal(r, wantR) || !slices.Equal(thr, wantT) {
		t.Errorf("got precision %v recall %v thresholds %v; want %v %v %v", p, r, thr, wantP, wantR, wantT)
	}
	if _, _, _, err := PRCurve([]uint8{0, 0}, []float64{1, 2}); !errors.Is(err, ErrNoPositives) {
		t.Errorf("no positives: got %v, want ErrNoPositives", err)
	}
}

func TestCurvesRejectInvalidInput(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name    string
		labels  []uint8
		scores  []float64
		oneCls  bool // ROC-only failure: a single class
		wantErr string
	}{
		{"lengths differ", []uint8{0, 1}, []float64{0.5}, false, "2 labels but 1 scores"},
		{"empty", nil, nil, false, "no samples"},
		{"label not binary", []uint8{0, 2}, []float64{0.1, 0.2}, false, "label[1] is 2"},
		{"NaN score", []uint8{0, 1}, []float64{0.1, nan}, false, "score[1] is NaN"},
		{"infinite score", []uint8{0, 1}, []float64{math.Inf(-1), 0}, false, "score[0] is -Inf"},
		{"only negatives", []uint8{0, 0}, []float64{0.1, 0.2}, true, "only one class"},
		{"only positives", []uint8{1, 1, 1}, []float64{0.1, 0.2, 0.2}, true, "only one class"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ROCAUC(tc.labels, tc.scores)
			assertErr(t, "ROCAUC", err, tc.wantErr)
			if tc.oneCls && !errors.Is(err, ErrOneClass) {
				t.Errorf("ROCAUC error %v is not ErrOneClass", err)
			}
			_, _, _, err = ROCCurve(tc.labels, tc.scores)
			assertErr(t, "ROCCurve", err, tc.wantErr)
			if tc.oneCls {
				return
			}
			_, err = AveragePrecision(tc.labels, tc.scores)
			assertErr(t, "AveragePrecision", err, tc.wantErr)
			_, _, _, err = PRCurve(tc.labels, tc.scores)
			assertErr(t, "PRCurve", err, tc.wantErr)
			assertErr(t, "CheckInputs", CheckInputs(tc.labels, tc.scores), tc.wantErr)
		})
	}
}

// assertErr fails the test unless err is non-nil and its message contains want.
func assertErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: got nil error, want one containing %q", what, want)
		return
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("%s: error %q does not contain %q", what, err, want)
	}
}
