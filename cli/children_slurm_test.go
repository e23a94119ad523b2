package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// childrenOnSlurm has a parent whose children run on Slurm: five children in two Run calls.
const childrenOnSlurm = `
counter "base" {
  tag = "base"
}

fanout "f" {
  base     = "counter.base"
  count    = 5
  batches  = 2
  parallel = 2
  resources {
    executor = "slurm"
  }
}
`

// TestSlurmChildren runs the children of a parent on the real cluster: each Run call of the parent
// is ONE sbatch --array of that call's cache misses, the parent itself holds no job, a rerun
// submits nothing, and growing the parent submits only the new children.
func TestSlurmChildren(t *testing.T) {
	needSlurm(t)
	start := time.Now()
	defer func() { t.Logf("took %s after the cluster lock", time.Since(start).Round(time.Millisecond)) }()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.hcl"), childrenOnSlurm)
	env, log := slurmEnv(t, dir)
	out, err := runIn(t, dir, env, "run", "p.hcl")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	calls := sbatchCalls(t, log)
	if len(calls) != 2 {
		t.Fatalf("%d sbatch calls, want 2 (one array per Run call of the parent):\n%s\n%s", len(calls), strings.Join(calls, "\n"), out)
	}
	scripts, _ := os.ReadFile(log)
	for _, want := range []string{"#SBATCH --array=0-2%2", "#SBATCH --array=0-1%2"} {
		if !strings.Contains(string(scripts), want) {
			t.Errorf("no %s among the submitted scripts", want)
		}
	}
	if strings.Contains(string(scripts), "pcamflow:fanout.f\n") || strings.Count(out, "ran      fanout.f.trial[") != 5 {
		t.Errorf("the parent held a job, or not every child ran:\n%s", out)
	}
	if out, err = runIn(t, dir, env, "run", "p.hcl"); err != nil || len(sbatchCalls(t, log)) != 2 || !strings.Contains(out, "0 ran") {
		t.Errorf("a rerun submitted again (%d calls): %v\n%s", len(sbatchCalls(t, log)), err, out)
	}
	writeFile(t, filepath.Join(dir, "p.hcl"), strings.Replace(childrenOnSlurm, "count    = 5", "count    = 7", 1))
	out, err = runIn(t, dir, env, "run", "p.hcl")
	if err != nil {
		t.Fatalf("grown run: %v\n%s", err, out)
	}
	if calls := sbatchCalls(t, log); len(calls) != 3 || strings.Count(out, "cached   fanout.f.trial[") != 5 {
		t.Errorf("growing to 7 children: %d sbatch calls (want 3: one array of the 2 new ones):\n%s", len(calls), out)
	}
	st, _ := runIn(t, dir, env, "status")
	if !strings.Contains(st, "    fanout.f.trial[") {
		t.Errorf("status does not list the children under their parent:\n%s", st)
	}
}
