package evaluate

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/model"
	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/stages/dataset"
)

// trainTiny trains a small MLP on the train split of dir for a few epochs and saves it.
func trainTiny(t *testing.T, dir, ckpt string, epochs int) {
	t.Helper()
	r, err := pcam.OpenH5(dir, pcam.Train)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := r.Len()
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	pix, labels := make([]byte, n*pcam.PatchBytes), make([]uint8, n)
	if err := r.Read(idx, pix, labels); err != nil {
		t.Fatal(err)
	}
	tr, err := model.New(model.Config{Arch: model.ArchMLP, HiddenUnits: []int{64}, Seed: 3,
		Normalize: model.Normalize{Mean: []float64{0.70, 0.54, 0.69}, Std: []float64{0.24, 0.28, 0.21}},
		Optimizer: model.OptimizerConfig{Name: "adam", LearningRate: 1e-3}})
	if err != nil {
		t.Fatal(err)
	}
	const batch = 64
	for range epochs {
		for s := 0; s+batch <= n; s += batch {
			if _, err := tr.Step(pix[s*pcam.PatchBytes:(s+batch)*pcam.PatchBytes], labels[s:s+batch]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tr.SaveFile(ckpt); err != nil {
		t.Fatal(err)
	}
}

// TestHardStainGroupIsWorstSlice is the hidden-truth test of the slices: a synthetic dataset whose
// pale-haematoxylin group is harder on purpose (pcam's hard_stain_group); evaluate must name the
// haematoxylin=low slice the worst, and that slice must be mostly the planted group.
func TestHardStainGroupIsWorstSlice(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	dir := t.TempDir()
	// The model learns on clean data (the group's labels are not learnable); the evaluated test
	// split carries the hard group.
	clean, data := filepath.Join(dir, "clean"), filepath.Join(dir, "data")
	if _, err := pcam.Synthesize(clean, pcam.SynthOptions{Seed: 12, Train: 3000, NoDefects: true}); err != nil {
		t.Fatal(err)
	}
	opt := pcam.SynthOptions{Seed: 11, Test: 2400, NoDefects: true, HardStainGroup: pcam.HardPaleHaematoxylin}
	if _, err := pcam.Synthesize(data, opt); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(dir, "m.ckpt")
	start := time.Now()
	trainTiny(t, clean, ckpt, 8)
	t.Logf("trained in %s", time.Since(start).Round(time.Millisecond))
	cfg := cfgOf(t, map[string]cty.Value{"model": modelVal(ckpt), "dataset": dataset.View{Kind: "dataset", Format: pcam.FormatH5, Dir: data}.Value(),
		"bootstrap": cty.NumberIntVal(200), "baselines": cty.EmptyObjectVal,
		"slices": cty.MapVal(map[string]cty.Value{"stain": cty.StringVal("auto"), "brightness": cty.StringVal("auto"), "tissue": cty.StringVal("auto")})})
	rep, env := executeOK(t, cfg)
	for _, s := range rep.Slices {
		t.Logf("%-20s n=%4d ROC-AUC %s", s.Slice, s.Count, fmtIv(s.Metrics["roc_auc"]))
	}
	if rep.Worst.Slice != "haematoxylin=low" {
		t.Errorf("worst slice %q, want haematoxylin=low (the planted pale group)", rep.Worst.Slice)
	}
	members, err := pcam.HardStainMembers(opt, pcam.Test)
	if err != nil {
		t.Fatal(err)
	}
	preds := readPredictions(t, env)
	inGroup, low := 0, 0
	for i, row := range preds {
		if row["slice_haematoxylin"] == "low" {
			low++
			if members[i] {
				inGroup++
			}
		}
	}
	// The slice is a measurement (Ruifrok-Johnston deconvolution), the group a generator choice: most
	// of the slice, not all of it, is the group (measured 76%).
	if frac := float64(inGroup) / float64(low); frac < 0.7 {
		t.Errorf("only %.0f%% of the haematoxylin=low slice is the planted group", 100*frac)
	}
	if hi := float64(rep.Worst.Hi); !(hi < rep.Metrics["roc_auc"].Value) {
		t.Errorf("the worst slice's interval [%v, %v] reaches the overall ROC-AUC %v", float64(rep.Worst.Lo), hi, rep.Metrics["roc_auc"].Value)
	}
}
