package evaluate

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/model"
	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/stages/dataset"
)

// debianPython is Debian's interpreter, which has python3-sklearn and python3-h5py.
const debianPython = "/usr/bin/python3"

//go:embed testdata/sklearn_eval.py
var sklearnScript []byte

// tinyCheckpoint writes an untrained tiny MLP whose outputs straddle 0.5.
func tinyCheckpoint(t *testing.T, path string, seed uint64) {
	t.Helper()
	tr, err := model.New(model.Config{Arch: model.ArchMLP, HiddenUnits: []int{4}, Seed: seed,
		Normalize: model.Normalize{Mean: []float64{0.7, 0.55, 0.7}, Std: []float64{0.2, 0.25, 0.2}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.SaveFile(path); err != nil {
		t.Fatal(err)
	}
}

// TestAgainstScikitLearn is the hidden-truth test of the numbers: scikit-learn, NumPy and h5py
// recompute, from the raw HDF5 pixels and the node's probabilities, every feature, tertile slice,
// per-slice and overall metric and the colour baseline, and must agree to 1e-9 (1e-6 for the
// baseline's fitted probabilities).
func TestAgainstScikitLearn(t *testing.T) {
	if err := exec.Command(debianPython, "-c", "import sklearn, h5py").Run(); err != nil {
		t.Skipf("skipping: %s cannot import sklearn and h5py (%v); install python3-sklearn python3-h5py", debianPython, err)
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if _, err := pcam.Synthesize(data, pcam.SynthOptions{Seed: 4, Train: 400, Test: 600}); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(dir, "m.ckpt")
	tinyCheckpoint(t, ckpt, 3)
	// A user slice file by id: patches in two groups.
	r, err := pcam.OpenH5(data, pcam.Test)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("id,slice\n")
	pix := make([]byte, pcam.PatchBytes)
	seen := map[string]bool{}
	for i := 0; i < r.Len(); i += 3 {
		if err := r.Read([]int{i}, pix, nil); err != nil {
			t.Fatal(err)
		}
		if id := pcam.KaggleID(pix); !seen[id] { // planted duplicates share an id
			seen[id] = true
			fmt.Fprintf(&b, "%s,%s\n", id, []string{"even", "odd"}[(i/3)%2])
		}
	}
	r.Close()
	user := filepath.Join(dir, "groups.csv")
	if err := os.WriteFile(user, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := cfgOf(t, map[string]cty.Value{"model": modelVal(ckpt), "dataset": dataset.View{Kind: "dataset", Format: pcam.FormatH5, Dir: data}.Value(),
		"threshold": cty.NumberFloatVal(0.5), "bootstrap": cty.NumberIntVal(50), "min_slice_count": cty.NumberIntVal(10),
		"slices": cty.MapVal(map[string]cty.Value{"brightness": cty.StringVal("auto"), "tissue": cty.StringVal("auto"), "stain": cty.StringVal("auto"),
			"slide": cty.StringVal("auto"), "groups": cty.StringVal(user)})})
	rep, env := executeOK(t, cfg)
	if len(rep.Slices) < 12+2+5 {
		t.Fatalf("%d slices, want the 12 tertiles, 2 user slices and the slides", len(rep.Slices))
	}
	if c := rep.Confusion; c.TP+c.FN == 0 || c.TP+c.FP == 0 || c.TN+c.FN == 0 {
		t.Fatalf("confusion %+v: the model predicts one class, the comparison would be weak", c)
	}
	script, out := filepath.Join(dir, "ref.py"), filepath.Join(dir, "ref.json")
	if err := os.WriteFile(script, sklearnScript, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(debianPython, script, data, env.OutputPaths[outReport], env.OutputPaths[outPredictions], out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("reference script: %v\n%s", err, msg)
	}
	var res struct {
		Version  string   `json:"sklearn_version"`
		Problems []string `json:"problems"`
	}
	raw, _ := os.ReadFile(out)
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	t.Logf("compared %d slices and %d baselines with scikit-learn %s", len(rep.Slices), len(rep.Baselines), res.Version)
	for _, p := range res.Problems {
		t.Error(p)
	}
}
