package train

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"

	"github.com/pcamflow/pcamflow/metrics"
	"github.com/pcamflow/pcamflow/plots"
)

// PlotsOutput names the output (a folder) of pictures a training node (and the aggregate node of a stage with
// seeds) publishes. The data behind the pictures is history.json (one node) or plots/curves.json
// (the aggregate).
const PlotsOutput = "plots"

// Picture file names inside the plots folder.
const (
	// PlotLoss shows the training and validation loss per epoch.
	PlotLoss = "loss.png"
	// PlotValMetrics shows the validation ROC-AUC and F-beta per epoch.
	PlotValMetrics = "val_metrics.png"
	// PlotLR shows the learning rate per epoch (log scale).
	PlotLR = "learning_rate.png"
	// PlotGradNorms shows the per-layer gradient norms per epoch, one panel per layer (log scale).
	PlotGradNorms = "grad_norms.png"
	// CurvesFile is the data behind the aggregate node's pictures (see Curves).
	CurvesFile = "curves.json"
)

// PlotFiles lists the pictures of a training node in the order a report shows them.
var PlotFiles = []string{PlotLoss, PlotValMetrics, PlotLR, PlotGradNorms}

// writeSeedPlots draws the pictures of one training node from the history.json it has written.
func writeSeedPlots(historyPath, dir string, beta float64) error {
	data, err := os.ReadFile(historyPath)
	if err != nil {
		return fmt.Errorf("drawing the training curves: %w", err)
	}
	var hist []Epoch
	if err := json.Unmarshal(data, &hist); err != nil {
		return fmt.Errorf("drawing the training curves: history %s: %w", historyPath, err)
	}
	return drawCurves(dir, curvesOf(nil, [][]Epoch{hist}), beta)
}

// Curve is one quantity per epoch over the seeds of a stage: Mean[i] and Std[i] (sample standard
// deviation; 0 with one seed) over the N[i] seeds that reached Epochs[i]; Seeds[s][i] is seed s's
// value (NaN where that seed stopped earlier).
type Curve struct {
	Mean  []Num   `json:"mean"`
	Std   []Num   `json:"std"`
	N     []int   `json:"n"`
	Seeds [][]Num `json:"seeds"`
}

// Curves is the data of a stage's training pictures (the aggregate's plots/curves.json): every
// per-epoch quantity of history.json by name ("train_loss", "val_loss", "val_roc_auc",
// "val_f_beta", "val_accuracy", "lr", "grad_norm_mean/LAYER", "grad_norm_max/LAYER").
type Curves struct {
	Seeds  []string         `json:"seeds"`
	Epochs []int            `json:"epochs"`
	Curves map[string]Curve `json:"curves"`
}

// Num is a float64 that encodes NaN and infinities as JSON null.
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	if f := float64(n); math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(n), 'g', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler: null is NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	*n = Num(f)
	return err
}

// curvesOf gathers the per-epoch quantities of the histories (one per seed, named by seeds).
func curvesOf(seeds []string, hists [][]Epoch) *Curves {
	c := &Curves{Seeds: seeds, Curves: map[string]Curve{}}
	epochs := 0
	for _, h := range hists {
		epochs = max(epochs, len(h))
	}
	for e := 1; e <= epochs; e++ {
		c.Epochs = append(c.Epochs, e)
	}
	names := map[string]bool{}
	for _, h := range hists {
		for _, row := range h {
			for n := range rowValues(row) {
				names[n] = true
			}
		}
	}
	for name := range names {
		cv := Curve{Seeds: make([][]Num, len(hists))}
		for s, h := range hists {
			cv.Seeds[s] = make([]Num, epochs)
			for e := range cv.Seeds[s] {
				cv.Seeds[s][e] = Num(math.NaN())
				if e < len(h) {
					if v, ok := rowValues(h[e])[name]; ok {
						cv.Seeds[s][e] = Num(v)
					}
				}
			}
		}
		for e := range epochs {
			var xs []float64
			for s := range hists {
				if v := float64(cv.Seeds[s][e]); !math.IsNaN(v) && !math.IsInf(v, 0) {
					xs = append(xs, v)
				}
			}
			m, sd := metrics.MeanStd(xs)
			cv.Mean, cv.Std, cv.N = append(cv.Mean, Num(m)), append(cv.Std, Num(sd)), append(cv.N, len(xs))
		}
		c.Curves[name] = cv
	}
	return c
}

// rowValues lists the quantities of one epoch by name.
func rowValues(r Epoch) map[string]float64 {
	v := rowMetrics(r)
	for layer, x := range r.GradMean {
		v["grad_norm_mean/"+layer] = x
	}
	for layer, x := range r.GradMax {
		v["grad_norm_max/"+layer] = x
	}
	return v
}

// layers returns the layer names with gradient norms, in natural order (conv2 before conv10).
func (c *Curves) layers() []string {
	var out []string
	for name := range c.Curves {
		if l, ok := strings.CutPrefix(name, "grad_norm_mean/"); ok {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return naturalLess(out[i], out[j]) })
	return out
}

// naturalLess orders names with embedded numbers by value: "conv2" < "conv10" < "out".
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitPrefix(a), digitPrefix(b)
		if da > 0 && db > 0 {
			na, _ := strconv.Atoi(a[:da])
			nb, _ := strconv.Atoi(b[:db])
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitPrefix(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// drawCurves writes the four pictures of c into dir. With one seed each quantity is one line; with
// several, each seed is a thin line and the mean a thick one inside a mean ± std band.
func drawCurves(dir string, c *Curves, beta float64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pics, grads, err := c.pictures(beta)
	if err != nil {
		return err
	}
	for _, name := range []string{PlotLoss, PlotValMetrics, PlotLR} {
		if err := plots.Save(pics[name], filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	path := filepath.Join(dir, PlotGradNorms)
	if len(grads) == 0 {
		return plots.Save(plots.New("Gradient norms (none logged)", "epoch", "L2 norm"), path)
	}
	return plots.SaveGrid("Gradient L2 norm per layer"+c.titleSuffix(), grads, 2, path)
}

// pictures builds the loss, validation-metric and learning-rate plots by file name, and one
// gradient-norm panel per layer: the mean norm over the epoch's batches (solid) and the largest
// (dashed), on a log scale.
func (c *Curves) pictures(beta float64) (map[string]*plot.Plot, []*plot.Plot, error) {
	fbeta := "F" + strconv.FormatFloat(beta, 'g', -1, 64)
	specs := []struct {
		file, title, ylabel string
		log                 bool
		quantities          [][2]string // curve name, legend name
	}{
		{PlotLoss, "Loss", "loss", false, [][2]string{{"train_loss", "train"}, {"val_loss", "validation"}}},
		{PlotValMetrics, "Validation ROC-AUC and " + fbeta, "score", false,
			[][2]string{{"val_roc_auc", "val ROC-AUC"}, {"val_f_beta", "val " + fbeta}}},
		{PlotLR, "Learning rate", "learning rate (log scale)", true, [][2]string{{"lr", "learning rate"}}},
	}
	pics := map[string]*plot.Plot{}
	for _, spec := range specs {
		p := plots.New(spec.title+c.titleSuffix(), "epoch", spec.ylabel)
		if spec.log {
			plots.LogY(p)
		}
		for i, q := range spec.quantities {
			if err := c.add(p, q[0], q[1], i, false); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", spec.file, err)
			}
		}
		pics[spec.file] = p
	}
	var grads []*plot.Plot
	for _, layer := range c.layers() {
		p := plots.New("layer "+layer, "epoch", "L2 norm (log scale)")
		plots.LogY(p)
		if err := c.add(p, "grad_norm_mean/"+layer, "mean over batches", 0, false); err != nil {
			return nil, nil, err
		}
		if err := c.add(p, "grad_norm_max/"+layer, "max over batches", 1, true); err != nil {
			return nil, nil, err
		}
		grads = append(grads, p)
	}
	return pics, grads, nil
}

// titleSuffix names the seeds in titles of the aggregate's pictures.
func (c *Curves) titleSuffix() string {
	if len(c.Seeds) < 2 {
		return ""
	}
	return fmt.Sprintf(" (%d seeds)", len(c.Seeds))
}

// add draws one quantity in colour i: a line for one seed; for several, each seed thin and the
// mean with a mean ± std band. dashed draws the mean dashed.
func (c *Curves) add(p *plot.Plot, name, legend string, i int, dashed bool) error {
	cv, ok := c.Curves[name]
	if !ok {
		return nil
	}
	x := make([]float64, len(c.Epochs))
	for e, ep := range c.Epochs {
		x[e] = float64(ep)
	}
	mean := floats(cv.Mean)
	if len(cv.Seeds) > 1 {
		for s, ys := range cv.Seeds {
			thin := ""
			if s == 0 {
				thin = legend + ", each seed"
			}
			if err := plots.AddLine(p, plots.Series{Name: thin, X: x, Y: floats(ys)}, i, true); err != nil {
				return err
			}
		}
		if !dashed {
			return plots.AddMeanBand(p, legend, x, mean, floats(cv.Std), i)
		}
		legend += " (mean)"
	}
	if dashed {
		return plots.AddDashed(p, plots.Series{Name: legend, X: x, Y: mean}, i)
	}
	return plots.AddLine(p, plots.Series{Name: legend, X: x, Y: mean}, i, false)
}

func floats(ns []Num) []float64 {
	out := make([]float64, len(ns))
	for i, n := range ns {
		out[i] = float64(n)
	}
	return out
}
