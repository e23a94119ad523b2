package threshold

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/pcamflow/pcamflow/metrics"
	"github.com/pcamflow/pcamflow/predict"
)

// TieRule is the documented tie-break of every method.
const TieRule = "every distinct predicted probability is a candidate (positive when probability >= threshold); " +
	"among candidates with the same best value the higher threshold wins (fewer predicted positives)"

// Point is the decision at one threshold with the metrics the curve shows.
type Point struct {
	Threshold   float64 `json:"threshold"`
	FBeta       float64 `json:"f_beta"`
	Precision   float64 `json:"precision"`
	Recall      float64 `json:"recall"`
	Specificity float64 `json:"specificity"`
	Youden      float64 `json:"youden"`
	TP          int     `json:"tp"`
	FP          int     `json:"fp"`
	TN          int     `json:"tn"`
	FN          int     `json:"fn"`
}

// pointOf returns the curve point of a threshold point.
func pointOf(p metrics.ThresholdPoint, beta float64) Point {
	c := p.Confusion
	return Point{Threshold: p.Threshold, FBeta: c.FBeta(beta), Precision: c.Precision(), Recall: c.Recall(),
		Specificity: c.Specificity(), Youden: c.Youden(), TP: c.TP, FP: c.FP, TN: c.TN, FN: c.FN}
}

// SeedResult is the threshold chosen for one seed (per_seed = true).
type SeedResult struct {
	Value       float64 `json:"value"`
	AtThreshold Point   `json:"at_threshold"`
}

// Result is the threshold.json output.
type Result struct {
	// Value is the chosen threshold: for per_seed, the best seed's (the model train.NAME stands for).
	Value  float64  `json:"value"`
	Method string   `json:"method"`
	Beta   float64  `json:"beta"`
	Target *float64 `json:"target,omitempty"`
	// Mode is "single" (one model), "ensemble" (the mean prediction of Seeds) or "per_seed".
	Mode      string   `json:"mode"`
	Seeds     []string `json:"seeds,omitempty"`
	BestSeed  string   `json:"best_seed,omitempty"`
	Split     string   `json:"split"`
	Dataset   string   `json:"dataset"`
	N         int      `json:"n"`
	Positives int      `json:"positives"`
	// Candidates is the number of distinct probabilities searched.
	Candidates  int                   `json:"candidates"`
	AtThreshold Point                 `json:"at_threshold"`
	PerSeed     map[string]SeedResult `json:"per_seed,omitempty"`
	TieRule     string                `json:"tie_rule"`
}

// Line is the one-line summary of the result.
func (r *Result) Line(node string) string {
	how := map[string]string{"single": "one model", "ensemble": fmt.Sprintf("mean prediction of %d seeds", len(r.Seeds)),
		"per_seed": fmt.Sprintf("per seed, best seed %s shown", r.BestSeed)}[r.Mode]
	crit := r.Method
	switch r.Method {
	case MaxFBeta:
		crit = fmt.Sprintf("max F%g", r.Beta)
	case MinRecall:
		crit = fmt.Sprintf("recall >= %g", *r.Target)
	}
	a := r.AtThreshold
	return fmt.Sprintf("%s: threshold %.4f (%s on %s, %s): F%g %.4f, precision %.4f, recall %.4f, specificity %.4f",
		node, r.Value, crit, r.Split, how, r.Beta, a.FBeta, a.Precision, a.Recall, a.Specificity)
}

// ReadResult reads a threshold.json file.
func ReadResult(path string) (*Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("threshold result %s is corrupt: %w", path, err)
	}
	return &r, nil
}

// Choose returns the index of the chosen point among pts (decreasing thresholds, as
// metrics.ThresholdPoints returns them) for a method; ties go to the higher threshold.
func Choose(method string, pts []metrics.ThresholdPoint, beta, target float64) (int, error) {
	if len(pts) == 0 {
		return 0, errors.New("no candidate threshold")
	}
	pos := pts[0].TP + pts[0].FN
	neg := pts[0].FP + pts[0].TN
	if pos == 0 || neg == 0 {
		return 0, fmt.Errorf("the split has %d positive and %d negative patches: a threshold needs both", pos, neg)
	}
	best := -1
	var bestV float64
	for i, p := range pts { // decreasing thresholds: a strict > keeps the higher one on ties
		var v float64
		switch method {
		case MaxFBeta:
			v = p.FBeta(beta)
		case Youden:
			v = p.Youden()
		case MinRecall:
			if p.Recall() >= target {
				return i, nil
			}
			continue
		default:
			return 0, fmt.Errorf("unknown method %q", method)
		}
		if best < 0 || v > bestV {
			best, bestV = i, v
		}
	}
	if best < 0 { // min_recall: unreachable, the lowest threshold has recall 1
		return len(pts) - 1, nil
	}
	return best, nil
}

// curve is the searched curve of one model (a seed, or the ensemble).
type curve struct {
	seed   string
	points []Point
	chosen int
}

// choose picks the threshold on the predictions: on the mean of the members, or per member.
func choose(c *config, names []string, preds *predict.Predictions) (*Result, []curve, error) {
	r := &Result{Method: c.method, Beta: c.beta, N: len(preds.Labels), TieRule: TieRule, BestSeed: c.model.BestSeed}
	if c.method == MinRecall {
		t := c.target
		r.Target = &t
	}
	for _, y := range preds.Labels {
		r.Positives += int(y)
	}
	if names[0] != "" {
		r.Seeds = names
	}
	switch {
	case len(names) == 1:
		r.Mode = "single"
	case c.perSeed:
		r.Mode = "per_seed"
	default:
		r.Mode = "ensemble"
	}
	if r.Mode != "per_seed" {
		cv, err := search(c, "", preds.Labels, predict.Mean(preds.Probs))
		if err != nil {
			return nil, nil, err
		}
		r.AtThreshold, r.Value, r.Candidates = cv.points[cv.chosen], cv.points[cv.chosen].Threshold, len(cv.points)
		return r, []curve{cv}, nil
	}
	r.PerSeed = map[string]SeedResult{}
	var curves []curve
	shown := 0
	for i, name := range names {
		cv, err := search(c, name, preds.Labels, preds.Probs[i])
		if err != nil {
			return nil, nil, fmt.Errorf("seed %s: %w", name, err)
		}
		r.PerSeed[name] = SeedResult{Value: cv.points[cv.chosen].Threshold, AtThreshold: cv.points[cv.chosen]}
		if name == c.model.BestSeed {
			shown = i
		}
		curves = append(curves, cv)
	}
	cv := curves[shown]
	r.BestSeed = names[shown]
	r.AtThreshold, r.Value, r.Candidates = cv.points[cv.chosen], cv.points[cv.chosen].Threshold, len(cv.points)
	curves[0], curves[shown] = curves[shown], curves[0] // the shown curve first
	return r, curves, nil
}

// search builds the curve of one probability vector and chooses on it.
func search(c *config, seed string, labels []uint8, probs []float64) (curve, error) {
	pts, err := metrics.ThresholdPoints(labels, probs)
	if err != nil {
		return curve{}, err
	}
	i, err := Choose(c.method, pts, c.beta, c.target)
	if err != nil {
		return curve{}, err
	}
	cv := curve{seed: seed, chosen: i, points: make([]Point, len(pts))}
	for k, p := range pts {
		cv.points[k] = pointOf(p, c.beta)
	}
	return cv, nil
}
