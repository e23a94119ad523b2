package slurm

import (
	"fmt"
	"strings"
)

// Failure is the class of a job's failure.
type Failure string

// Failure classes. FailureNone means the task completed with exit code 0.
const (
	FailureNone        Failure = ""
	FailureExit        Failure = "non-zero exit"
	FailureTimeout     Failure = "time limit"
	FailureOutOfMemory Failure = "out of memory"
	FailureNodeFail    Failure = "node failure"
	FailurePreempted   Failure = "preempted"
	FailureCancelled   Failure = "cancelled"
	FailureLost        Failure = "lost"
)

// Retryable reports whether the failure is one a scheduler-level retry may cure without changing
// anything (node failure, preemption) as opposed to ones that need more resources (time limit,
// out of memory) or none at all (cancelled by a person, a command that exits non-zero).
func (f Failure) Retryable() bool { return f == FailureNodeFail || f == FailurePreempted }

// oomMarkers are log lines Slurm writes when it kills a job for exceeding memory; they identify
// OOM kills when the state itself does not (for example FAILED with exit 137 on old plugins).
var oomMarkers = []string{"oom-kill event", "Exceeded job memory limit", "oom_kill", "Out Of Memory"}

// Classify maps a finished task's Slurm state, exit code and log tail to a Failure:
//
//	TIMEOUT, DEADLINE              -> FailureTimeout
//	OUT_OF_MEMORY, or any failed state whose log tail carries Slurm's OOM message -> FailureOutOfMemory
//	NODE_FAIL, BOOT_FAIL           -> FailureNodeFail
//	PREEMPTED                      -> FailurePreempted
//	CANCELLED                      -> FailureCancelled
//	FAILED, or COMPLETED with a known non-zero exit code or signal -> FailureExit
//	LOST                           -> FailureLost
//	COMPLETED with exit 0 or none known -> FailureNone
//
// It must only be called for terminal states (State.IsTerminal); others yield FailureNone.
func Classify(t TaskStatus, logTail string) Failure {
	if t.State != StateCompleted && t.State.IsTerminal() && hasOOMMarker(logTail) {
		return FailureOutOfMemory
	}
	switch t.State {
	case StateTimeout, StateDeadline:
		return FailureTimeout
	case StateOutOfMemory:
		return FailureOutOfMemory
	case StateNodeFail, StateBootFail:
		return FailureNodeFail
	case StatePreempted:
		return FailurePreempted
	case StateCancelled:
		return FailureCancelled
	case StateFailed:
		return FailureExit
	case StateLost:
		return FailureLost
	case StateCompleted:
		if t.ExitKnown && (t.ExitCode != 0 || t.Signal != 0) {
			return FailureExit
		}
	}
	return FailureNone
}

func hasOOMMarker(tail string) bool {
	for _, m := range oomMarkers {
		if strings.Contains(tail, m) {
			return true
		}
	}
	return false
}

// Outcome is the final result of one task (one job, or one array task).
type Outcome struct {
	TaskStatus
	// Failure is the classification; FailureNone for success.
	Failure Failure
	// ExitSource tells where the exit code came from: "result file", "sacct", "scontrol", or ""
	// when it is unknown.
	ExitSource string
	// LogPath is the task's stdout log file and LogTail its last lines (empty if unreadable).
	LogPath, LogTail string
}

// Failed reports whether the task did not complete successfully.
func (o Outcome) Failed() bool { return o.Failure != FailureNone }

// Err returns nil for a successful task and a *JobError describing the failure otherwise.
func (o Outcome) Err() error {
	if !o.Failed() {
		return nil
	}
	return &JobError{Outcome: o}
}

// JobError describes a failed Slurm task: job id, Slurm state, failure class, exit code and the
// tail of its log.
type JobError struct {
	Outcome Outcome
}

// Error renders e.g. `slurm job 12_3 failed (non-zero exit): state FAILED, exit code 1; log
// /w/logs/12_3.out, last lines:` followed by the indented tail.
func (e *JobError) Error() string {
	o := e.Outcome
	var b strings.Builder
	fmt.Fprintf(&b, "slurm job %s failed (%s): state %s", o.Key, o.Failure, o.State)
	if o.Reason != "" && o.Reason != "None" {
		fmt.Fprintf(&b, ", reason %s", o.Reason)
	}
	if o.ExitKnown {
		fmt.Fprintf(&b, ", exit code %d", o.ExitCode)
		if o.Signal != 0 {
			fmt.Fprintf(&b, ", signal %d", o.Signal)
		}
	}
	switch {
	case o.LogPath == "":
		b.WriteString("; no log file known")
	case o.LogTail == "":
		fmt.Fprintf(&b, "; log %s is empty or unreadable", o.LogPath)
	default:
		fmt.Fprintf(&b, "; log %s, last lines:\n", o.LogPath)
		for _, l := range strings.Split(strings.TrimRight(o.LogTail, "\n"), "\n") {
			b.WriteString("    " + l + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
