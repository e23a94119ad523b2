package slurm

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pcamflow/pcamflow/slurm/slurmtest"
)

// The tests in this file produce real faults on the local test cluster (scripts/slurm-local.sh
// configures memory enforcement, preemption and a short SlurmdTimeout for them) and check that the
// Tracker classifies each. They skip on any other cluster.

// faultWait submits specs, watches them with one tracker until all are final, calling onEvent for
// every event, and returns the tracker and the job ids in order.
func faultWait(t *testing.T, timeout time.Duration, onEvent func(Event), specs ...JobSpec) (*Tracker, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c := newCLI(t)
	tr := NewTracker(c)
	var ids []string
	for _, spec := range specs {
		id, err := c.Submit(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Cancel(context.Background(), []string{id}) })
		if err := tr.Add(id, spec); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := tr.Wait(ctx, pollInterval, onEvent); err != nil {
		t.Fatalf("waiting for jobs %v: %v (tasks %+v)", ids, err, tr.Tasks())
	}
	return tr, ids
}

// recordEnv names a folder where the fault tests write what they observed, as the fixtures in
// testdata were recorded: PCAMFLOW_SLURM_RECORD=$PWD/slurm/testdata go test -run 'Cluster.*IsClassified' ./slurm/
const recordEnv = "PCAMFLOW_SLURM_RECORD"

// recordJob logs scontrol's record of a job and, with PCAMFLOW_SLURM_RECORD set, writes it to
// scontrol_NAME.txt there, and the job's log tail (if any) to NAME.log.
func recordJob(t *testing.T, id, name, logTail string) {
	out, _ := exec.Command("scontrol", "-o", "show", "job", id).CombinedOutput()
	t.Logf("scontrol -o show job %s:\n%s", id, out)
	dir := os.Getenv(recordEnv)
	if dir == "" {
		return
	}
	if err := os.WriteFile(filepath.Join(dir, "scontrol_"+name+".txt"), out, 0o644); err != nil {
		t.Error(err)
	}
	if logTail != "" {
		if err := os.WriteFile(filepath.Join(dir, name+".log"), []byte(logTail), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// secondRun is a job command that runs for two minutes the first time and succeeds at once when
// Slurm runs it again after a requeue.
func secondRun(marker string) []string {
	return []string{"sh", "-c", `if [ -e "$1" ]; then echo "second run"; exit 0; fi; touch "$1"; echo "first run"; sleep 120`, "sh", marker}
}

// TestClusterOutOfMemoryIsClassified runs a job that touches 256 MiB with --mem=64M: slurmstepd's
// memory sampling (JobAcctGatherParams=OverMemoryKill, every second) kills it. Without cgroups Slurm
// 22.05 ends such a job FAILED (reason JobLaunchFailure, signal 9), not OUT_OF_MEMORY; the log's
// "Exceeded job memory limit" is what identifies it.
func TestClusterOutOfMemoryIsClassified(t *testing.T) {
	slurmtest.RequireFaultCluster(t)
	t.Parallel()
	dir := t.TempDir()
	spec := JobSpec{Name: "pcamflow-test-oom", Mem: "64M", WorkDir: dir, Output: filepath.Join(dir, "%j.out"),
		Command: []string{testBinary(t)}, Env: map[string]string{eatMemEnv: "256"}, ResultDir: filepath.Join(dir, "results")}
	tr, ids := faultWait(t, 90*time.Second, nil, spec)
	o := only(t, tr, ids[0])
	recordJob(t, ids[0], "oom", o.LogTail)
	if o.Failure != FailureOutOfMemory {
		t.Fatalf("outcome = %+v, want out of memory; log tail:\n%s", o, o.LogTail)
	}
	if o.State != StateFailed && o.State != StateOutOfMemory {
		t.Errorf("state %s, want FAILED (memory sampling) or OUT_OF_MEMORY (cgroup)", o.State)
	}
	msg := o.Err().Error()
	for _, want := range []string{ids[0], "(out of memory)", "Exceeded job memory limit"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
}

// faultPair is two jobs that run side by side when a fault strikes: one submitted --no-requeue,
// for which the fault is final, and a requeueable one whose second run succeeds.
type faultPair struct {
	dir             string
	final, requeued JobSpec
	running         map[string]bool
	requeues        []Event
	strike          sync.Once
}

func newFaultPair(t *testing.T, c *slurmtest.Cluster, name, partition string) *faultPair {
	if c.CPUs < 2 {
		t.Skipf("node %s has %d CPU; the test runs two jobs side by side", c.Node, c.CPUs)
	}
	dir := t.TempDir()
	spec := func(suffix string, requeue bool, cmd []string) JobSpec {
		return JobSpec{Name: "pcamflow-test-" + name + suffix, Partition: partition, Requeue: requeue, WorkDir: dir,
			Output: filepath.Join(dir, "%j.out"), Command: cmd, ResultDir: filepath.Join(dir, "results")}
	}
	return &faultPair{dir: dir, running: map[string]bool{},
		final:    spec("", false, []string{"sh", "-c", "echo started; sleep 300"}),
		requeued: spec("-requeue", true, secondRun(filepath.Join(dir, "ran")))}
}

// watch returns an event handler that calls strike once with both job ids as soon as both run,
// notes requeue events, and passes every event to more (if not nil).
func (p *faultPair) watch(strike func(jobs []string), more func(Event)) func(Event) {
	return func(e Event) {
		if e.To == StateRunning {
			p.running[e.JobID] = true
		}
		if len(p.running) == 2 {
			p.strike.Do(func() {
				var jobs []string
				for id := range p.running {
					jobs = append(jobs, id)
				}
				p.waitFirstRun()
				strike(jobs)
			})
		}
		if e.Requeued {
			p.requeues = append(p.requeues, e)
		}
		if more != nil {
			more(e)
		}
	}
}

// waitFirstRun waits (up to 30 s) until the requeueable job's script has written its marker.
// squeue says RUNNING before the batch script has started, and a job struck in between would take
// its second run for its first (and sleep again).
func (p *faultPair) waitFirstRun() {
	marker := filepath.Join(p.dir, "ran")
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(marker); err == nil {
			return
		}
	}
}

// checkRequeued checks that the requeueable job was requeued once, ran again and completed.
func (p *faultPair) checkRequeued(t *testing.T, tr *Tracker, id string) {
	t.Helper()
	r := only(t, tr, id)
	if r.Failed() || r.State != StateCompleted {
		t.Fatalf("the requeued job: outcome %+v, err %v", r, r.Err())
	}
	if len(p.requeues) != 1 || p.requeues[0].JobID != id {
		t.Errorf("requeue events %v, want one for job %s", p.requeues, id)
	}
	if n := slurmtest.Restarts(id); n != 1 {
		t.Errorf("Slurm restarted job %s %d times, want 1", id, n)
	}
	if log, _ := os.ReadFile(filepath.Join(p.dir, id+".out")); !strings.Contains(string(log), "second run") {
		t.Errorf("the requeued job's log %q lacks its second run", log)
	}
}

// TestClusterPreemptionIsClassified runs two jobs in the preemptible partition and then one that
// needs the whole node in the high-priority partition: the --no-requeue job ends PREEMPTED and is
// classified so; the requeueable one goes back to the queue, the tracker keeps watching it, and its
// second run completes.
func TestClusterPreemptionIsClassified(t *testing.T) {
	c := slurmtest.RequireFaultCluster(t)
	p := newFaultPair(t, c, "preempted", slurmtest.PreemptPartition)
	start := time.Now()
	onEvent := p.watch(func([]string) { c.Preempt(t, 2*time.Second) }, nil)
	tr, ids := faultWait(t, 120*time.Second, onEvent, p.final, p.requeued)
	t.Logf("preemption and requeue took %s", time.Since(start).Round(time.Second))
	o := only(t, tr, ids[0])
	recordJob(t, ids[0], "preempted", "")
	if o.Failure != FailurePreempted || o.State != StatePreempted {
		t.Fatalf("the --no-requeue job: outcome %+v, want PREEMPTED", o)
	}
	if !o.Failure.Retryable() || !strings.Contains(o.LogTail, "DUE TO PREEMPTION") {
		t.Errorf("preempted outcome: retryable %v, log tail %q", o.Failure.Retryable(), o.LogTail)
	}
	p.checkRequeued(t, tr, ids[1])
}

// TestClusterNodeFailureIsClassified kills the node (slurmd and the jobs' processes, SIGKILL) under
// two running jobs. After SlurmdTimeout slurmctld sets the node DOWN: the --no-requeue job ends
// NODE_FAIL and is classified so; the node is brought back, and the requeueable job runs again and
// completes while the tracker keeps watching it.
func TestClusterNodeFailureIsClassified(t *testing.T) {
	c := slurmtest.RequireFaultCluster(t)
	c.NeedRoot(t)
	p := newFaultPair(t, c, "nodefail", "")
	var killed time.Time
	var restore sync.Once
	onEvent := p.watch(func(jobs []string) {
		c.KillNode(t, jobs...)
		killed = time.Now()
	}, func(e Event) {
		if e.Outcome != nil && e.Outcome.Failure == FailureNodeFail {
			restore.Do(func() {
				t.Logf("node failure detected %s after the kill", time.Since(killed).Round(time.Second))
				c.RestoreNode(t)
			})
		}
	})
	start := time.Now()
	tr, ids := faultWait(t, 150*time.Second, onEvent, p.final, p.requeued)
	t.Logf("node failure, restore and requeue took %s", time.Since(start).Round(time.Second))
	o := only(t, tr, ids[0])
	recordJob(t, ids[0], "node_fail", "")
	if o.Failure != FailureNodeFail || o.State != StateNodeFail {
		t.Fatalf("the --no-requeue job: outcome %+v, want NODE_FAIL", o)
	}
	if msg := o.Err().Error(); !strings.Contains(msg, "(node failure): state NODE_FAIL") || !o.Failure.Retryable() {
		t.Errorf("node failure error: %s", msg)
	}
	p.checkRequeued(t, tr, ids[1])
}
