package slurm

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// State is a Slurm job state as squeue, scontrol and sacct print it (upper case, e.g. "RUNNING").
type State string

// Job states this package interprets. Any other state Slurm reports is kept verbatim and treated
// as not finished unless it is listed in IsTerminal.
const (
	StatePending     State = "PENDING"
	StateRunning     State = "RUNNING"
	StateCompleting  State = "COMPLETING"
	StateConfiguring State = "CONFIGURING"
	StateSuspended   State = "SUSPENDED"
	StateRequeued    State = "REQUEUED"
	StateCompleted   State = "COMPLETED"
	StateFailed      State = "FAILED"
	StateTimeout     State = "TIMEOUT"
	StateCancelled   State = "CANCELLED"
	StateOutOfMemory State = "OUT_OF_MEMORY"
	StateNodeFail    State = "NODE_FAIL"
	StatePreempted   State = "PREEMPTED"
	StateBootFail    State = "BOOT_FAIL"
	StateDeadline    State = "DEADLINE"
	// StateLost is not a Slurm state: the task disappeared from Slurm's memory before this package
	// saw how it ended, and no result file told it either.
	StateLost State = "LOST"
	// StateUnknown is the state of a task that has not been seen in any poll yet.
	StateUnknown State = "UNKNOWN"
)

// IsTerminal reports whether the state means the job will not run again by itself. PREEMPTED and
// NODE_FAIL are terminal as reported; if the job was submitted with Requeue, Slurm moves it back
// to PENDING (through REQUEUED), and the next poll reports that.
func (s State) IsTerminal() bool {
	switch s {
	case StateCompleted, StateFailed, StateTimeout, StateCancelled, StateOutOfMemory,
		StateNodeFail, StatePreempted, StateBootFail, StateDeadline, StateLost:
		return true
	}
	return false
}

// normalizeState turns "CANCELLED by 0" or "CANCELLED+" into "CANCELLED".
func normalizeState(s string) State {
	s = strings.TrimSpace(s)
	if k := strings.IndexAny(s, " +"); k >= 0 {
		s = s[:k]
	}
	return State(strings.ToUpper(s))
}

// TaskStatus is what Slurm reports about one job, or one task of a job array.
type TaskStatus struct {
	// Key identifies the task the way squeue's %i does: "1234" for a plain job, "1234_7" for
	// task 7 of array job 1234.
	Key string
	// JobID is the submitted job id (the array job id for array tasks).
	JobID string
	// TaskID is the array task index, or -1 for a plain job.
	TaskID int
	// RawID is the task's own job id (for array tasks Slurm assigns one per task once it starts).
	RawID string
	// State is the Slurm state.
	State State
	// Reason is Slurm's reason for the state, e.g. "Resources" or "ReqNodeNotAvail, ..." while
	// pending, "NonZeroExitCode" or "TimeLimit" once finished.
	Reason string
	// Elapsed is the run time so far, or the total once finished.
	Elapsed time.Duration
	// NodeList names the node(s) the task runs or ran on.
	NodeList string
	// ExitCode and Signal are meaningful only when ExitKnown is true.
	ExitCode, Signal int
	// ExitKnown tells whether ExitCode/Signal were reported (squeue does not report them).
	ExitKnown bool
	// StdOut is the log path as Slurm expanded it, when the source reports it (scontrol does).
	StdOut string
	// Source names the command the status came from: "squeue", "scontrol" or "sacct".
	Source string
}

// taskKey builds the squeue-style key of a task.
func taskKey(jobID string, taskID int) string {
	if taskID < 0 {
		return jobID
	}
	return jobID + "_" + strconv.Itoa(taskID)
}

// parseExitCode parses Slurm's "code:signal" exit code.
func parseExitCode(s string) (code, sig int, err error) {
	c, g, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return 0, 0, fmt.Errorf("exit code %q is not code:signal", s)
	}
	if code, err = strconv.Atoi(c); err != nil {
		return 0, 0, fmt.Errorf("exit code %q: %w", s, err)
	}
	if sig, err = strconv.Atoi(g); err != nil {
		return 0, 0, fmt.Errorf("exit signal %q: %w", s, err)
	}
	return code, sig, nil
}

// parseElapsed parses Slurm durations: "M:SS", "H:MM:SS", "D-HH:MM:SS" (squeue %M, scontrol
// RunTime, sacct Elapsed). Unparseable input yields 0.
func parseElapsed(s string) time.Duration {
	s = strings.TrimSpace(s)
	var days int
	if d, rest, ok := strings.Cut(s, "-"); ok {
		n, err := strconv.Atoi(d)
		if err != nil {
			return 0
		}
		days, s = n, rest
	}
	parts := strings.Split(s, ":")
	total := 0
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return 0
		}
		total = total*60 + n
	}
	if len(parts) == 2 && days > 0 { // "D-HH:MM" has no seconds
		total *= 60
	}
	return time.Duration(days)*24*time.Hour + time.Duration(total)*time.Second
}
