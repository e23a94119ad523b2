package sweep

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/pcamflow/pcamflow/hpo"
	"github.com/pcamflow/pcamflow/internal/atomicfile"
	"github.com/pcamflow/pcamflow/plots"
	"github.com/pcamflow/pcamflow/stages"
)

// championIndex is the file in the champion folder of a command base that maps output names to
// their copies.
const championIndex = "outputs.json"

// MetricsFile is the format of the metrics.json a command base's node writes (docs/language.md):
// per-epoch metrics and, optionally, final ones. The objective of a trial is final[metric] when
// present, else the best per-epoch value.
type MetricsFile struct {
	Epochs []map[string]float64 `json:"epochs"`
	Final  map[string]float64   `json:"final"`
}

// readObjective reads a child's objective metric: its value per epoch and its final value (NaN
// when the node gives none, then the best epoch counts).
func readObjective(kind, projectDir string, outs map[string]stages.Output, metric string) ([]float64, float64, error) {
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(projectDir, p)
	}
	if kind == baseTrain {
		o, ok := outs["history.json"]
		if !ok {
			return nil, math.NaN(), fmt.Errorf("the trial has no history.json output")
		}
		b, err := os.ReadFile(abs(o.Path))
		if err != nil {
			return nil, math.NaN(), err
		}
		var rows []map[string]any
		if err := json.Unmarshal(b, &rows); err != nil {
			return nil, math.NaN(), fmt.Errorf("reading history.json: %w", err)
		}
		curve := make([]float64, 0, len(rows))
		for _, row := range rows {
			v, ok := row[metric].(float64)
			if !ok {
				return nil, math.NaN(), fmt.Errorf("history.json logs no %q", metric)
			}
			curve = append(curve, v)
		}
		return curve, math.NaN(), nil
	}
	var path string
	for _, name := range sortedOutputNames(outs) {
		if name == "metrics" || filepath.Base(outs[name].Path) == "metrics.json" {
			path = abs(outs[name].Path)
			if name == "metrics" {
				break
			}
		}
	}
	if path == "" {
		return nil, math.NaN(), fmt.Errorf("the trial has no metrics.json output")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, math.NaN(), err
	}
	var mf MetricsFile
	if err := json.Unmarshal(b, &mf); err != nil {
		return nil, math.NaN(), fmt.Errorf("metrics.json: %w; the format is {\"epochs\": [{\"epoch\": 1, \"METRIC\": value}], \"final\": {\"METRIC\": value}}", err)
	}
	var curve []float64
	for _, row := range mf.Epochs {
		if v, ok := row[metric]; ok {
			curve = append(curve, v)
		}
	}
	final := math.NaN()
	if v, ok := mf.Final[metric]; ok {
		final = v
	}
	if len(curve) == 0 && math.IsNaN(final) {
		var have []string
		for k := range mf.Final {
			have = append(have, k)
		}
		if len(mf.Epochs) > 0 {
			for k := range mf.Epochs[0] {
				have = append(have, k)
			}
		}
		sort.Strings(have)
		return nil, math.NaN(), fmt.Errorf("metrics.json has no %q (it has: %s)", metric, strings.Join(have, ", "))
	}
	return curve, final, nil
}

// trialRow is one row of trials.json.
type trialRow struct {
	Index     int                        `json:"index"`
	Params    map[string]json.RawMessage `json:"params"`
	Objective *float64                   `json:"objective"`
	Epochs    int                        `json:"epochs"`
	State     string                     `json:"state"`
	Key       string                     `json:"key"`
	Address   string                     `json:"address"`
	Curve     []float64                  `json:"curve"`
	Error     string                     `json:"error,omitempty"`
}

// summary is summary.json.
type summary struct {
	Node      string                     `json:"node"`
	Base      string                     `json:"base"`
	Sampler   string                     `json:"sampler"`
	Seed      int64                      `json:"seed"`
	Metric    string                     `json:"metric"`
	Goal      string                     `json:"goal"`
	Trials    int                        `json:"trials"`
	Complete  int                        `json:"complete"`
	Pruned    int                        `json:"pruned"`
	Failed    int                        `json:"failed"`
	EpochsRun int                        `json:"epochs_run"`
	Champion  int                        `json:"champion"`
	Objective float64                    `json:"objective"`
	Key       string                     `json:"key"`
	Address   string                     `json:"address"`
	Params    map[string]json.RawMessage `json:"params"`
}

// params renders a trial's parameter values.
func (r *sweepRun) params(p hpo.Point) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for i, d := range r.s.Dims {
		s, err := formatValue(d.paramValue(p[i]))
		if err != nil {
			s = "null"
		}
		out[d.Path] = json.RawMessage(s)
	}
	return out
}

// write writes every output of the sweep node.
func (r *sweepRun) write(trials []*trial) error {
	rows := make([]trialRow, len(trials))
	sum := summary{Node: r.env.Node, Base: r.baseAddr, Sampler: r.s.Sampler, Seed: r.s.Seed, Metric: r.s.Metric,
		Goal: goalWord(r.s.Maximize), Trials: len(trials)}
	for i, t := range trials {
		o := r.outcomes[t.Index]
		row := trialRow{Index: t.Index, Params: r.params(t.Point), Epochs: t.Epochs, State: t.State, Key: o.Key, Address: o.Addr,
			Curve: t.Curve}
		if row.Curve == nil {
			row.Curve = []float64{}
		}
		if !math.IsNaN(t.Value) {
			v := t.Value
			row.Objective = &v
		}
		if t.Err != nil {
			row.Error = t.Err.Error()
		}
		rows[i] = row
		sum.EpochsRun += t.Epochs
		switch t.State {
		case stateComplete:
			sum.Complete++
		case statePruned:
			sum.Pruned++
		case stateFailed:
			sum.Failed++
		}
	}
	best := champion(trials, r.s.Maximize)
	if best < 0 {
		return errNoChampion
	}
	sum.Champion, sum.Objective = best, trials[best].Value
	sum.Key, sum.Address, sum.Params = rows[best].Key, rows[best].Address, rows[best].Params
	out := r.env.OutputPaths
	if err := writeJSON(out[outJSON], rows); err != nil {
		return err
	}
	if err := writeJSON(out[outSummary], sum); err != nil {
		return err
	}
	if err := writeJSON(out[outBest], sum.Params); err != nil {
		return err
	}
	if err := r.writeCSV(out[outCSV], rows); err != nil {
		return err
	}
	if err := r.copyChampion(out[outChampion], r.outcomes[best].Outputs); err != nil {
		return err
	}
	return r.writePlots(out[outPlots], trials)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'), 0o644)
}

// writeCSV writes trials.csv: index, state, objective, epochs, one column per parameter, key, address.
func (r *sweepRun) writeCSV(path string, rows []trialRow) error {
	paths := sortedPaths(r.s.Dims)
	return atomicfile.WriteFunc(path, 0o644, func(w *bufio.Writer) error {
		cw := csv.NewWriter(w)
		header := append([]string{"index", "state", "objective", "epochs"}, paths...)
		if err := cw.Write(append(header, "key", "address")); err != nil {
			return err
		}
		for _, row := range rows {
			obj := ""
			if row.Objective != nil {
				obj = strconv.FormatFloat(*row.Objective, 'g', -1, 64)
			}
			rec := []string{strconv.Itoa(row.Index), row.State, obj, strconv.Itoa(row.Epochs)}
			for _, p := range paths {
				rec = append(rec, string(row.Params[p]))
			}
			if err := cw.Write(append(rec, row.Key, row.Address)); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
}

// copyChampion copies the champion trial's outputs into the champion folder: a train trial's files
// under their output names; a command trial's under safe names listed in outputs.json.
func (r *sweepRun) copyChampion(dir string, outs map[string]stages.Output) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	index := map[string]string{}
	for _, name := range sortedOutputNames(outs) {
		src := outs[name].Path
		if !filepath.IsAbs(src) {
			src = filepath.Join(r.env.ProjectDir, src)
		}
		rel := strings.NewReplacer("/", "_", "\\", "_").Replace(name)
		if err := copyTree(src, filepath.Join(dir, rel)); err != nil {
			return fmt.Errorf("copying the champion's %s: %w", name, err)
		}
		index[name] = rel
	}
	if r.s.BaseKind == baseCommand {
		return writeJSON(filepath.Join(dir, championIndex), index)
	}
	return nil
}

// copyTree copies a file or a folder.
func copyTree(src, dst string) error {
	info, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return copyFile(src, dst)
	}
	return filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		return copyFile(p, target)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return atomicfile.WriteFunc(dst, 0o644, func(w *bufio.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}

// writePlots draws objective.png, params.png and curves.png.
func (r *sweepRun) writePlots(dir string, trials []*trial) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	in := plots.SweepPlot{Metric: r.s.Metric, Maximize: r.s.Maximize}
	for _, d := range r.s.Dims {
		in.ParamNames = append(in.ParamNames, d.Path)
		in.LogParams = append(in.LogParams, d.Dim.Kind == hpo.LogUniform)
		var labels []string
		if d.Dim.Kind == hpo.Choice {
			for i := range d.Values {
				labels = append(labels, d.describe(float64(i)))
			}
		}
		in.ChoiceLabels = append(in.ChoiceLabels, labels)
	}
	for _, t := range trials {
		in.Trials = append(in.Trials, plots.SweepTrial{Label: "trial " + strconv.Itoa(t.Index), Params: append([]float64(nil), t.Point...),
			Objective: t.Value, Pruned: t.State == statePruned, Curve: t.Curve})
	}
	for name, draw := range map[string]func(plots.SweepPlot) ([]byte, error){
		"objective.png": plots.SweepObjectivePNG, "params.png": plots.SweepParamsPNG, "curves.png": plots.SweepCurvesPNG,
	} {
		b, err := draw(in)
		if err != nil {
			return fmt.Errorf("drawing %s: %w", name, err)
		}
		if err := atomicfile.Write(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
