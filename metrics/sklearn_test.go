package metrics

import (
	_ "embed"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// debianPython is Debian's interpreter, which has python3-sklearn (the python3 on PATH may not).
const debianPython = "/usr/bin/python3"

//go:embed testdata/sklearn_ref.py
var sklearnScript []byte

// refCase is one input sent to the scikit-learn reference script.
type refCase struct {
	Name       string    `json:"name"`
	Labels     []uint8   `json:"-"`
	LabelInts  []int     `json:"labels"` // []uint8 would be marshalled as base64
	Scores     []float64 `json:"scores"`
	Thresholds []float64 `json:"thresholds"`
	Betas      []float64 `json:"betas"`
}

// refResult is scikit-learn's answer for one case; see testdata/sklearn_ref.py.
type refResult struct {
	ROCAUC        float64   `json:"roc_auc"`
	AP            float64   `json:"average_precision"`
	FPR           []float64 `json:"fpr"`
	TPR           []float64 `json:"tpr"`
	ROCThrTail    []float64 `json:"roc_thresholds_tail"`
	Precision     []float64 `json:"precision"`
	Recall        []float64 `json:"recall"`
	PRThr         []float64 `json:"pr_thresholds"`
	LogLoss       *float64  `json:"log_loss"`
	CalibFracPos  []float64 `json:"calibration_frac_pos"`
	CalibMeanProb []float64 `json:"calibration_mean_prob"`
	At            []struct {
		Threshold      float64 `json:"threshold"`
		TP, FP, TN, FN int
		FBeta          []float64 `json:"fbeta"`
	} `json:"at"`
	Best []struct {
		Beta, Threshold, FBeta float64
	} `json:"best"`
}

const sklearnTol = 1e-9

var refBetas = []float64{0.5, 1, 2}

// TestAgainstScikitLearn runs scikit-learn on the same predictions and compares every metric that
// has a scikit-learn equivalent.
func TestAgainstScikitLearn(t *testing.T) {
	if err := exec.Command(debianPython, "-c", "import sklearn").Run(); err != nil {
		t.Skipf("skipping the scikit-learn comparison: %s -c 'import sklearn' failed (%v); install python3-sklearn", debianPython, err)
	}
	cases := referenceCases()
	got := runSklearn(t, cases)
	for _, c := range cases {
		ref, ok := got[c.Name]
		if !ok {
			t.Fatalf("scikit-learn returned no result for case %s", c.Name)
		}
		t.Run(c.Name, func(t *testing.T) { compareWithSklearn(t, c, ref) })
	}
}

// runSklearn writes the cases to a temporary file, runs the embedded script and decodes its output.
func runSklearn(t *testing.T, cases []refCase) map[string]refResult {
	t.Helper()
	dir := t.TempDir()
	script, in, out := filepath.Join(dir, "sklearn_ref.py"), filepath.Join(dir, "in.json"), filepath.Join(dir, "out.json")
	data, err := json.Marshal(map[string]any{"cases": cases})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, sklearnScript, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(debianPython, script, in, out).CombinedOutput(); err != nil {
		t.Fatalf("scikit-learn reference script failed: %v\n%s", err, msg)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Version string               `json:"sklearn_version"`
		Cases   map[string]refResult `json:"cases"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("decode scikit-learn output: %v", err)
	}
	t.Logf("compared with scikit-learn %s", res.Version)
	return res.Cases
}

// referenceCases builds the comparison inputs from a fixed seed: ties, all-tied scores, imbalanced
// classes, 10,000 random scores, calibrated-looking probabilities, a single positive and unbounded
// logits.
func referenceCases() []refCase {
	rng := rand.New(rand.NewPCG(2026, 11))
	cases := []refCase{
		{Name: "doc_example", Labels: docLabels, Scores: docScores},
		{Name: "perfect", Labels: []uint8{0, 0, 0, 1, 1}, Scores: []float64{0.1, 0.2, 0.3, 0.7, 0.9}},
		gen(rng, "heavy_ties", 2000, 0.4, func(y uint8) float64 {
			return math.Round((0.3*float64(y)+0.7*rng.Float64())*10) / 10
		}),
		gen(rng, "all_tied", 50, 0.3, func(uint8) float64 { return 0.5 }),
		gen(rng, "imbalanced_2pct", 10000, 0.02, func(y uint8) float64 {
			return 0.25*float64(y) + 0.75*rng.Float64()
		}),
		gen(rng, "random_10k", 10000, 0.5, func(uint8) float64 { return rng.Float64() }),
		gen(rng, "probabilities_10k", 10000, 0.4, func(y uint8) float64 {
			return 1 / (1 + math.Exp(-(2*float64(y) - 1 + 1.5*rng.NormFloat64())))
		}),
		gen(rng, "logits_unbounded", 3000, 0.3, func(y uint8) float64 { return 3*rng.NormFloat64() + float64(y) }),
	}
	one := gen(rng, "single_positive", 5000, 0, func(uint8) float64 { return rng.Float64() })
	one.Labels[1234] = 1
	cases = append(cases, one)
	for i := range cases {
		for _, y := range cases[i].Labels {
			cases[i].LabelInts = append(cases[i].LabelInts, int(y))
		}
		cases[i].Betas = refBetas
		cases[i].Thresholds = thresholdsToProbe(cases[i])
	}
	return cases
}

// gen draws n labels with the given positive rate and a score for each.
func gen(rng *rand.Rand, name string, n int, posRate float64, score func(y uint8) float64) refCase {
	c := refCase{Name: name, Labels: make([]uint8, n), Scores: make([]float64, n)}
	for i := range n {
		if rng.Float64() < posRate {
			c.Labels[i] = 1
		}
		c.Scores[i] = score(c.Labels[i])
	}
	if posRate > 0 {
		c.Labels[0], c.Labels[1] = 0, 1 // both classes present
	}
	return c
}

// thresholdsToProbe returns score quantiles, a value between scores, the Go best thresholds, the
// 90%-recall threshold and the next distinct score above it.
func thresholdsToProbe(c refCase) []float64 {
	sorted := slices.Clone(c.Scores)
	slices.Sort(sorted)
	var ts []float64
	for q := 0; q <= 10; q++ {
		ts = append(ts, sorted[q*(len(sorted)-1)/10])
	}
	ts = append(ts, (sorted[0]+sorted[len(sorted)-1])/2)
	for _, b := range refBetas {
		thr, _ := BestThreshold(c.Labels, c.Scores, b)
		ts = append(ts, thr)
	}
	if thr, _, err := ThresholdForRecall(c.Labels, c.Scores, 0.9); err == nil {
		ts = append(ts, thr)
		if i, _ := slices.BinarySearch(sorted, math.Nextafter(thr, math.Inf(1))); i < len(sorted) {
			ts = append(ts, sorted[i])
		}
	}
	return ts
}

func compareWithSklearn(t *testing.T, c refCase, ref refResult) {
	auc, err := ROCAUC(c.Labels, c.Scores)
	if err != nil {
		t.Fatal(err)
	}
	ap, err := AveragePrecision(c.Labels, c.Scores)
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "ROC-AUC", auc, ref.ROCAUC)
	assertClose(t, "average precision", ap, ref.AP)
	fpr, tpr, thr, err := ROCCurve(c.Labels, c.Scores)
	if err != nil {
		t.Fatal(err)
	}
	assertSlicesClose(t, "ROC fpr", fpr, ref.FPR)
	assertSlicesClose(t, "ROC tpr", tpr, ref.TPR)
	assertSlicesClose(t, "ROC thresholds[1:]", thr[1:], ref.ROCThrTail)
	if !math.IsInf(thr[0], 1) {
		t.Errorf("ROC thresholds[0] = %v, want +Inf", thr[0])
	}
	p, r, prThr, err := PRCurve(c.Labels, c.Scores)
	if err != nil {
		t.Fatal(err)
	}
	assertSlicesClose(t, "PR precision", p, ref.Precision)
	assertSlicesClose(t, "PR recall", r, ref.Recall)
	assertSlicesClose(t, "PR thresholds", prThr, ref.PRThr)
	compareAtThresholds(t, c, ref)
	for _, b := range ref.Best {
		gotT, gotF := BestThreshold(c.Labels, c.Scores, b.Beta)
		if gotT != b.Threshold {
			t.Errorf("BestThreshold(beta=%v) = %v, scikit-learn's best is at %v", b.Beta, gotT, b.Threshold)
		}
		assertClose(t, "best F-beta", gotF, b.FBeta)
	}
	if ref.LogLoss != nil {
		assertClose(t, "log loss", LogLoss(c.Labels, c.Scores), *ref.LogLoss)
		compareCalibration(t, c, ref)
	}
}

// compareAtThresholds checks confusion counts, F-beta and the recall-target threshold.
func compareAtThresholds(t *testing.T, c refCase, ref refResult) {
	for _, at := range ref.At {
		conf := ConfusionAt(c.Labels, c.Scores, at.Threshold)
		want := Confusion{TP: at.TP, FP: at.FP, TN: at.TN, FN: at.FN}
		if conf != want {
			t.Errorf("ConfusionAt(%v) = %+v, scikit-learn %+v", at.Threshold, conf, want)
		}
		preds := make([]uint8, len(c.Scores))
		for i, s := range c.Scores {
			if s >= at.Threshold {
				preds[i] = 1
			}
		}
		for k, b := range c.Betas {
			assertClose(t, "Confusion.FBeta", conf.FBeta(b), at.FBeta[k])
			assertClose(t, "FBeta", FBeta(c.Labels, preds, b), at.FBeta[k])
		}
	}
	thr, conf, err := ThresholdForRecall(c.Labels, c.Scores, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range ref.At {
		recall := float64(at.TP) / float64(at.TP+at.FN)
		if at.Threshold == thr && (recall < 0.9 || conf.TP != at.TP) {
			t.Errorf("ThresholdForRecall(0.9) = %v with %+v; scikit-learn recall there %v", thr, conf, recall)
		}
		if at.Threshold > thr && recall >= 0.9 {
			t.Errorf("ThresholdForRecall(0.9) = %v, but the higher threshold %v reaches recall %v", thr, at.Threshold, recall)
		}
	}
}

// compareCalibration checks the non-empty bins against scikit-learn's calibration_curve, which
// drops empty bins.
func compareCalibration(t *testing.T, c refCase, ref refResult) {
	var frac, mean []float64
	bins := Calibration(c.Labels, c.Scores, 10)
	for _, b := range bins {
		if b.Count > 0 {
			frac, mean = append(frac, b.FracPos), append(mean, b.MeanProb)
		}
	}
	assertSlicesClose(t, "calibration fraction of positives", frac, ref.CalibFracPos)
	assertSlicesClose(t, "calibration mean probability", mean, ref.CalibMeanProb)
}

func assertClose(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > sklearnTol {
		t.Errorf("%s = %.17g, scikit-learn %.17g (difference %.3g)", what, got, want, got-want)
	}
}

func assertSlicesClose(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, scikit-learn %d", what, len(got), len(want))
		return
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > sklearnTol {
			t.Errorf("%s[%d] = %.17g, scikit-learn %.17g", what, i, got[i], want[i])
			return
		}
	}
}
