package slurm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClassifyTable(t *testing.T) {
	tests := []struct {
		name string
		t    TaskStatus
		tail string
		want Failure
	}{
		{"completed", TaskStatus{State: StateCompleted}, "", FailureNone},
		{"completed exit 0 known", TaskStatus{State: StateCompleted, ExitKnown: true}, "", FailureNone},
		{"completed but non-zero result", TaskStatus{State: StateCompleted, ExitKnown: true, ExitCode: 2}, "", FailureExit},
		{"failed", TaskStatus{State: StateFailed, ExitKnown: true, ExitCode: 1}, "", FailureExit},
		{"timeout", TaskStatus{State: StateTimeout}, "", FailureTimeout},
		{"deadline", TaskStatus{State: StateDeadline}, "", FailureTimeout},
		{"oom state", TaskStatus{State: StateOutOfMemory}, "", FailureOutOfMemory},
		{"oom from log", TaskStatus{State: StateFailed, ExitKnown: true, ExitCode: 137},
			"slurmstepd: error: Detected 1 oom-kill event(s) in StepId=5.batch.", FailureOutOfMemory},
		{"node fail", TaskStatus{State: StateNodeFail}, "", FailureNodeFail},
		{"boot fail", TaskStatus{State: StateBootFail}, "", FailureNodeFail},
		{"preempted", TaskStatus{State: StatePreempted}, "", FailurePreempted},
		{"cancelled", TaskStatus{State: StateCancelled}, "", FailureCancelled},
		{"lost", TaskStatus{State: StateLost}, "", FailureLost},
		{"running is not a failure", TaskStatus{State: StateRunning}, "", FailureNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.t, tc.tail); got != tc.want {
				t.Errorf("Classify = %q, want %q", got, tc.want)
			}
		})
	}
	if !FailurePreempted.Retryable() || !FailureNodeFail.Retryable() || FailureExit.Retryable() || FailureTimeout.Retryable() {
		t.Error("Retryable is wrong")
	}
}

// TestClassifyRecordedAndSyntheticFixtures classifies scontrol records recorded from the local
// cluster (see testdata/README.md), with the job's log tail where Slurm puts the evidence there: an
// OverMemoryKill job ends FAILED, and only its log says it exceeded its memory. The one synthetic
// record is the OUT_OF_MEMORY state that cgroup enforcement (not available here) produces.
func TestClassifyRecordedAndSyntheticFixtures(t *testing.T) {
	for _, tc := range []struct {
		file, log string
		want      Failure
	}{
		{"scontrol_failed.txt", "", FailureExit},
		{"scontrol_timeout.txt", "", FailureTimeout},
		{"scontrol_cancelled.txt", "", FailureCancelled},
		{"scontrol_oom.txt", "oom.log", FailureOutOfMemory},
		{"scontrol_node_fail.txt", "", FailureNodeFail},
		{"scontrol_preempted.txt", "", FailurePreempted},
		{"scontrol_synthetic_oom.txt", "", FailureOutOfMemory},
	} {
		tasks, err := parseScontrol(fixture(t, tc.file))
		if err != nil || len(tasks) != 1 {
			t.Fatalf("%s: %v, %d tasks", tc.file, err, len(tasks))
		}
		tail := ""
		if tc.log != "" {
			tail = fixture(t, tc.log)
		}
		if got := Classify(tasks[0], tail); got != tc.want {
			t.Errorf("%s: Classify = %q, want %q", tc.file, got, tc.want)
		}
	}
	// Without its log an OverMemoryKill job looks like any job killed by a signal.
	tasks, _ := parseScontrol(fixture(t, "scontrol_oom.txt"))
	if got := Classify(tasks[0], ""); got != FailureExit {
		t.Errorf("the OOM record without its log: Classify = %q, want %q", got, FailureExit)
	}
}

func TestJobErrorNamesEverything(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "12_3.out")
	var lines []string
	for i := range 30 {
		lines = append(lines, "line "+string(rune('A'+i%26)))
	}
	lines[29] = "Traceback: boom"
	if err := os.WriteFile(log, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tail, err := TailFile(log, TailLines)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Split(tail, "\n")); n != TailLines {
		t.Fatalf("tail has %d lines, want %d", n, TailLines)
	}
	o := Outcome{TaskStatus: TaskStatus{Key: "12_3", State: StateFailed, Reason: "NonZeroExitCode", ExitCode: 1, ExitKnown: true},
		Failure: FailureExit, LogPath: log, LogTail: tail}
	msg := o.Err().Error()
	for _, want := range []string{"12_3", "non-zero exit", "FAILED", "exit code 1", log, "Traceback: boom"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if (Outcome{TaskStatus: TaskStatus{State: StateCompleted}}).Err() != nil {
		t.Error("a successful outcome has an error")
	}
	if _, err := TailFile(filepath.Join(dir, "missing"), 5); err == nil {
		t.Error("TailFile of a missing file succeeded")
	}
}

func TestLogPathExpandsPatterns(t *testing.T) {
	task := TaskStatus{JobID: "40", TaskID: 2, RawID: "43", NodeList: "node[1-2]"}
	tests := []struct {
		spec JobSpec
		want string
	}{
		{JobSpec{Name: "n", Output: "/l/%A_%a-%j-%x-%N-%%.out"}, "/l/40_2-43-n-node-%.out"},
		{JobSpec{WorkDir: "/w"}, "/w/slurm-40_2.out"},
		{JobSpec{WorkDir: "/w", Output: "logs/%A.%a"}, "/w/logs/40.2"},
	}
	for _, tc := range tests {
		if got := LogPath(tc.spec, task); got != tc.want {
			t.Errorf("LogPath(%+v) = %q, want %q", tc.spec, got, tc.want)
		}
	}
	plain := TaskStatus{JobID: "7", RawID: "7", TaskID: -1}
	if got := LogPath(JobSpec{}, plain); got != "slurm-7.out" {
		t.Errorf("default plain log path = %q", got)
	}
}

func TestReadResultRejectsGarbage(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "5.exit"), []byte("nope\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadResult(dir, "5"); err == nil || !strings.Contains(err.Error(), "5.exit") {
		t.Errorf("ReadResult of garbage = %v, want an error naming the file", err)
	}
	if _, ok, err := ReadResult(dir, "6"); ok || err != nil {
		t.Errorf("ReadResult of a missing file = %v, %v; want not ok, nil", ok, err)
	}
}
