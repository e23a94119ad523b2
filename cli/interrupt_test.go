package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCtrlCNotStarted interrupts a run (SIGINT, as Ctrl-C does) while one node runs and another
// waits for the only slot: the run exits 130, and both the run output and status report the waiting
// node and the node downstream as "not started (interrupted)", never as failed with "context
// canceled".
func TestCtrlCNotStarted(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.hcl"), `
command "a" {
  run     = ["sh", "-c", "touch started; sleep 20; echo a > out/a.txt"]
  outputs = ["out/a.txt"]
}

command "b" {
  run     = ["sh", "-c", "touch started; sleep 20; echo b > out/b.txt"]
  outputs = ["out/b.txt"]
}

command "after" {
  run    = ["cat", "out/a.txt", "out/b.txt"]
  inputs = [command.a.outputs[0], command.b.outputs[0]]
}
`)
	cmd, out := startIn(t, dir, nil, "run", "-j", "1", "p.hcl")
	waitFor(t, filepath.Join(dir, "started"), 20*time.Second)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("interrupted run exited %d (%v), want 130:\n%s", code, err, out.String())
	}
	if !strings.Contains(out.String(), "stopped  command.after - not started (interrupted)") ||
		!strings.Contains(out.String(), "2 interrupted") {
		t.Errorf("the run does not report the nodes that never started:\n%s", out.String())
	}
	st, _ := pcamflow(t, dir, "status").CombinedOutput()
	for _, node := range []string{"command.after"} {
		if !regexpMatch(node+` +interrupted +- +not started \(interrupted\)`, st) {
			t.Errorf("status does not say %s was not started:\n%s", node, st)
		}
	}
	if strings.Contains(string(st), "context canceled") || strings.Count(string(st), "not started (interrupted)") != 2 {
		t.Errorf("status of an interrupted run:\n%s", st)
	}
}
