package evaluate

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pcamflow/pcamflow/internal/atomicfile"
	"github.com/pcamflow/pcamflow/metrics"
	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/plots"
	"github.com/pcamflow/pcamflow/predict"
)

// write writes every output, records the metrics and prints the one-line summary.
func (e *run) write(rep *Report, preds *predict.Predictions, probs []float64, feats []Features, defs []sliceDef, src *predict.ReaderSource) error {
	env := e.env
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the report: %w", err)
	}
	if err := atomicfile.Write(env.OutputPaths[outReport], append(data, '\n'), 0o644); err != nil {
		return err
	}
	if err := atomicfile.Write(env.OutputPaths[outSummary], []byte(summary(rep)), 0o644); err != nil {
		return err
	}
	if err := e.writePredictions(rep, preds, probs, feats, defs); err != nil {
		return err
	}
	if err := writeSlicesCSV(env.OutputPaths[outSlices], rep.Slices); err != nil {
		return err
	}
	if err := e.plot(rep, preds.Labels, probs); err != nil {
		return err
	}
	if err := writeMontages(env.OutputPaths[outMontages], rep.Errors, src); err != nil {
		return err
	}
	e.record(rep)
	line := Line(rep)
	fmt.Fprintln(env.Log, line)
	fmt.Fprintf(env.Progress, "           %s\n", line)
	return nil
}

// fmtIv formats a metric with its interval: 0.912 [0.905, 0.919].
func fmtIv(iv metrics.Interval) string {
	if math.IsNaN(iv.Value) {
		return "n/a"
	}
	if math.IsNaN(iv.Lo) {
		return fmt.Sprintf("%.3f", iv.Value)
	}
	return fmt.Sprintf("%.3f [%.3f, %.3f]", iv.Value, iv.Lo, iv.Hi)
}

// Line is the one-line summary the run prints: ROC-AUC and F-beta with intervals, the threshold
// and the worst slice.
func Line(rep *Report) string {
	worst := "no slice eligible"
	if rep.Worst.Slice != "" {
		worst = fmt.Sprintf("%s (%s %.3f, n=%d)", rep.Worst.Slice, metricLabel(rep.Worst.By, rep.Beta), float64(rep.Worst.Value), rep.Worst.Count)
	}
	return fmt.Sprintf("%s: %s ROC-AUC %s, F%g %s at threshold %.4f; worst slice %s", rep.Node, rep.Split,
		fmtIv(rep.Metrics["roc_auc"]), rep.Beta, fmtIv(rep.Metrics["f_beta"]), rep.Threshold.Value, worst)
}

// metricLabel is a metric's display name.
func metricLabel(name string, beta float64) string {
	switch name {
	case "roc_auc":
		return "ROC-AUC"
	case "pr_auc":
		return "PR-AUC"
	case "f_beta":
		return fmt.Sprintf("F%g", beta)
	case "ece":
		return "ECE"
	}
	return strings.ReplaceAll(name, "_", " ")
}

// record stores the metrics in the run store: split_metric, split_metric_lo and _hi.
func (e *run) record(rep *Report) {
	if e.env.Metrics == nil {
		return
	}
	vals := map[string]float64{rep.Split + "_threshold": rep.Threshold.Value}
	for _, n := range metricNames {
		iv := rep.Metrics[n]
		key := rep.Split + "_" + n
		vals[key] = iv.Value
		if !math.IsNaN(iv.Lo) {
			vals[key+"_lo"], vals[key+"_hi"] = iv.Lo, iv.Hi
		}
	}
	for _, b := range rep.Baselines {
		vals[rep.Split+"_roc_auc_minus_"+b.Name] = b.ROCAUCDifference.Value
	}
	if rep.Worst.Slice != "" {
		vals["worst_slice_"+rep.Worst.By] = float64(rep.Worst.Value)
	}
	e.env.Metrics(0, vals)
}

// summary renders summary.md.
func summary(rep *Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Evaluation %s\n\n", rep.Node)
	model := "one checkpoint"
	if rep.Model.Mode == "ensemble" {
		model = fmt.Sprintf("the mean prediction of %d seeds (%s)", len(rep.Model.Seeds), strings.Join(rep.Model.Seeds, ", "))
	}
	fmt.Fprintf(&b, "%d patches of the **%s** split (%d positive) of `%s`; model: %s; threshold **%.4f** (%s). ",
		rep.N, rep.Split, rep.Positives, rep.Dataset, model, rep.Threshold.Value, rep.Threshold.Source)
	fmt.Fprintf(&b, "Intervals: %.0f%% bootstrap (%d resamples, seed %d).\n\n", 100*rep.Bootstrap.Level, rep.Bootstrap.Resamples, rep.Bootstrap.Seed)
	fmt.Fprintf(&b, "**%s**\n\n", Line(rep))
	b.WriteString("| metric | model |")
	for _, bl := range rep.Baselines {
		fmt.Fprintf(&b, " %s |", bl.Name)
	}
	b.WriteString("\n|---|---|" + strings.Repeat("---|", len(rep.Baselines)) + "\n")
	for _, n := range metricNames {
		fmt.Fprintf(&b, "| %s | %s |", metricLabel(n, rep.Beta), fmtIv(rep.Metrics[n]))
		for _, bl := range rep.Baselines {
			fmt.Fprintf(&b, " %s |", fmtIv(bl.Metrics[n]))
		}
		b.WriteString("\n")
	}
	b.WriteString("| ROC-AUC of the model minus the baseline (paired) | |")
	for _, bl := range rep.Baselines {
		fmt.Fprintf(&b, " %s |", fmtIv(bl.ROCAUCDifference))
	}
	c := rep.Confusion
	fmt.Fprintf(&b, "\n\nConfusion matrix at %.4f: TP %d, FP %d, TN %d, FN %d. Baselines majority and colour_logistic decide at 0.5.\n\n", rep.Threshold.Value, c.TP, c.FP, c.TN, c.FN)
	if len(rep.PerSeed) > 0 {
		b.WriteString("## Per seed (point estimates)\n\n| seed | ROC-AUC | F-beta | recall | precision |\n|---|---|---|---|---|\n")
		for _, s := range rep.PerSeed {
			fmt.Fprintf(&b, "| %s | %.4f | %.4f | %.4f | %.4f |\n", s.Seed, s.Metrics["roc_auc"], s.Metrics["f_beta"], s.Metrics["recall"], s.Metrics["precision"])
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "## Slices\n\nWorst slice by %s among slices of at least %d patches with both classes: **%s**.\n\n",
		metricLabel(rep.Worst.By, rep.Beta), rep.Worst.MinCount, orNone(rep.Worst.Slice))
	fmt.Fprintf(&b, "| slice | rule | count | positives | ROC-AUC | F%g | recall | FN | FP | error rate |\n|---|---|---:|---:|---|---|---|---:|---:|---:|\n", rep.Beta)
	for _, s := range rep.Slices {
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %s | %s | %s | %d | %d | %.3f |\n", s.Slice, s.Rule, s.Count, s.Positives,
			fmtIv(s.Metrics["roc_auc"]), fmtIv(s.Metrics["f_beta"]), fmtIv(s.Metrics["recall"]), s.FalseNegatives, s.FalsePositives, s.ErrorRate)
	}
	b.WriteString("\n## Most confident errors\n\nmontages/false_negatives.png and montages/false_positives.png, row by row (8 per row):\n\n")
	for _, kind := range []struct {
		name string
		list []ErrorPatch
	}{{"false negatives", rep.Errors.FalseNegatives}, {"false positives", rep.Errors.FalsePositives}} {
		fmt.Fprintf(&b, "**%s**\n\n| position | index | id | probability |\n|---:|---:|---|---:|\n", kind.name)
		for _, p := range kind.list {
			fmt.Fprintf(&b, "| %d | %d | %s | %.4f |\n", p.Position, p.Index, p.ID, p.Probability)
		}
		b.WriteString("\n")
	}
	if len(rep.Notes) > 0 {
		b.WriteString("## Notes\n\n")
		for _, n := range rep.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// f formats a float for CSV (shortest round-trip form; empty for NaN).
func f(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// writePredictions writes one row per patch: identity, label, probabilities, features, slices.
func (e *run) writePredictions(rep *Report, preds *predict.Predictions, probs []float64, feats []Features, defs []sliceDef) error {
	families := map[string]int{}
	var famNames []string
	member := map[string][]string{}
	for _, d := range defs {
		if _, ok := families[d.Family]; !ok {
			families[d.Family] = len(famNames)
			famNames = append(famNames, d.Family)
			member[d.Family] = make([]string, len(probs))
		}
		for _, i := range d.idx {
			if m := member[d.Family]; m[i] == "" {
				m[i] = d.Name
			} else {
				m[i] += "+" + d.Name
			}
		}
	}
	return atomicfile.WriteFunc(e.env.OutputPaths[outPredictions], 0o644, func(w *bufio.Writer) error {
		w.WriteString("index,id,label,probability")
		if len(rep.Model.Seeds) > 1 {
			for _, s := range rep.Model.Seeds {
				w.WriteString(",probability_seed_" + s)
			}
		}
		for _, b := range rep.Baselines {
			w.WriteString(",baseline_" + b.Name)
		}
		w.WriteString(",brightness,tissue,haematoxylin,eosin")
		for _, fam := range famNames {
			w.WriteString(",slice_" + fam)
		}
		w.WriteString("\n")
		for i := range probs {
			fmt.Fprintf(w, "%d,%s,%d,%s", preds.Index[i], preds.ID[i], preds.Labels[i], f(probs[i]))
			if len(rep.Model.Seeds) > 1 {
				for k := range rep.Model.Seeds {
					w.WriteString("," + f(preds.Probs[k][i]))
				}
			}
			for k := range rep.Baselines {
				w.WriteString("," + f(e.baseProbs[k][i]))
			}
			ft := feats[i]
			fmt.Fprintf(w, ",%s,%s,%s,%s", f(ft.Brightness), f(ft.Tissue), f(ft.Haematoxylin), f(ft.Eosin))
			for _, fam := range famNames {
				w.WriteString("," + csvField(member[fam][i]))
			}
			w.WriteString("\n")
		}
		return nil
	})
}

// csvField quotes a field when CSV needs it.
func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// writeSlicesCSV writes the per-slice table (metrics with bounds, errors per slice).
func writeSlicesCSV(path string, sl []Slice) error {
	return atomicfile.WriteFunc(path, 0o644, func(w *bufio.Writer) error {
		w.WriteString("slice,family,name,rule,count,positives,false_negatives,false_positives,error_rate,eligible")
		for _, n := range metricNames {
			fmt.Fprintf(w, ",%s,%s_lo,%s_hi", n, n, n)
		}
		w.WriteString("\n")
		for _, s := range sl {
			fmt.Fprintf(w, "%s,%s,%s,%s,%d,%d,%d,%d,%s,%t", csvField(s.Slice), csvField(s.Family), csvField(s.Name), csvField(s.Rule),
				s.Count, s.Positives, s.FalseNegatives, s.FalsePositives, f(s.ErrorRate), s.Eligible)
			for _, n := range metricNames {
				iv := s.Metrics[n]
				fmt.Fprintf(w, ",%s,%s,%s", f(iv.Value), f(iv.Lo), f(iv.Hi))
			}
			w.WriteString("\n")
		}
		return nil
	})
}

// plot draws the ROC and PR curves (model and baselines) and the reliability diagram.
func (e *run) plot(rep *Report, labels []uint8, probs []float64) error {
	type curveSet struct {
		name  string
		probs []float64
	}
	sets := []curveSet{{"model", probs}}
	for k, b := range rep.Baselines {
		sets = append(sets, curveSet{b.Name, e.baseProbs[k]})
	}
	roc := plots.New(fmt.Sprintf("ROC curve, %s split (n = %d)", rep.Split, rep.N), "false positive rate", "true positive rate")
	pr := plots.New(fmt.Sprintf("Precision-recall curve, %s split (n = %d)", rep.Split, rep.N), "recall", "precision")
	if err := plots.AddLine(roc, plots.Series{Name: "chance", X: []float64{0, 1}, Y: []float64{0, 1}}, 7, true); err != nil {
		return err
	}
	prev := float64(rep.Positives) / float64(rep.N)
	if err := plots.AddLine(pr, plots.Series{Name: "prevalence", X: []float64{0, 1}, Y: []float64{prev, prev}}, 7, true); err != nil {
		return err
	}
	for i, s := range sets {
		auc := metrics.Interval{Value: math.NaN()}
		ap := auc
		if i == 0 {
			auc, ap = rep.Metrics["roc_auc"], rep.Metrics["pr_auc"]
		} else {
			auc, ap = rep.Baselines[i-1].Metrics["roc_auc"], rep.Baselines[i-1].Metrics["pr_auc"]
		}
		if fpr, tpr, _, err := metrics.ROCCurve(labels, s.probs); err == nil {
			if err := plots.AddLine(roc, plots.Series{Name: fmt.Sprintf("%s (AUC %s)", s.name, fmtIv(auc)), X: fpr, Y: tpr}, i, i > 0); err != nil {
				return err
			}
		}
		if p, r, _, err := metrics.PRCurve(labels, s.probs); err == nil {
			if err := plots.AddLine(pr, plots.Series{Name: fmt.Sprintf("%s (AP %s)", s.name, fmtIv(ap)), X: r, Y: p}, i, i > 0); err != nil {
				return err
			}
		}
	}
	roc.Legend.Top, roc.Legend.Left = false, false
	pr.Legend.Top, pr.Legend.Left = false, true
	roc.X.Min, roc.X.Max, roc.Y.Min, roc.Y.Max = 0, 1, 0, 1
	pr.X.Min, pr.X.Max, pr.Y.Min, pr.Y.Max = 0, 1, 0, 1.02
	if err := plots.Save(roc, e.env.OutputPaths[outROC]); err != nil {
		return err
	}
	if err := plots.Save(pr, e.env.OutputPaths[outPR]); err != nil {
		return err
	}
	rel := plots.New(fmt.Sprintf("Reliability diagram, %s split (ECE %s)", rep.Split, fmtIv(rep.Metrics["ece"])), "mean predicted probability", "fraction of positives")
	if err := plots.AddLine(rel, plots.Series{Name: "perfect calibration", X: []float64{0, 1}, Y: []float64{0, 1}}, 7, true); err != nil {
		return err
	}
	var x, y []float64
	for _, bin := range rep.Calibration {
		if bin.Count > 0 {
			x, y = append(x, bin.MeanProb), append(y, bin.FracPos)
		}
	}
	if err := plots.AddLine(rel, plots.Series{Name: "model", X: x, Y: y}, 0, false); err != nil {
		return err
	}
	if err := plots.AddPoints(rel, plots.Series{X: x, Y: y}, 0); err != nil {
		return err
	}
	rel.X.Min, rel.X.Max, rel.Y.Min, rel.Y.Max = 0, 1, 0, 1
	rel.Legend.Top, rel.Legend.Left = true, true
	return plots.Save(rel, e.env.OutputPaths[outReliability])
}

// montageCols is the number of patches per montage row.
const montageCols = 8

// writeMontages writes the montages of the most confident errors (pcam's montage, magnified 2×)
// and errors.csv listing every shown patch with its position, index, id and probability.
func writeMontages(dir string, errs ErrorAnalysis, src *predict.ReaderSource) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var csv strings.Builder
	csv.WriteString("montage,position,index,id,label,probability\n")
	for _, m := range []struct {
		name string
		list []ErrorPatch
	}{{"false_negatives", errs.FalseNegatives}, {"false_positives", errs.FalsePositives}} {
		for _, p := range m.list {
			fmt.Fprintf(&csv, "%s.png,%d,%d,%s,%d,%s\n", m.name, p.Position, p.Index, p.ID, p.Label, f(p.Probability))
		}
		if len(m.list) == 0 {
			continue
		}
		idx := make([]int, len(m.list))
		for i, p := range m.list {
			idx[i] = p.Index
		}
		pix := make([]byte, len(idx)*pcam.PatchBytes)
		if err := src.R.Read(idx, pix, nil); err != nil {
			return fmt.Errorf("reading the patches of the %s montage: %w", m.name, err)
		}
		if err := pcam.WriteMontage(filepath.Join(dir, m.name+".png"), pix, montageCols, 2, 4); err != nil {
			return err
		}
	}
	return atomicfile.Write(filepath.Join(dir, "errors.csv"), []byte(csv.String()), 0o644)
}
