package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// trainPipeline trains a small MLP on a small synthetic dataset; epochs is a variable so the
// tests can make the run long enough to interrupt.
const trainPipeline = `
pipeline "t" {
  seed = 5
}

variable "epochs" {
  default = 3
}

variable "lr" {
  default = 0.001
}

dataset "pcam" {
  synthetic = { train = 512, valid = 128, test = 64, seed = 3 }
}

train "mlp" {
  dataset    = dataset.pcam
  model      = { arch = "mlp", hidden_units = [16], dropout = 0.2 }
  epochs     = var.epochs
  batch_size = 64
  optimizer  = { name = "adam", learning_rate = var.lr }
  sampler    = "weighted"
  augment    = { flips = true, rotations = true }
  seeds      = [1, 2]
}
`

// TestTrainKillResumeIsBitIdentical kills a training run after its first epoch checkpoint and
// checks that the rerun resumes from it and ends with the same bytes as an uninterrupted run.
func TestTrainKillResumeIsBitIdentical(t *testing.T) {
	clean, killed := t.TempDir(), t.TempDir()
	for _, d := range []string{clean, killed} {
		writeFile(t, filepath.Join(d, "p.hcl"), strings.Replace(trainPipeline, "seeds      = [1, 2]", "", 1))
	}
	if out, err := pcamflow(t, clean, "run", "p.hcl", "-var", "epochs=6").CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	cmd, out := startIn(t, killed, nil, "run", "p.hcl", "-var", "epochs=6")
	waitOutput(t, out, "epoch 2/6:", 120*time.Second)
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	rerun, err := pcamflow(t, killed, "run", "p.hcl", "-var", "epochs=6").CombinedOutput()
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, rerun)
	}
	log := readLogs(t, killed, "train.mlp")
	if !regexp.MustCompile(`resuming from epoch [1-5]`).MatchString(log) {
		t.Errorf("the rerun did not resume from a checkpoint:\n%s", log)
	}
	for _, f := range []string{"checkpoint.ckpt", "best.ckpt", "history.json", "metrics.json"} {
		a, _ := os.ReadFile(filepath.Join(clean, ".pcamflow/out/train.mlp", f))
		b, _ := os.ReadFile(filepath.Join(killed, ".pcamflow/out/train.mlp", f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between the resumed and the uninterrupted run (%d vs %d bytes)", f, len(b), len(a))
		}
	}
}

// TestTrainDivergenceAndVerify checks that NaN losses fail the node with the epoch and batch, that
// verify confirms a deterministic training node, and that verify catches a non-deterministic one.
func TestTrainDivergenceAndVerify(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.hcl"), trainPipeline+`
command "flaky" {
  run     = ["sh", "-c", "date +%N > out/flaky.txt"]
  outputs = ["out/flaky.txt"]
}
`)
	out, err := pcamflow(t, dir, "run", "p.hcl", "-var", "lr=1e30", "-target", "train.mlp").CombinedOutput()
	if err == nil || !regexp.MustCompile(`training diverged at epoch 1, batch \d+`).Match(out) {
		t.Fatalf("a diverging run must fail naming the epoch and batch: %v\n%s", err, out)
	}
	out, err = pcamflow(t, dir, "run", "p.hcl", "-var", "epochs=2").CombinedOutput()
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`train\.mlp over 2 seeds: val_roc_auc \d\.\d{4} ± \d\.\d{4}`).Match(out) {
		t.Errorf("no mean ± std over seeds:\n%s", out)
	}
	v, err := pcamflow(t, dir, "verify", "p.hcl", `train.mlp["2"]`, "-var", "epochs=2").CombinedOutput()
	if err != nil || !strings.Contains(string(v), "all outputs match bit for bit") {
		t.Fatalf("verify of a deterministic node: %v\n%s", err, v)
	}
	if !regexp.MustCompile(`twin +\(this verify\) +\d\.\d{10} +\d\.\d{10} +yes`).Match(v) {
		t.Errorf("verify table:\n%s", v)
	}
	v, err = pcamflow(t, dir, "verify", "p.hcl", "command.flaky").CombinedOutput()
	if err == nil || !strings.Contains(string(v), "MISMATCH") {
		t.Fatalf("verify must catch a non-deterministic node: %v\n%s", err, v)
	}
	if !regexp.MustCompile(`(?m)^  out/flaky\.txt: line 1: cached "\d+", twin "\d+"$`).Match(v) {
		t.Errorf("verify does not say where the twin departs from the cached output:\n%s", v)
	}
}

// readLogs concatenates the node logs of every run whose file name starts with prefix.
func readLogs(t *testing.T, dir, prefix string) string {
	files, _ := filepath.Glob(filepath.Join(dir, ".pcamflow/logs/*", prefix+"*.log"))
	var b strings.Builder
	for _, f := range files {
		data, _ := os.ReadFile(f)
		b.Write(data)
	}
	return b.String()
}
