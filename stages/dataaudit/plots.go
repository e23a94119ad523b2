package dataaudit

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"

	"github.com/pcamflow/pcamflow/audit"
	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/plots"
)

// PlotsOutput names the output (a folder) of pictures a data_audit node publishes; the data behind them is
// report.json.
const PlotsOutput = "plots"

// Picture file names inside the plots folder.
const (
	// PlotSplitSizes compares each split's size with the official PCAM release (and the train split
	// with the Kaggle re-release) and with what the clean view keeps, on a log scale.
	PlotSplitSizes = "split_sizes.png"
	// PlotLabelBalance shows negatives and positives per split.
	PlotLabelBalance = "label_balance.png"
	// PlotFindings shows how many patches each finding class concerns (duplicates, leakage, label
	// conflicts, unusable patches, slide overlap).
	PlotFindings = "findings.png"
)

// PlotFiles lists the pictures of a data audit in the order a report shows them.
var PlotFiles = []string{PlotSplitSizes, PlotLabelBalance, PlotFindings}

// writePlots draws the pictures of report r into dir.
func writePlots(dir string, r *audit.Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pics, err := pictures(r)
	if err != nil {
		return err
	}
	for _, name := range PlotFiles {
		if err := plots.Save(pics[name], filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("drawing %s: %w", name, err)
		}
	}
	return nil
}

// pictures builds the audit's plots by file name.
func pictures(r *audit.Report) (map[string]*plot.Plot, error) {
	var splits []string
	var size, clean, official, kaggle, neg, pos []float64
	for _, s := range r.Splits {
		splits = append(splits, string(s.Split))
		size = append(size, float64(s.Patches))
		clean = append(clean, float64(s.Clean))
		official = append(official, orNaN(s.Official))
		k := math.NaN()
		if s.Split == pcam.Train {
			k = audit.KaggleTrainImages
		}
		kaggle = append(kaggle, k)
		neg, pos = append(neg, float64(s.Negatives)), append(pos, float64(s.Positives))
	}
	sizes := plots.New("Split sizes against the official PCAM release", "split", "patches (log scale)")
	plots.LogY(sizes)
	err := plots.AddBars(sizes, splits, []plots.BarSeries{
		{Name: "this dataset", Values: size, Labels: plots.CountLabels(size)},
		{Name: "kept by the clean view", Values: clean}, // close to the dataset's: its count would overlap
		{Name: "official PCAM", Values: official, Labels: plots.CountLabels(official)},
		{Name: "Kaggle re-release (train)", Values: kaggle, Labels: plots.CountLabels(kaggle)},
	})
	if err != nil {
		return nil, err
	}
	balance := plots.New("Label balance per split", "split", "patches")
	err = plots.AddBars(balance, splits, []plots.BarSeries{
		{Name: "no tumour (0)", Values: neg, Labels: shareLabels(neg, pos)},
		{Name: "tumour (1)", Values: pos, Labels: shareLabels(pos, neg)},
	})
	if err != nil {
		return nil, err
	}
	findings, err := findingsPlot(r)
	if err != nil {
		return nil, err
	}
	return map[string]*plot.Plot{PlotSplitSizes: sizes, PlotLabelBalance: balance, PlotFindings: findings}, nil
}

// findingsPlot draws one horizontal bar per finding class: the patches it concerns, labelled with
// the count, the groups and whether the class gates the pipeline; classes that were not checked say so.
func findingsPlot(r *audit.Report) (*plot.Plot, error) {
	p := plots.New("Duplicates, leakage and unusable patches", "patches concerned", "")
	var classes, labels []string
	var counts []float64
	for _, f := range r.Findings {
		classes = append(classes, f.Class)
		label := plots.Thousands(int64(f.Patches))
		switch {
		case f.Skipped:
			label = "not checked"
		case f.Groups > 0:
			label += fmt.Sprintf(" (%s groups)", plots.Thousands(int64(f.Groups)))
		}
		if f.Failed {
			label += ", gate failed"
		}
		v := float64(f.Patches)
		if f.Skipped {
			v = math.NaN()
		}
		counts, labels = append(counts, v), append(labels, label)
	}
	if len(classes) == 0 {
		return p, nil
	}
	err := plots.AddHBars(p, classes, []plots.BarSeries{{Values: counts, Labels: labels}})
	return p, err
}

// shareLabels labels counts with their share of count+other, on two lines: "1,234\n48.1%".
func shareLabels(counts, other []float64) []string {
	out := make([]string, len(counts))
	for i, c := range counts {
		total := c + other[i]
		if total <= 0 {
			continue
		}
		out[i] = fmt.Sprintf("%s\n%.1f%%", plots.Thousands(int64(c)), 100*c/total)
	}
	return out
}

// orNaN is n as a float, NaN when it is 0 (no official count: nothing to draw).
func orNaN(n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return float64(n)
}
