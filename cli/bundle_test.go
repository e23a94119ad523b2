package cli_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pcamflow/pcamflow/cli"
)

// ensemblePipeline trains two seeds and thresholds their mean prediction and each seed.
const ensemblePipeline = `
pipeline "ens" {
  seed = 5
}
dataset "d" {
  synthetic = { train = 96, valid = 64, test = 64, seed = 4, defects = false }
}
train "mlp" {
  dataset    = dataset.d
  model      = { arch = "mlp", hidden_units = [4] }
  epochs     = 1
  batch_size = 32
  seeds      = [1, 2]
}
threshold "mean" {
  model   = train.mlp
  dataset = dataset.d
}
threshold "each" {
  model    = train.mlp
  dataset  = dataset.d
  per_seed = true
}
evaluate "test" {
  model     = train.mlp
  dataset   = dataset.d
  threshold = threshold.mean
  baselines = {}
}
`

// bundleCLI runs the command line in the working directory and fails the test on an unexpected code.
func bundleCLI(t *testing.T, want int, args ...string) (string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := cli.Run(context.Background(), args, &out, &errb); code != want {
		t.Fatalf("pcamflow %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

// readCSV reads a CSV file into records keyed by the value of column key, with the header.
func readCSV(t *testing.T, path string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs[0], recs[1:]
}

// column returns the index of name in header.
func column(t *testing.T, header []string, name string) int {
	for i, h := range header {
		if h == name {
			return i
		}
	}
	t.Fatalf("no column %q in %v", name, header)
	return -1
}

// TestBundleEnsemble bundles a model with two seeds: infer --bundle predicts the mean of the seeds
// bit for bit as the evaluate stage computed it, labels with the ensemble's threshold; a per-seed
// threshold goes with one seed's model only.
func TestBundleEnsemble(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile("p.hcl", []byte(ensemblePipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	bundleCLI(t, 0, "run", "p.hcl")
	out, _ := bundleCLI(t, 0, "bundle", "p.hcl", "train.mlp", "--threshold", "threshold.mean", "-o", "b")
	if !strings.Contains(out, "2 checkpoint(s)") {
		t.Errorf("bundle output: %s", out)
	}
	bundleCLI(t, 0, "bundle", "verify", "b")
	for _, f := range []string{"b/model/seed-1.ckpt", "b/model/seed-2.ckpt"} {
		if _, err := os.Stat(f); err != nil {
			t.Error(err)
		}
	}
	testX := filepath.Join(".pcamflow", "out", "dataset.d", "data", "camelyonpatch_level_2_split_test_x.h5")
	bundleCLI(t, 0, "infer", "--bundle", "b", "-o", "b.csv", testX)
	bh, brows := readCSV(t, "b.csv")
	eh, erows := readCSV(t, filepath.Join(".pcamflow", "out", "evaluate.test", "predictions.csv"))
	if len(brows) != 64 || len(erows) != 64 {
		t.Fatalf("%d bundle rows, %d evaluate rows; want 64", len(brows), len(erows))
	}
	var thr struct {
		Value float64 `json:"value"`
	}
	data, _ := os.ReadFile(filepath.Join(".pcamflow", "out", "threshold.mean", "threshold.json"))
	if err := json.Unmarshal(data, &thr); err != nil {
		t.Fatal(err)
	}
	bi, bp, bl := column(t, bh, "id"), column(t, bh, "probability"), column(t, bh, "label")
	ei, ep := column(t, eh, "id"), column(t, eh, "probability")
	for k := range brows {
		if brows[k][bi] != erows[k][ei] || brows[k][bp] != erows[k][ep] {
			t.Fatalf("row %d: bundle %s %s, evaluate %s %s", k, brows[k][bi], brows[k][bp], erows[k][ei], erows[k][ep])
		}
	}
	labels := 0
	for _, r := range brows {
		labels += map[string]int{"1": 1}[r[bl]]
	}
	if labels == 0 && thr.Value < 1 {
		t.Errorf("no patch labelled 1 at threshold %v", thr.Value)
	}

	// A per-seed threshold: not for the ensemble; for one seed it is that seed's threshold.
	_, errOut := bundleCLI(t, 1, "bundle", "p.hcl", "train.mlp", "--threshold", "threshold.each", "-o", "c")
	if !strings.Contains(errOut, "threshold.each chose one threshold per seed (per_seed = true); bundle one seed's model with it") {
		t.Errorf("per-seed threshold for the ensemble: %s", errOut)
	}
	bundleCLI(t, 0, "bundle", "p.hcl", `train.mlp["2"]`, "--threshold", "threshold.each", "-o", "c")
	var each struct {
		PerSeed map[string]struct {
			Value float64 `json:"value"`
		} `json:"per_seed"`
	}
	data, _ = os.ReadFile(filepath.Join(".pcamflow", "out", "threshold.each", "threshold.json"))
	if err := json.Unmarshal(data, &each); err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Members   []struct{ Seed string } `json:"members"`
		Threshold struct {
			Value float64 `json:"value"`
			Seed  string  `json:"seed"`
		} `json:"threshold"`
	}
	data, _ = os.ReadFile(filepath.Join("c", "bundle.json"))
	if err := json.Unmarshal(data, &meta); err != nil {
		t.Fatal(err)
	}
	if len(meta.Members) != 1 || meta.Threshold.Seed != "2" || meta.Threshold.Value != each.PerSeed["2"].Value {
		t.Errorf("per-seed bundle: %+v, want seed 2's threshold %v", meta, each.PerSeed["2"].Value)
	}
}
