package cli_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pcamflow/pcamflow/model"
	"github.com/pcamflow/pcamflow/slurm/slurmtest"
)

// These tests interrupt a training node running on the real local cluster with real Slurm faults
// (preemption, node failure; see slurm/slurmtest and scripts/slurm-local.sh) and check that the
// job Slurm requeues resumes from the last epoch checkpoint and ends bit-identical to an
// uninterrupted run.

const faultEpochs = 6

// requeuePipeline is trainPipeline with one seed and the train stage on the preemptible partition.
var requeuePipeline = strings.Replace(trainPipeline, "  seeds      = [1, 2]\n", `
  resources {
    executor  = "slurm"
    partition = "`+slurmtest.PreemptPartition+`"
  }
`, 1)

var trainOutputs = []string{"checkpoint.ckpt", "best.ckpt", "history.json", "metrics.json"}

// TestSlurmTrainRequeueResumes trains on Slurm and interrupts the job after its second epoch, by
// preemption and by node failure. Slurm requeues the job; the run must finish by itself, say that
// the job was requeued, resume from the epoch of the checkpoint the interrupted job left, and
// produce the same bytes as an uninterrupted local run.
func TestSlurmTrainRequeueResumes(t *testing.T) {
	needSlurm(t)
	c := slurmtest.RequireFaultCluster(t)
	if !strings.Contains(requeuePipeline, "resources {") {
		t.Fatal("requeuePipeline did not get its resources block")
	}
	ref := t.TempDir()
	writeFile(t, filepath.Join(ref, "p.hcl"), requeuePipeline)
	epochs := "epochs=" + strconv.Itoa(faultEpochs)
	if out, err := pcamflow(t, ref, "run", "p.hcl", "-var", epochs, "--executor", "local").CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted local run: %v\n%s", err, out)
	}

	t.Run("preempted", func(t *testing.T) {
		requeueTest(t, ref, func(t *testing.T, dir, job string) {
			// Stop the training so that the preemption lands inside it however fast epochs are;
			// Slurm sends SIGCONT with its SIGTERM.
			for _, pid := range jobCommandProcesses(job) {
				_ = syscall.Kill(pid, syscall.SIGSTOP)
			}
			c.Preempt(t, 2*time.Second)
			waitRequeued(t, job, 60*time.Second)
		})
	})
	t.Run("node failure", func(t *testing.T) {
		c.NeedRoot(t)
		requeueTest(t, ref, func(t *testing.T, dir, job string) {
			c.KillNode(t, job)
			waitRequeued(t, job, 90*time.Second)
			c.RestoreNode(t)
		})
	})
}

// requeueTest runs the Slurm training in a fresh workspace, calls interrupt with the job id once
// the job's log shows epoch 2, and checks the resumed run against the reference workspace ref.
func requeueTest(t *testing.T, ref string, interrupt func(t *testing.T, dir, job string)) {
	start := time.Now()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.hcl"), requeuePipeline)
	env, _ := slurmEnv(t, dir)
	cmd, out := startIn(t, dir, env, "run", "p.hcl", "-var", "epochs="+strconv.Itoa(faultEpochs))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	finished := false
	t.Cleanup(func() {
		if !finished {
			_ = cmd.Process.Signal(os.Interrupt) // the run cancels its job
			<-done
		}
	})
	waitOutput(t, out, "train.mlp submitted as job ", 60*time.Second)
	job := regexp.MustCompile(`train\.mlp submitted as job (\d+)`).FindStringSubmatch(out.String())[1]
	waitLog(t, dir, fmt.Sprintf("epoch 2/%d:", faultEpochs), 60*time.Second)

	interrupt(t, dir, job)
	// The interrupted job is gone and the requeued one waits (BeginTime): the checkpoint it will
	// resume from is the last one written.
	resumeEpoch := checkpointEpoch(t, dir)
	if resumeEpoch < 1 || resumeEpoch >= faultEpochs {
		t.Fatalf("the interrupted job left a checkpoint of epoch %d, want one between 1 and %d", resumeEpoch, faultEpochs-1)
	}

	select {
	case err := <-done:
		finished = true
		if err != nil {
			t.Fatalf("the run failed after the requeue: %v\n%s", err, out.String())
		}
	case <-time.After(120 * time.Second):
		t.Fatalf("the run did not finish within 120 s of the interruption:\n%s", out.String())
	}
	t.Logf("interrupted at epoch %d, resumed, finished in %s; the run said:\n%s", resumeEpoch, time.Since(start).Round(time.Second), out.String())
	if !strings.Contains(out.String(), "requeued by Slurm, it will run again") {
		t.Errorf("the run does not say the job was requeued:\n%s", out.String())
	}
	if n := slurmtest.Restarts(job); n != 1 {
		t.Errorf("Slurm restarted job %s %d times, want 1", job, n)
	}
	log := readLogs(t, dir, "train.mlp")
	if want := fmt.Sprintf("resuming from epoch %d ", resumeEpoch); !strings.Contains(log, want) {
		t.Errorf("the requeued job's log lacks %q:\n%s", want, log)
	}
	for _, f := range trainOutputs {
		a, _ := os.ReadFile(filepath.Join(ref, ".pcamflow/out/train.mlp", f))
		b, _ := os.ReadFile(filepath.Join(dir, ".pcamflow/out/train.mlp", f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between the requeued Slurm run and the uninterrupted run (%d vs %d bytes)", f, len(b), len(a))
		}
	}
}

// waitLog waits until a train.mlp node log of the workspace contains s.
func waitLog(t *testing.T, dir, s string, timeout time.Duration) {
	t.Helper()
	waitUntil(t, timeout, func() bool { return strings.Contains(readLogs(t, dir, "train.mlp"), s) },
		func() string {
			return fmt.Sprintf("%q did not appear in the train.mlp log:\n%s", s, readLogs(t, dir, "train.mlp"))
		})
}

// waitRequeued waits until Slurm has put the job back into the queue (PENDING after running).
func waitRequeued(t *testing.T, job string, timeout time.Duration) {
	t.Helper()
	var state, reason string
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if state, reason = slurmtest.JobState(job); state == "PENDING" && slurmtest.Restarts(job) >= 1 {
			return
		}
	}
	t.Fatalf("job %s was not requeued within %s (state %q, reason %q)", job, timeout, state, reason)
}

// checkpointEpoch returns the epoch of the workspace's one resume checkpoint.
func checkpointEpoch(t *testing.T, dir string) int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, ".pcamflow/resume/*/last.ckpt"))
	if len(files) != 1 {
		t.Fatalf("want one resume checkpoint, found %v", files)
	}
	tr, err := model.LoadTrainerFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	return tr.Epoch()
}

// jobCommandProcesses lists the processes of a running job other than its slurmstepd.
func jobCommandProcesses(job string) []int {
	var pids []int
	for _, pid := range slurmtest.JobProcesses(job) {
		cmd, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if !bytes.HasPrefix(cmd, []byte("slurmstepd")) {
			pids = append(pids, pid)
		}
	}
	return pids
}
