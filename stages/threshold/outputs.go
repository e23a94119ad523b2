package threshold

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/pcamflow/pcamflow/internal/atomicfile"
	"github.com/pcamflow/pcamflow/plots"
	"github.com/pcamflow/pcamflow/stages"
)

// writeOutputs writes threshold.json, curve.csv (every candidate, increasing threshold) and
// curve.png.
func writeOutputs(env *stages.Env, r *Result, curves []curve) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(env.OutputPaths[outJSON], append(data, '\n'), 0o644); err != nil {
		return err
	}
	if err := writeCurveCSV(env.OutputPaths[outCurve], r.Mode == "per_seed", curves); err != nil {
		return err
	}
	return plotCurve(env.OutputPaths[outPlot], r, curves[0])
}

// writeCurveCSV writes the searched points; with seeds, one block per seed with a seed column.
func writeCurveCSV(path string, perSeed bool, curves []curve) error {
	return atomicfile.WriteFunc(path, 0o644, func(w *bufio.Writer) error {
		if perSeed {
			w.WriteString("seed,")
		}
		w.WriteString("threshold,tp,fp,tn,fn,precision,recall,f_beta,specificity,youden,chosen\n")
		f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
		for _, cv := range curves {
			for k := len(cv.points) - 1; k >= 0; k-- {
				p := cv.points[k]
				if perSeed {
					w.WriteString(cv.seed + ",")
				}
				chosen := 0
				if k == cv.chosen {
					chosen = 1
				}
				fmt.Fprintf(w, "%s,%d,%d,%d,%d,%s,%s,%s,%s,%s,%d\n", f(p.Threshold), p.TP, p.FP, p.TN, p.FN, f(p.Precision),
					f(p.Recall), f(p.FBeta), f(p.Specificity), f(p.Youden), chosen)
			}
		}
		return nil
	})
}

// plotCurve draws precision, recall, F-beta and specificity against the threshold with the chosen
// threshold marked.
func plotCurve(path string, r *Result, cv curve) error {
	title := fmt.Sprintf("Decision threshold on %s: %.4f (%s)", r.Split, r.Value, r.Method)
	if cv.seed != "" && r.Mode == "per_seed" {
		title += ", seed " + cv.seed
	}
	p := plots.New(title, "threshold (predicted positive when probability ≥ threshold)", "value")
	n := len(cv.points)
	x := make([]float64, n)
	cols := map[string][]float64{}
	names := []string{"precision", "recall", fmt.Sprintf("F%g", r.Beta), "specificity"}
	for _, nm := range names {
		cols[nm] = make([]float64, n)
	}
	for k := range n {
		pt := cv.points[n-1-k]
		x[k] = pt.Threshold
		cols["precision"][k], cols["recall"][k] = pt.Precision, pt.Recall
		cols[names[2]][k], cols["specificity"][k] = pt.FBeta, pt.Specificity
	}
	for i, nm := range names {
		if err := plots.AddLine(p, plots.Series{Name: nm, X: x, Y: cols[nm]}, i, false); err != nil {
			return err
		}
	}
	if err := plots.AddLine(p, plots.Series{Name: "chosen threshold", X: []float64{r.Value, r.Value}, Y: []float64{0, 1}}, 7, true); err != nil {
		return err
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1.02
	return plots.Save(p, path)
}
