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

// TestClassifyRecordedAndSyntheticFixtures classifies scontrol records: failed, timeout and
// cancelled were recorded from the real cluster; OOM, node failure and preemption are synthetic
// because the local cluster cannot produce them (see testdata/README.md).
func TestClassifyRecordedAndSyntheticFixtures(t *testing.T) {
	for file, want := range map[string]Failure{
		"scontrol_failed.txt":              FailureExit,
		"scontrol_timeout.txt":             FailureTimeout,
		"scontrol_cancelled.txt":           FailureCancelled,
		"scontrol_synthetic_oom.txt":       FailureOutOfMemory,
		"scontrol_synthetic_node_fail.txt": FailureNodeFail,
		"scontrol_synthetic_preempted.txt": FailurePreempted,
	} {
		tasks, err := parseScontrol(fixture(t, file))
		if err != nil || len(tasks) != 1 {
			t.Fatalf("%s: %v, %d tasks", file, err, len(tasks))
		}
		if got := Classify(tasks[0], ""); got != want {
			t.Errorf("%s: Classify = %q, want %q", file, got, want)
		}
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
