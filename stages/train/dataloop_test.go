package train

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/stages/dataset"
)

// trainOnce executes one training node on the dataset in dir with the given attributes and returns
// the error, the node log and the output folder.
func trainOnce(t *testing.T, dir, format string, set map[string]cty.Value) (error, string, string) {
	t.Helper()
	set["dataset"] = dataset.View{Kind: "dataset", Format: format, Dir: dir}.Value()
	out := t.TempDir()
	var log bytes.Buffer
	env := &stages.Env{Node: "train.t", Config: config(t, set), ProjectDir: dir, ScratchDir: t.TempDir(),
		OutputPaths: map[string]string{}, Seed: 1, Log: &log, ResumeDir: filepath.Join(t.TempDir(), "resume"),
		Progress: io.Discard}
	for _, name := range []string{outCheckpoint, outBest, outHistory, outMetrics, PlotsOutput} {
		env.OutputPaths[name] = filepath.Join(out, name)
	}
	err := (Kind{}).Execute(context.Background(), env)
	return err, log.String(), out
}

// kaggleCopy makes a kaggle_tif dataset whose train and valid splits are both the 15 real patches of
// pcam/testdata/kaggle.
func kaggleCopy(t *testing.T) string {
	t.Helper()
	const fixture = "../../pcam/testdata/kaggle"
	dir := t.TempDir()
	files, _ := filepath.Glob(filepath.Join(fixture, "train", "*.tif"))
	for _, split := range []string{"train", "valid"} {
		os.MkdirAll(filepath.Join(dir, split), 0o755)
		for _, f := range files {
			b, _ := os.ReadFile(f)
			os.WriteFile(filepath.Join(dir, split, filepath.Base(f)), b, 0o644)
		}
		b, _ := os.ReadFile(filepath.Join(fixture, "train_labels.csv"))
		os.WriteFile(filepath.Join(dir, split+"_labels.csv"), b, 0o644)
	}
	return dir
}

// TestCorruptPatchFailsTheNode: bytes 8-9 of a Kaggle TIFF are its IFD entry count; set to ff ff the
// decoder runs past the end of the file and returns an error wrapping io.EOF. That used to end the
// epoch (or the validation pass) early and silently; it must fail the node naming the file.
func TestCorruptPatchFailsTheNode(t *testing.T) {
	const bad = "c18f2d887b7ae4f6742ee445113fa1aef383ed77.tif"
	small := func() map[string]cty.Value {
		return map[string]cty.Value{"epochs": cty.NumberIntVal(1), "batch_size": cty.NumberIntVal(4),
			"model": cty.ObjectVal(map[string]cty.Value{"arch": cty.StringVal("mlp"), "hidden_units": cty.TupleVal([]cty.Value{cty.NumberIntVal(2)})})}
	}
	for _, split := range []string{"train", "valid"} {
		t.Run(split, func(t *testing.T) {
			dir := kaggleCopy(t)
			p := filepath.Join(dir, split, bad)
			b, _ := os.ReadFile(p)
			b[8], b[9] = 0xff, 0xff
			os.WriteFile(p, b, 0o644)
			err, log, _ := trainOnce(t, dir, pcam.FormatKaggle, small())
			if err == nil {
				t.Fatalf("training succeeded over a corrupt %s patch; log:\n%s", split, log)
			}
			if !strings.Contains(err.Error(), filepath.Join(split, bad)) || !strings.Contains(err.Error(), "reading "+map[string]string{"train": "training", "valid": "validation"}[split]+" data") {
				t.Fatalf("error %q does not name the corrupt file and what was being read", err)
			}
		})
	}
}

// separableSplit writes a split whose label is obvious from brightness (dark patches are positive),
// so that validation ROC-AUC saturates at 1.0 in the first epoch while the loss keeps falling.
func separableSplit(t *testing.T, dir string, split pcam.Split, n int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	pix := make([]byte, n*pcam.PatchBytes)
	labels := make([]uint8, n)
	for i := range n {
		labels[i] = uint8(i % 2)
		base := 150
		if labels[i] == 1 {
			base = 110
		}
		for j := range pcam.PatchBytes {
			pix[i*pcam.PatchBytes+j] = byte(base + rng.IntN(40))
		}
	}
	w, err := pcam.CreateSplit(dir, split, n, pcam.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(pix, labels); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestBestCheckpointBreaksTiesOnValLoss: when the monitored metric ties (val ROC-AUC 1.0 in every
// epoch), the best checkpoint is the tied epoch with the lowest validation loss, not the first.
func TestBestCheckpointBreaksTiesOnValLoss(t *testing.T) {
	dir := t.TempDir()
	separableSplit(t, dir, pcam.Train, 64, 1)
	separableSplit(t, dir, pcam.Valid, 32, 2)
	err, log, out := trainOnce(t, dir, pcam.FormatH5, map[string]cty.Value{
		"epochs": cty.NumberIntVal(4), "batch_size": cty.NumberIntVal(16),
		"model": cty.ObjectVal(map[string]cty.Value{"arch": cty.StringVal("mlp"), "hidden_units": cty.TupleVal([]cty.Value{cty.NumberIntVal(4)})}),
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	var hist []Epoch
	var final Final
	for name, v := range map[string]any{outHistory: &hist, outMetrics: &final} {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	want, tied := 0, 0
	for _, h := range hist {
		if h.ValROCAUC != 1 {
			continue
		}
		tied++
		if want == 0 || h.ValLoss < hist[want-1].ValLoss {
			want = h.Epoch
		}
	}
	if tied < 2 || want == 1 {
		t.Fatalf("test setup: want val ROC-AUC 1.0 in several epochs with a lower loss after the first; history %+v", hist)
	}
	if final.BestEpoch != want {
		t.Errorf("best epoch %d, want %d (the tied epoch with the lowest val_loss); history:\n%s", final.BestEpoch, want, log)
	}
}
