package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pcamflow/pcamflow/internal/clusterlock"
)

// These tests run against the real single-node Slurm cluster that scripts/slurm-local.sh starts
// (make test starts it). They skip, saying why, when no idle node is available.

func needSlurm(t *testing.T) {
	t.Helper()
	out, err := exec.Command("sinfo", "--noheader", "--format=%t").Output()
	if err != nil {
		t.Skipf("Slurm is not available (sinfo: %v); start it with scripts/slurm-local.sh start", err)
	}
	if !strings.Contains(string(out), "idle") && !strings.Contains(string(out), "mix") && !strings.Contains(string(out), "alloc") {
		t.Skipf("no usable Slurm node (sinfo says %q); start it with scripts/slurm-local.sh start", strings.TrimSpace(string(out)))
	}
	clusterlock.Lock(t)
}

// slurmEnv returns a PATH with a logging sbatch wrapper first, and the log it appends to: one line
// per sbatch call, then the script it submitted.
func slurmEnv(t *testing.T, dir string) (env []string, logPath string) {
	t.Helper()
	real, err := exec.LookPath("sbatch")
	if err != nil {
		t.Skip("sbatch not found")
	}
	bin := filepath.Join(dir, "wrapbin")
	logPath = filepath.Join(dir, "sbatch.log")
	writeFile(t, filepath.Join(bin, "sbatch"), "#!/bin/sh\necho \"SBATCH CALL $*\" >> "+logPath+"\ntee -a "+logPath+" | "+real+" \"$@\"\n")
	if err := os.Chmod(filepath.Join(bin, "sbatch"), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "PCAMFLOW_SLURM_POLL=300ms"}, logPath
}

func sbatchCalls(t *testing.T, logPath string) []string {
	data, _ := os.ReadFile(logPath)
	var calls []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "SBATCH CALL") {
			calls = append(calls, l)
		}
	}
	return calls
}

func runIn(t *testing.T, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := pcamflow(t, dir, args...)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

const fanoutPipeline = `
pipeline "fan" {}

command "prep" {
  run     = ["sh", "-c", "echo prep > out/prep.txt"]
  outputs = ["out/prep.txt"]
}

command "single" {
  run     = ["sh", "-c", "cat out/prep.txt > out/single.txt; echo job=$SLURM_JOB_ID >> out/single.txt"]
  inputs  = command.prep.outputs
  outputs = ["out/single.txt"]
  resources {
    executor = "slurm"
  }
}

command "fan" {
  for_each = range(20)
  run      = ["sh", "-c", "echo ${each.key} task=$SLURM_ARRAY_TASK_ID > out/fan${each.key}.txt"]
  inputs   = command.single.outputs
  outputs  = ["out/fan${each.key}.txt"]
  resources {
    executor = "slurm"
    parallel = 8
  }
}
`

// TestSlurmAttachedAndDetached runs a local stage, a Slurm stage and a 20-node Slurm fan-out,
// attached then detached: the fan-out is one sbatch --array call, and reruns submit nothing.
func TestSlurmAttachedAndDetached(t *testing.T) {
	needSlurm(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.hcl"), fanoutPipeline)
	env, log := slurmEnv(t, dir)

	out, err := runIn(t, dir, env, "run", "p.hcl")
	if err != nil {
		t.Fatalf("attached run: %v\n%s", err, out)
	}
	calls := sbatchCalls(t, log)
	if len(calls) != 2 {
		t.Fatalf("attached run made %d sbatch calls, want 2 (single job + one array):\n%s", len(calls), strings.Join(calls, "\n"))
	}
	script, _ := os.ReadFile(log)
	if !strings.Contains(string(script), "#SBATCH --array=0-19%8") {
		t.Errorf("the fan-out was not one --array=0-19%%8 job:\n%s", script)
	}
	if !strings.Contains(out, "22 ran, 0 cached") {
		t.Errorf("attached run summary:\n%s", out)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "out/fan7.txt")); !strings.HasPrefix(string(data), "7 task=") {
		t.Errorf("out/fan7.txt = %q", data)
	}
	out, err = runIn(t, dir, env, "run", "p.hcl")
	if err != nil || !strings.Contains(out, "0 ran, 22 cached") || len(sbatchCalls(t, log)) != 2 {
		t.Fatalf("rerun should submit nothing (%d sbatch calls):\n%s", len(sbatchCalls(t, log)), out)
	}

	// Detached: a fresh workspace, the whole DAG at once with afterok dependencies.
	det := t.TempDir()
	writeFile(t, filepath.Join(det, "p.hcl"), fanoutPipeline)
	env2, log2 := slurmEnv(t, det)
	out, err = runIn(t, det, env2, "run", "--detach", "p.hcl")
	if err != nil || !strings.Contains(out, "3 job(s) submitted") {
		t.Fatalf("detached run: %v\n%s", err, out)
	}
	if !strings.Contains(out, "after ") {
		t.Errorf("detached jobs are not chained with dependencies:\n%s", out)
	}
	again, err := runIn(t, det, env2, "run", "--detach", "p.hcl")
	if err != nil || len(sbatchCalls(t, log2)) != 3 || !strings.Contains(again, "not submitted again") {
		t.Errorf("a second detached run while jobs are in flight submitted again (%d calls):\n%s", len(sbatchCalls(t, log2)), again)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		st, _ := runIn(t, det, env2, "status")
		if strings.Contains(st, "succeeded") && !strings.Contains(st, "running") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("detached run did not finish:\n%s", st)
		}
		time.Sleep(time.Second)
	}
	out, err = runIn(t, det, env2, "run", "p.hcl")
	if err != nil || !strings.Contains(out, "0 ran, 22 cached") || len(sbatchCalls(t, log2)) != 3 {
		t.Errorf("after the detached run, an attached run should find everything cached:\n%s", out)
	}
}

// TestSlurmFailures covers a job that exits 1, an array with 2 of 10 failing tasks where only those
// are resubmitted, and hostile parameter values that must stay text.
func TestSlurmFailures(t *testing.T) {
	needSlurm(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.hcl"), `
variable "msg" {
  default = "plain"
}

command "exit1" {
  run = ["sh", "-c", "echo going down; exit 1"]
  resources {
    executor = "slurm"
  }
}

command "arr" {
  for_each = range(10)
  run      = ["sh", "-c", "if [ ${each.key} = 3 ] || [ ${each.key} = 7 ]; then if [ ! -f tried${each.key} ]; then touch tried${each.key}; exit 2; fi; fi; echo ok > out/a${each.key}"]
  outputs  = ["out/a${each.key}"]
  resources {
    executor          = "slurm"
    retries           = 1
    time              = "00:05:00"
    mem               = "200M"
    retry_time_factor = 2
    retry_mem_factor  = 1.5
  }
}

command "quoted" {
  run     = ["sh", "-c", "printf '%s' \"$MSG\" > out/msg.txt", var.msg]
  env     = { MSG = var.msg }
  outputs = ["out/msg.txt"]
  resources {
    executor = "slurm"
  }
}
`)
	env, log := slurmEnv(t, dir)
	hostile := `"; touch pwned; echo "$(touch pwned2)'`
	out, err := runIn(t, dir, env, "run", "p.hcl", "-var", "msg="+hostile)
	if err == nil {
		t.Fatalf("a failing Slurm job must fail the run:\n%s", out)
	}
	for _, want := range []string{"FAILED   command.exit1: slurm job", "failed (non-zero exit): state FAILED", "going down",
		"resubmitting only --array=3,7", `ran      command.arr["3"]`, "11 ran, 0 cached, 1 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	calls := sbatchCalls(t, log)
	if len(calls) != 4 {
		t.Errorf("want 4 sbatch calls (exit1, arr, quoted, retry of 3,7), got %d", len(calls))
	}
	if scripts, _ := os.ReadFile(log); !strings.Contains(string(scripts), "#SBATCH --array=3,7") {
		t.Errorf("the retry did not resubmit only indices 3 and 7")
	} else if retry := string(scripts)[strings.Index(string(scripts), "#SBATCH --array=3,7")-400:]; !strings.Contains(retry, "--time=0-00:10:00") || !strings.Contains(retry, "--mem=300M") {
		t.Errorf("the retry did not grow time and memory:\n%s", retry)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "out/msg.txt")); string(got) != hostile {
		t.Errorf("the hostile value arrived as %q, want it verbatim", got)
	}
	for _, f := range []string{"pwned", "pwned2"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("a parameter value was executed as shell: %s exists", f)
		}
	}
}

// TestSlurmCancelledAndDrained cancels a running job from outside, and drains the node while a job
// waits: the runner says why the job is pending, then finishes once the node is resumed.
func TestSlurmCancelledAndDrained(t *testing.T) {
	needSlurm(t)
	host := nodeName(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.hcl"), `
command "slow" {
  run = ["sh", "-c", "touch started; sleep 60"]
  resources {
    executor = "slurm"
  }
}
`)
	env, _ := slurmEnv(t, dir)
	cmd, buf := startIn(t, dir, env, "run", "p.hcl")
	waitFor(t, filepath.Join(dir, "started"), 30*time.Second)
	if out, err := exec.Command("scancel", "--name=pcamflow:command.slow").CombinedOutput(); err != nil {
		t.Fatalf("scancel: %v %s", err, out)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatalf("a cancelled job must fail the run:\n%s", buf.String())
	}
	if !strings.Contains(buf.String(), "CANCELLED") || !strings.Contains(buf.String(), "cancelled") {
		t.Errorf("the run does not report the cancellation:\n%s", buf.String())
	}

	// Drain the node, submit, see the pending reason, resume.
	drained := t.TempDir()
	writeFile(t, filepath.Join(drained, "p.hcl"), `
command "waits" {
  run     = ["sh", "-c", "echo done > out/w.txt"]
  outputs = ["out/w.txt"]
  resources {
    executor = "slurm"
  }
}
`)
	if out, err := exec.Command("scontrol", "update", "nodename="+host, "state=drain", "reason=pcamflow-test").CombinedOutput(); err != nil {
		t.Fatalf("drain: %v %s", err, out)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			_ = exec.Command("scontrol", "update", "nodename="+host, "state=resume").Run()
		}
	}
	defer resume()
	cmd, out2 := startIn(t, drained, env, "run", "p.hcl")
	waitOutput(t, out2, "PENDING (", 30*time.Second) // the runner says why the job waits
	resume()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after resuming the node the run must finish: %v\n%s", err, out2.String())
	}
	if !strings.Contains(out2.String(), "1 ran") {
		t.Errorf("output:\n%s", out2.String())
	}
}

// TestSlurmGPU schedules a GPU stage on the fake gres and checks its GPU assignment and script.
func TestSlurmGPU(t *testing.T) {
	needSlurm(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.hcl"), `
command "gpu" {
  run     = ["sh", "-c", "echo CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES SLURM_JOB_GPUS=$SLURM_JOB_GPUS > out/gpu.txt"]
  outputs = ["out/gpu.txt"]
  resources {
    executor  = "slurm"
    partition = "gpu"
    gpus      = 1
  }
}
`)
	env, _ := slurmEnv(t, dir)
	render, err := runIn(t, dir, env, "slurm", "render", "p.hcl")
	if err != nil || !strings.Contains(render, "#SBATCH --gres=gpu:1") || !strings.Contains(render, "#SBATCH --partition=gpu") {
		t.Fatalf("render: %v\n%s", err, render)
	}
	out, err := runIn(t, dir, env, "run", "p.hcl")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "out/gpu.txt"))
	if !strings.Contains(string(got), "CUDA_VISIBLE_DEVICES=0") && !strings.Contains(string(got), "CUDA_VISIBLE_DEVICES=1") {
		t.Errorf("the job did not see a GPU assignment: %q", got)
	}
}

// nodeName returns the name of the cluster's node.
func nodeName(t *testing.T) string {
	out, err := exec.Command("sinfo", "--noheader", "--format=%n").Output()
	if err != nil {
		t.Skip("sinfo failed")
	}
	return strings.Fields(string(out))[0]
}

// TestSlurmTimeLimit runs a job past its time limit. Slurm's smallest limit is one minute and it
// checks limits about every 30 s, so this takes up to 100 s: it runs when PCAMFLOW_SLURM_SLOW=1
// (make test sets it).
func TestSlurmTimeLimit(t *testing.T) {
	needSlurm(t)
	if os.Getenv("PCAMFLOW_SLURM_SLOW") == "" {
		t.Skip("set PCAMFLOW_SLURM_SLOW=1 to run the time-limit test (about 100 s)")
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.hcl"), `
command "too_slow" {
  run = ["sh", "-c", "echo started; sleep 300"]
  resources {
    executor = "slurm"
    time     = "1"
  }
}
`)
	env, _ := slurmEnv(t, dir)
	out, err := runIn(t, dir, env, "run", "p.hcl")
	if err == nil {
		t.Fatalf("a job over its time limit must fail the run:\n%s", out)
	}
	if !strings.Contains(out, "(time limit): state TIMEOUT") {
		t.Errorf("the failure is not classified as a time limit:\n%s", out)
	}
}

// TestSlurmCtrlC interrupts an attached run: the jobs it submitted are cancelled and it says so.
func TestSlurmCtrlC(t *testing.T) {
	needSlurm(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.hcl"), `
command "long" {
  run = ["sh", "-c", "sleep 120"]
  resources {
    executor = "slurm"
  }
}
`)
	env, _ := slurmEnv(t, dir)
	cmd, out := startIn(t, dir, env, "run", "p.hcl")
	waitOutput(t, out, "-> RUNNING", 30*time.Second)
	_ = cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if err == nil || !strings.Contains(out.String(), "cancelled job(s)") {
		t.Fatalf("Ctrl-C must cancel the submitted job and say so: %v\n%s", err, out.String())
	}
	q, _ := exec.Command("squeue", "--noheader", "--name=pcamflow:command.long", "--states=PENDING,RUNNING").Output()
	if strings.TrimSpace(string(q)) != "" {
		t.Errorf("the job still runs after Ctrl-C: %s", q)
	}
}

// TestSlurmDetachedFailureReconciled detaches a run whose job fails and a downstream job that
// therefore never runs: status reports the failure with its error, and the run ends failed.
func TestSlurmDetachedFailureReconciled(t *testing.T) {
	needSlurm(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.hcl"), `
command "bad" {
  run     = ["sh", "-c", "echo broken on purpose; exit 3"]
  outputs = ["out/bad.txt"]
  resources {
    executor = "slurm"
  }
}

command "after" {
  run    = ["cat", command.bad.outputs[0]]
  inputs = command.bad.outputs
  resources {
    executor = "slurm"
  }
}
`)
	env, _ := slurmEnv(t, dir)
	out, err := runIn(t, dir, env, "run", "--detach", "p.hcl")
	if err != nil || !strings.Contains(out, "2 job(s) submitted") {
		t.Fatalf("detach: %v\n%s", err, out)
	}
	deadline := time.Now().Add(60 * time.Second)
	var st string
	for {
		st, _ = runIn(t, dir, env, "status")
		if strings.Contains(st, " failed ") && !strings.Contains(st, "running") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the detached run did not settle:\n%s", st)
		}
		time.Sleep(time.Second)
	}
	for _, want := range []string{"command.bad", "exit status 3", "command.after", "skipped", "an upstream job failed"} {
		if !strings.Contains(st, want) {
			t.Errorf("status lacks %q:\n%s", want, st)
		}
	}
}
