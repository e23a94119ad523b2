package runner_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/runner"
)

// slurmPipeline has a local node, a single Slurm job and a Slurm fan-out with retries.
const slurmPipeline = `
command "prep" {
  run     = ["sh", "-c", "echo prep > out/prep.txt"]
  outputs = ["out/prep.txt"]
}

command "single" {
  run     = ["sh", "-c", "cat out/prep.txt > out/single.txt"]
  inputs  = command.prep.outputs
  outputs = ["out/single.txt"]
  resources {
    executor = "slurm"
    time     = "00:10:00"
  }
}

command "fan" {
  for_each = range(4)
  run      = ["sh", "-c", "echo ${each.key} > out/fan${each.key}.txt"]
  inputs   = command.single.outputs
  outputs  = ["out/fan${each.key}.txt"]
  resources {
    executor          = "slurm"
    parallel          = 2
    retries           = 1
    mem               = "100M"
    retry_mem_factor  = 2
  }
}
`

// TestSlurmAttachedOnFake runs Slurm stages attached through a fake client that executes each task
// in this process: one job for the single node, one array for the fan-out, and on a task failure a
// resubmission of only the failed indices with grown resources.
func TestSlurmAttachedOnFake(t *testing.T) {
	p := newProject(t)
	fs := newFakeSlurm(p, slurmPipeline)
	failed := map[string]bool{}
	fs.failOn = func(node string) bool { // index 2 fails once
		if node == `command.fan["2"]` && !failed[node] {
			failed[node] = true
			return true
		}
		return false
	}
	sum, out := p.run(slurmPipeline, runner.Options{Slurm: fs.options()})
	if !sum.OK() || sum.Count(state.Succeeded) != 6 {
		t.Fatalf("run: %v\n%s", nodeNames(sum), out)
	}
	specs := fs.submitted()
	if len(specs) != 3 || specs[0].Array != nil || specs[1].Array == nil || len(specs[1].Array.Indices) != 4 || specs[1].Array.Parallel != 2 {
		t.Fatalf("submissions: %d\n%s", len(specs), out)
	}
	if retry := specs[2]; retry.Array == nil || len(retry.Array.Indices) != 1 || retry.Array.Indices[0] != 2 || retry.Mem != "200M" {
		t.Errorf("the retry resubmitted %+v with mem %s, want only index 2 with 200M", retry.Array, retry.Mem)
	}
	for _, want := range []string{"slurm    command.single submitted as job", "array job (4 tasks, --array=0-3)", "resubmitting only --array=2", "retry with time (default), mem 200M"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	_, nodes, _ := p.db.LastRun("")
	for _, n := range nodes {
		if n.Node != "command.prep" && (n.Executor != state.Slurm || n.JobID == "" || n.State != state.Succeeded) {
			t.Errorf("record of %s: executor %s job %q state %s", n.Node, n.Executor, n.JobID, n.State)
		}
	}
	// A rerun finds everything cached and submits nothing; half the fan-out cached submits only
	// the rest.
	if sum, out := p.run(slurmPipeline, runner.Options{Slurm: fs.options()}); sum.Count(state.Cached) != 6 || len(fs.submitted()) != 3 {
		t.Errorf("rerun submitted again:\n%s", out)
	}
	p.run(slurmPipeline, runner.Options{Slurm: fs.options(), Force: []string{`command.fan["1"]`}})
	if specs := fs.submitted(); len(specs) != 4 || len(specs[3].Array.Indices) != 1 {
		t.Errorf("forcing one instance submitted %d job(s)", len(fs.submitted())-3)
	}
}

// TestSlurmFailureOnFake checks that a task failing for good fails its node with the job's outcome
// and skips the downstream.
func TestSlurmFailureOnFake(t *testing.T) {
	p := newProject(t)
	fs := newFakeSlurm(p, slurmPipeline)
	fs.failOn = func(node string) bool { return node == "command.single" }
	sum, out := p.run(slurmPipeline, runner.Options{Slurm: fs.options()})
	if s := result(t, sum, "command.single"); s.State != state.Failed || !strings.Contains(s.Err.Error(), "slurm job") {
		t.Errorf("single: %s %v\n%s", s.State, s.Err, out)
	}
	if f := result(t, sum, `command.fan["0"]`); f.State != state.Skipped {
		t.Errorf("fan downstream of a failed job: %s", f.State)
	}
	_, nodes, _ := p.db.LastRun("")
	for _, n := range nodes {
		if n.Node == "command.single" && (n.State != state.Failed || n.Error == "") {
			t.Errorf("record of the failed job: %+v", n)
		}
	}
}

// TestDetachOnFake detaches the pipeline: every missing node is submitted at once, one job or array
// per stage, chained with afterok dependencies, recorded as running; a second detach while they
// are in flight submits nothing; Render shows the same scripts.
func TestDetachOnFake(t *testing.T) {
	p := newProject(t)
	src := strings.ReplaceAll(slurmPipeline, `command "prep" {`, `command "prep" {
  resources {
    executor = "slurm"
  }`)
	fs := newFakeSlurm(p, src)
	fs.failOn = func(string) bool { return false }
	r, out := p.runner(src, runner.Options{Slurm: fs.options()})
	scripts, err := r.Render()
	if err != nil || len(scripts) != 3 || !strings.Contains(scripts["command.fan"], "#SBATCH --array=0-3%2") {
		t.Fatalf("render: %v %v", err, scripts)
	}
	// Hold every task so that the jobs stay in flight.
	hold := make(chan struct{})
	fs.hold = hold
	d, err := r.Detach(context.Background())
	if err != nil {
		t.Fatalf("detach: %v\n%s", err, out)
	}
	if len(d.Jobs) != 3 || d.Cached != 0 {
		t.Errorf("detached jobs %v, cached %d", d.Jobs, d.Cached)
	}
	specs := fs.submitted()
	if len(specs) != 3 || len(specs[0].Dependency) != 0 || len(specs[1].Dependency) != 1 || specs[2].Dependency[0] != d.Jobs["command.single"] {
		t.Errorf("dependencies: %v %v %v", specs[0].Dependency, specs[1].Dependency, specs[2].Dependency)
	}
	running, _ := p.db.RunningSlurmNodes("")
	if len(running) != 6 {
		t.Errorf("%d nodes recorded running on Slurm, want 6", len(running))
	}
	r2, _ := p.runner(src, runner.Options{Slurm: fs.options()})
	d2, err := r2.Detach(context.Background())
	if err != nil || len(d2.Jobs) != 0 || len(d2.InFlight) != 6 {
		t.Errorf("second detach while in flight: %+v %v", d2, err)
	}
	close(hold)
}
