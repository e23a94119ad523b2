package runner_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/runner"
)

// interruptPipeline has two slow independent nodes, of which one waits for the only execution
// slot (-j 1) while the other runs, and a node downstream of both.
const interruptPipeline = `
command "a" {
  run     = ["sh", "-c", "touch started; sleep 20; echo a > out/a.txt"]
  outputs = ["out/a.txt"]
}

command "b" {
  run     = ["sh", "-c", "touch started; sleep 20; echo b > out/b.txt"]
  outputs = ["out/b.txt"]
}

command "after" {
  run     = ["cat", "out/a.txt", "out/b.txt"]
  inputs  = [command.a.outputs[0], command.b.outputs[0]]
}
`

// TestInterruptedNodesAreNotStarted interrupts a run while its first node executes: the node that
// was executing fails as interrupted, and the nodes that never started are recorded and reported
// as "not started (interrupted)", not as failed with "context canceled".
func TestInterruptedNodesAreNotStarted(t *testing.T) {
	p := newProject(t)
	r, out := p.runner(interruptPipeline, runner.Options{Jobs: 1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if _, err := os.Stat(filepath.Join(p.dir, "started")); err == nil {
				cancel()
				return
			}
		}
	}()
	sum, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	executing, waiting := "command.a", "command.b"
	if result(t, sum, "command.b").State == state.Failed {
		executing, waiting = waiting, executing
	}
	if got := result(t, sum, executing); got.State != state.Failed {
		t.Errorf("the executing node ended %s, want failed (interrupted)\n%s", got.State, out)
	}
	for _, addr := range []string{"command.after", waiting} {
		got := result(t, sum, addr)
		if got.State != state.Interrupted || len(got.Reasons) != 1 || got.Reasons[0] != "not started (interrupted)" {
			t.Errorf("%s: %s %v %v, want interrupted: not started (interrupted)\n%s", addr, got.State, got.Reasons, got.Err, out)
		}
	}
	run, nodes, err := p.db.LastRun("")
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != state.RunInterrupted {
		t.Errorf("run status %s, want interrupted", run.Status)
	}
	for _, n := range nodes {
		if n.Node == executing {
			continue
		}
		if n.State != state.Interrupted || n.Reason != "not started (interrupted)" || n.Error != "" {
			t.Errorf("record of %s: state %s reason %q error %q, want interrupted / not started (interrupted) / no error", n.Node, n.State, n.Reason, n.Error)
		}
	}
}
