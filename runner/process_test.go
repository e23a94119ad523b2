package runner_test

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/pcamflow/pcamflow/model"
	"github.com/pcamflow/pcamflow/runner"
)

// twoTrainNodes trains two tiny models at once, asking for different kernel thread counts.
const twoTrainNodes = `
pipeline "threads" {
  seed = 3
}

dataset "d" {
  synthetic = { train = 96, valid = 32, test = 16, seed = 1, defects = false }
}

train "a" {
  dataset    = dataset.d
  model      = { arch = "mlp", hidden_units = [4] }
  epochs     = 1
  batch_size = 32
  threads    = 1
}

train "b" {
  dataset    = dataset.d
  model      = { arch = "mlp", hidden_units = [5] }
  epochs     = 1
  batch_size = 32
  threads    = 3
}
`

// TestNodesDoNotChangeProcessThreads runs two train nodes under -j 2 that ask for 1 and 3 kernel
// threads: neither changes the process-wide count the caller set (2), and each runs and reports
// the run's budget. Before the fix each node set the count itself, and the last one won.
func TestNodesDoNotChangeProcessThreads(t *testing.T) {
	p := newProject(t)
	before := model.BLASInfo().Threads
	defer model.SetThreads(before)
	model.SetThreads(2)
	sum, out := p.run(twoTrainNodes, runner.Options{Jobs: 2, Threads: 2})
	if !sum.OK() {
		t.Fatalf("run failed:\n%s", out)
	}
	if got := model.BLASInfo().Threads; got != 2 {
		t.Errorf("after the run the process kernel thread count is %d, want the 2 the caller set", got)
	}
	for _, addr := range []string{"train.a", "train.b"} {
		rows, err := p.db.NodeHistory(addr, 1)
		if err != nil || len(rows) != 1 || rows[0].State != "succeeded" {
			t.Fatalf("history of %s: %v %v", addr, rows, err)
		}
		metrics, err := p.db.Metrics(rows[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, m := range metrics {
			if m.Name == "threads" {
				found = true
				if m.Value != 2 {
					t.Errorf("%s ran with %v kernel threads, want the run's 2", addr, m.Value)
				}
			}
		}
		if !found {
			t.Errorf("%s logged no thread count", addr)
		}
	}
	if log := p.read(result(t, sum, "train.b").LogPath[len(p.dir)+1:]); !strings.Contains(log, "threads = 3 is ignored") {
		t.Errorf("train.b's log does not say that its threads attribute is ignored:\n%s", log)
	}
}

const oneCommand = `
command "c" {
  run     = ["sh", "-c", "echo c > out/c.txt"]
  outputs = ["out/c.txt"]
}
`

// TestGCPercentIsTheCallers checks that executing a node leaves the process's garbage collector
// setting alone unless the caller asked for one (Options.GCPercent), which is then in force.
func TestGCPercentIsTheCallers(t *testing.T) {
	old := debug.SetGCPercent(400)
	defer debug.SetGCPercent(old)
	p := newProject(t)
	if sum, out := p.run(oneCommand, runner.Options{}); !sum.OK() {
		t.Fatalf("run failed:\n%s", out)
	}
	if got := debug.SetGCPercent(400); got != 400 {
		t.Errorf("a run without GCPercent changed the GC percent to %d, want the caller's 400", got)
	}
	p2 := newProject(t)
	if sum, out := p2.run(oneCommand, runner.Options{GCPercent: 150}); !sum.OK() {
		t.Fatalf("run failed:\n%s", out)
	}
	if got := debug.SetGCPercent(400); got != 150 {
		t.Errorf("a run with GCPercent 150 left the GC percent at %d", got)
	}
}
