package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childrenPipeline has a parent (the test-only fanout kind) that runs six children of a slow
// command one Run call at a time; every child execution appends a line to executions.log.
const childrenPipeline = `
command "leaf" {
  run     = ["sh", "-c", "echo child=$CHILD >> executions.log; sleep 0.3; echo leaf $CHILD > out/f-child-$CHILD.txt"]
  outputs = ["out/f-child-.txt"]
}

fanout "f" {
  base     = "command.leaf"
  count    = 6
  batches  = 6
  parallel = 1
}
`

// TestChildrenResumeAfterKill kills the whole pcamflow process (SIGKILL) while its parent node is
// running children: the rerun finds the children that finished in the cache, executes only the
// others, and ends with the same parent output as an uninterrupted run.
func TestChildrenResumeAfterKill(t *testing.T) {
	killed, clean := t.TempDir(), t.TempDir()
	for _, d := range []string{killed, clean} {
		writeFile(t, filepath.Join(d, "p.hcl"), childrenPipeline)
	}
	if out, err := pcamflow(t, clean, "run", "p.hcl").CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	cmd, out := startIn(t, killed, nil, "run", "p.hcl")
	waitUntil(t, 30*time.Second, func() bool { return childRuns(killed) >= 3 },
		func() string { return "the children did not start:\n" + out.String() })
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	time.Sleep(100 * time.Millisecond)
	before := childRuns(killed)

	rerun, err := pcamflow(t, killed, "run", "p.hcl").CombinedOutput()
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, rerun)
	}
	cached := strings.Count(string(rerun), "cached   fanout.f.trial[")
	ran := strings.Count(string(rerun), "ran      fanout.f.trial[")
	if cached < 2 || cached+ran != 6 {
		t.Errorf("the rerun found %d children cached and ran %d; want the finished ones (at least 2) cached and only the rest run:\n%s", cached, ran, rerun)
	}
	if again := childRuns(killed) - before; again != ran {
		t.Errorf("the rerun executed %d children but reported %d", again, ran)
	}
	a := readFile(clean, ".pcamflow/out/fanout.f/digests.txt")
	b := readFile(killed, ".pcamflow/out/fanout.f/digests.txt")
	if a == "" || a != b {
		t.Errorf("the parent's output after kill+rerun differs from an uninterrupted run's:\n%s\nvs\n%s", b, a)
	}
}

// childRuns counts the child executions logged in dir (the leaf node itself logs "child=").
func childRuns(dir string) int {
	return len(regexp.MustCompile(`child=[0-9]`).FindAllString(readFile(dir, "executions.log"), -1))
}

func readFile(dir, rel string) string {
	b, _ := os.ReadFile(filepath.Join(dir, rel))
	return string(b)
}
