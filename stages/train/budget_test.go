package train

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/stages/dataset"
)

// budgetRun executes one training node of cfg to budget (0: no budget) with the given resume
// folder and returns its output folder and log.
func budgetRun(t *testing.T, cfg cty.Value, dir, resume string, budget int) (string, string) {
	t.Helper()
	out, log, err := runBudget(t, cfg, dir, resume, budget)
	if err != nil {
		t.Fatalf("budget %d: %v\n%s", budget, err, log)
	}
	return out, log
}

// runBudget is budgetRun returning the error (safe to call from another goroutine).
func runBudget(t *testing.T, cfg cty.Value, dir, resume string, budget int) (string, string, error) {
	out := t.TempDir()
	var log bytes.Buffer
	env := &stages.Env{Node: "train.t", Config: cfg, ProjectDir: dir, ScratchDir: t.TempDir(),
		OutputPaths: map[string]string{}, Seed: 3, Log: &log, ResumeDir: resume, Progress: io.Discard, Budget: budget}
	for _, name := range []string{outCheckpoint, outBest, outHistory, outMetrics, PlotsOutput} {
		env.OutputPaths[name] = filepath.Join(out, name)
	}
	err := (Kind{}).Execute(context.Background(), env)
	return out, log.String(), err
}

// sameOutputs fails unless the two output folders hold the same files with the same bytes.
func sameOutputs(t *testing.T, what, a, b string) {
	t.Helper()
	files := func(root string) map[string][]byte {
		m := map[string][]byte{}
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			m[rel], err = os.ReadFile(p)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	fa, fb := files(a), files(b)
	if len(fa) != len(fb) || len(fa) < 5 {
		t.Fatalf("%s: %d files and %d files", what, len(fa), len(fb))
	}
	for name, data := range fa {
		if !bytes.Equal(data, fb[name]) {
			t.Errorf("%s: %s differs", what, name)
		}
	}
}

func readOutputs(t *testing.T, out string) (Final, []Epoch) {
	t.Helper()
	var f Final
	var h []Epoch
	for name, v := range map[string]any{outMetrics: &f, outHistory: &h} {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	return f, h
}

// TestBudgetsContinueBitIdentically: a node run to budget 1 and then, sharing the resume folder, to
// budget 3 gives exactly the outputs of a straight run of 3 epochs; a budget below the shared
// folder's epoch trains from the start without touching the folder; budgets at or above the
// configured epochs are the plain run.
func TestBudgetsContinueBitIdentically(t *testing.T) {
	dir := t.TempDir()
	separableSplit(t, dir, pcam.Train, 64, 1)
	separableSplit(t, dir, pcam.Valid, 32, 2)
	set := func(epochs int) cty.Value {
		return config(t, map[string]cty.Value{
			"dataset": dataset.View{Kind: "dataset", Format: pcam.FormatH5, Dir: dir}.Value(),
			"epochs":  cty.NumberIntVal(int64(epochs)), "batch_size": cty.NumberIntVal(16),
			"model":     cty.ObjectVal(map[string]cty.Value{"arch": cty.StringVal("mlp"), "hidden_units": cty.TupleVal([]cty.Value{cty.NumberIntVal(4)})}),
			"augment":   cty.ObjectVal(map[string]cty.Value{"flips": cty.True, "rotations": cty.True}),
			"scheduler": cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("cosine"), "t_max": cty.NumberIntVal(int64(epochs))}),
		})
	}
	cfg := set(3)
	straight, _ := budgetRun(t, cfg, dir, filepath.Join(t.TempDir(), "r"), 0)
	fresh1, _ := budgetRun(t, cfg, dir, filepath.Join(t.TempDir(), "r"), 1)

	shared := filepath.Join(t.TempDir(), "resume")
	b1, _ := budgetRun(t, cfg, dir, shared, 1)
	sameOutputs(t, "budget 1 on an empty resume folder", fresh1, b1)
	if f, h := readOutputs(t, b1); f.Epochs != 1 || len(h) != 1 {
		t.Fatalf("budget 1: metrics.json epochs %d, history of %d epochs; want 1 and 1", f.Epochs, len(h))
	}
	if bytes.Equal(mustRead(t, filepath.Join(b1, outCheckpoint)), mustRead(t, filepath.Join(straight, outCheckpoint))) {
		t.Fatal("the checkpoint at budget 1 is the one after 3 epochs")
	}
	b3, log3 := budgetRun(t, cfg, dir, shared, 3)
	if !strings.Contains(log3, "resuming from epoch 1") {
		t.Errorf("budget 3 after budget 1 did not resume from epoch 1:\n%s", log3)
	}
	sameOutputs(t, "budget 1 then 3 against a straight run of 3", straight, b3)

	again1, log1 := budgetRun(t, cfg, dir, shared, 1) // a smaller budget after a larger one
	if !strings.Contains(log1, "training from the start") {
		t.Errorf("budget 1 after budget 3 did not train from the start:\n%s", log1)
	}
	sameOutputs(t, "budget 1 after budget 3", fresh1, again1)
	again3, log3 := budgetRun(t, cfg, dir, shared, 3) // the shared folder still holds epoch 3
	if !strings.Contains(log3, "resuming from epoch 3") {
		t.Errorf("budget 3 after budgets 1, 3, 1 did not resume from epoch 3:\n%s", log3)
	}
	sameOutputs(t, "budgets 1, 3, 1, 3 against a straight run of 3", straight, again3)
	over, _ := budgetRun(t, cfg, dir, filepath.Join(t.TempDir(), "r"), 9)
	sameOutputs(t, "budget 9 of 3 epochs against a straight run of 3", straight, over)

	// Budgets 1 and 3 of one configuration at once (the runner locks each budget's key on its
	// own): the resume folder's lock makes one wait for the other, so whichever goes first, each
	// publishes what it would alone.
	race := filepath.Join(t.TempDir(), "resume")
	outs := make([]string, 2)
	var wg sync.WaitGroup
	for i, budget := range []int{1, 3} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, log, err := runBudget(t, cfg, dir, race, budget)
			if err != nil {
				t.Errorf("budget %d: %v\n%s", budget, err, log)
			}
			outs[i] = out
		}()
	}
	wg.Wait()
	if !t.Failed() {
		sameOutputs(t, "budget 1 run at once with budget 3", fresh1, outs[0])
		sameOutputs(t, "budget 3 run at once with budget 1", straight, outs[1])
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
