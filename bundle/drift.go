package bundle

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/pcamflow/pcamflow/audit"
	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/predict"
)

// DriftSD is how far, in standard deviations of the training patches, one of a patch's measures
// may lie from the training mean before the patch is flagged "far". Four sd is rare enough in
// training data (well under 1 in 1,000 patches for any bell-shaped measure; the training data's
// own flag rate is stored in drift.json) that a flag means the patch looks unlike anything the
// model learned from.
const DriftSD = 4

// BatchShiftSD is how far, in training standard deviations, the mean of a measure over all patches
// of one inference call may move before the call is said to drift as a whole (a scanner or stain
// change shifts every patch a little without pushing single patches past DriftSD).
const BatchShiftSD = 1

// minBatchForShift is the fewest patches whose mean is compared with BatchShiftSD.
const minBatchForShift = 10

// Feature names, in the order of Drift.Features.
var featureNames = []string{"mean_red", "mean_green", "mean_blue", "brightness", "tissue_fraction"}

// Feature is the distribution of one per-patch measure over the training patches.
type Feature struct {
	Name string  `json:"name"`
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// Drift holds the training data's input statistics (drift.json) and flags patches unlike them.
type Drift struct {
	// Source says which data the statistics describe (dataset folder, split, view).
	Source string `json:"source"`
	// Patches is the number of training patches measured.
	Patches int `json:"patches"`
	// Features are the per-patch measures: channel means, brightness (0..1) and tissue fraction, as
	// the data audit measures them (audit.MeasurePatch).
	Features []Feature `json:"features"`
	// Classes counts the training patches per audit quality class (blank, black, ...).
	Classes map[string]int `json:"classes"`
	// FarRate is the fraction of training patches that would be flagged "far".
	FarRate float64 `json:"far_rate"`
	// Rule restates the flagging rule for readers of the file.
	Rule string `json:"rule"`
}

// features returns the per-patch measures in featureNames order and the audit class.
func features(pix []byte) ([]float64, string) {
	m := audit.MeasurePatch(pix)
	return []float64{m.ChannelMean[0], m.ChannelMean[1], m.ChannelMean[2], m.Brightness, m.TissueFraction}, m.Class
}

// ComputeDrift measures every patch of srcs (the training split) in order.
func ComputeDrift(ctx context.Context, source string, srcs []predict.Source) (*Drift, error) {
	k := len(featureNames)
	sum, sumSq := make([]float64, k), make([]float64, k)
	mn, mx := make([]float64, k), make([]float64, k)
	for i := range k {
		mn[i], mx[i] = math.Inf(1), math.Inf(-1)
	}
	classes := map[string]int{}
	var all [][]float64
	n, err := predict.Run(ctx, srcs, nil, predict.Options{}, func(b *predict.Batch) error {
		for i := range b.Len() {
			f, class := features(b.Pix[i*pcam.PatchBytes : (i+1)*pcam.PatchBytes])
			if class != "" {
				classes[class]++
			}
			for j, v := range f {
				sum[j] += v
				sumSq[j] += v * v
				mn[j], mx[j] = math.Min(mn[j], v), math.Max(mx[j], v)
			}
			all = append(all, f)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("the training data %s has no patches to take statistics of", source)
	}
	d := &Drift{Source: source, Patches: n, Classes: classes,
		Rule: fmt.Sprintf("a patch is flagged blank or black by the data audit's rules, or far when a measure lies more than %d sd "+
			"from the training mean; a call drifts when any patch is flagged or when the mean of a measure over its patches "+
			"moves more than %d sd (with at least %d patches)", DriftSD, BatchShiftSD, minBatchForShift)}
	for j, name := range featureNames {
		mean := sum[j] / float64(n)
		sd := math.Sqrt(math.Max(0, sumSq[j]/float64(n)-mean*mean))
		d.Features = append(d.Features, Feature{Name: name, Mean: round6(mean), SD: round6(sd), Min: round6(mn[j]), Max: round6(mx[j])})
	}
	far := 0
	for _, f := range all {
		if _, _, ok := d.far(f); ok {
			far++
		}
	}
	d.FarRate = round6(float64(far) / float64(n))
	return d, nil
}

// round6 rounds to 6 decimals so drift.json stays readable and stable.
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// sdFloor keeps a measure that is constant in training (sd 0) from flagging every difference.
const sdFloor = 1e-3

// far returns the measure of f farthest from the training mean, its distance in sd, and whether it
// exceeds DriftSD.
func (d *Drift) far(f []float64) (string, float64, bool) {
	name, worst := "", 0.0
	for j, ft := range d.Features {
		if j >= len(f) {
			break
		}
		z := (f[j] - ft.Mean) / math.Max(ft.SD, sdFloor)
		if math.Abs(z) > math.Abs(worst) {
			name, worst = ft.Name, z
		}
	}
	return name, worst, math.Abs(worst) > DriftSD
}

// ReadDrift reads drift.json.
func ReadDrift(path string) (*Drift, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the drift statistics: %w", err)
	}
	var d Drift
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("the drift statistics %s are corrupt: %w", path, err)
	}
	if len(d.Features) != len(featureNames) || d.Patches == 0 {
		return nil, fmt.Errorf("the drift statistics %s are incomplete (%d measures of %d patches)", path, len(d.Features), d.Patches)
	}
	return &d, nil
}

// Checker flags the patches of one inference call and sums them up. It is not safe for
// concurrent use.
type Checker struct {
	d            *Drift
	n            int
	blank, black int
	far          int
	sum          []float64
	farByMeasure map[string]int
}

// NewChecker returns a checker against d.
func NewChecker(d *Drift) *Checker {
	return &Checker{d: d, sum: make([]float64, len(featureNames)), farByMeasure: map[string]int{}}
}

// Flag returns the drift flag of one patch: "" when it looks like the training data, "blank" or
// "black" (the data audit's classes), or "far:MEASURE=+Z.Zsd" naming the measure farthest from the
// training mean when it lies more than DriftSD from it.
func (c *Checker) Flag(pix []byte) string {
	f, class := features(pix)
	c.n++
	for j, v := range f {
		c.sum[j] += v
	}
	switch class {
	case audit.Blank:
		c.blank++
		return "blank"
	case audit.Black:
		c.black++
		return "black"
	}
	name, z, ok := c.d.far(f)
	if !ok {
		return ""
	}
	c.far++
	c.farByMeasure[name]++
	return fmt.Sprintf("far:%s=%+.1fsd", name, z)
}

// Warning returns the one-line drift warning of the call ("" when nothing drifted): the counts of
// flagged patches and any measure whose mean over the call moved more than BatchShiftSD.
func (c *Checker) Warning() string {
	var shifts []string
	if c.n >= minBatchForShift {
		for j, ft := range c.d.Features {
			z := (c.sum[j]/float64(c.n) - ft.Mean) / math.Max(ft.SD, sdFloor)
			if math.Abs(z) > BatchShiftSD {
				shifts = append(shifts, fmt.Sprintf("%s %+.1fsd", ft.Name, z))
			}
		}
	}
	flagged := c.blank + c.black + c.far
	if flagged == 0 && len(shifts) == 0 {
		return ""
	}
	msg := fmt.Sprintf("drift: %d of %d patches unlike the training data (%d blank, %d black, %d more than %d sd from the training mean",
		flagged, c.n, c.blank, c.black, c.far, DriftSD)
	if len(c.farByMeasure) > 0 {
		var parts []string
		for name, k := range c.farByMeasure {
			parts = append(parts, fmt.Sprintf("%s %d", name, k))
		}
		sort.Strings(parts)
		msg += ": " + strings.Join(parts, ", ")
	}
	msg += ")"
	if len(shifts) > 0 {
		msg += "; the mean over the batch moved: " + strings.Join(shifts, ", ")
	}
	return msg + "; see the drift column, and do not trust predictions on such patches"
}
