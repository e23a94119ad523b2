package slurm

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// MissingPolls is how many consecutive polls a task may be absent from Slurm's answers before the
// Tracker stops waiting for it and resolves it from its result file or reports it LOST.
const MissingPolls = 3

// Event reports a change of one task: a new state, a new pending reason, or its final Outcome.
type Event struct {
	// Key, JobID and TaskID identify the task as in TaskStatus.
	Key, JobID string
	TaskID     int
	// From and To are the previous and new state (From is StateUnknown on first sight).
	From, To State
	// Reason is Slurm's reason for the new state, e.g. why the task is pending.
	Reason string
	// Outcome is set exactly once per task, on the event that finishes it.
	Outcome *Outcome
	// Requeued is set when Slurm put the task back into the queue to run it again: it was
	// preempted or its node failed (jobs submitted with Requeue), or it was requeued by hand. Seen
	// as PREEMPTED or NODE_FAIL, or as a RUNNING task that is PENDING again (the states between
	// last less than a poll interval).
	Requeued bool
}

// String renders the event for logs, e.g. "12_3 PENDING -> RUNNING",
// "12 PENDING (Nodes required for job are DOWN, DRAINED ...)" or
// "12 RUNNING -> PENDING (BeginTime): requeued by Slurm, it will run again".
func (e Event) String() string {
	s := e.Key + " "
	if e.From != e.To {
		s += string(e.From) + " -> "
	}
	s += string(e.To)
	if e.Reason != "" && e.Reason != "None" {
		s += " (" + e.Reason + ")"
	}
	if e.Requeued {
		s += ": requeued by Slurm, it will run again"
	}
	return s
}

// requeuedTransition reports whether a task going from one state to another was put back into the
// queue by Slurm: only a requeue takes a task that started back to PENDING.
// (A task seen PREEMPTED or NODE_FAIL first was reported as requeued on that event already.)
func requeuedTransition(from, to State) bool {
	if to != StatePending && to != StateRequeued {
		return false
	}
	switch from {
	case StateRunning, StateCompleting, StateConfiguring, StateSuspended:
		return true
	}
	return false
}

// Stats counts the Slurm commands the Tracker caused.
type Stats struct {
	// Polls is the number of Poll calls that queried Slurm.
	Polls int
	// Commands is the total number of Slurm commands run by those polls.
	Commands int64
	// MaxCommandsPerPoll is the largest number of commands a single poll ran (1 squeue, plus at
	// most 1 detail command when a finished task's exit code or a vanished task is unknown).
	MaxCommandsPerPoll int64
}

// Tracker watches many submitted jobs and array tasks with a constant number of Slurm commands
// per poll. It is not safe for concurrent use; call Add and Poll from one goroutine.
type Tracker struct {
	client Client
	jobs   map[string]*trackedJob
	order  []string
	stats  Stats
}

type trackedJob struct {
	id    string
	spec  JobSpec
	keys  []string // expected task keys in index order
	tasks map[string]*trackedTask
}

type trackedTask struct {
	status  TaskStatus
	missing int
	done    bool
	source  string
	outcome Outcome
}

// NewTracker returns a Tracker that queries Slurm through client.
func NewTracker(client Client) *Tracker {
	return &Tracker{client: client, jobs: map[string]*trackedJob{}}
}

// Add starts watching the job with the given id, submitted from spec (the spec supplies the array
// indices, the log path pattern and the result directory). Adding an id that is still being
// watched is an error; adding an id whose tasks have all finished watches it afresh (after
// Requeue, which keeps the job id), discarding its previous outcomes.
func (t *Tracker) Add(jobID string, spec JobSpec) error {
	if !jobIDRegexp.MatchString(jobID) {
		return fmt.Errorf("track job: %q is not a Slurm job id", jobID)
	}
	if old, dup := t.jobs[jobID]; dup {
		if slices.Contains(t.activeJobs(), jobID) {
			return fmt.Errorf("track job %s: already tracked and not finished", jobID)
		}
		t.order = slices.DeleteFunc(t.order, func(id string) bool { return id == old.id })
	}
	j := &trackedJob{id: jobID, spec: spec, tasks: map[string]*trackedTask{}}
	indices := []int{-1}
	if spec.Array != nil {
		indices = slices.Clone(spec.Array.Indices)
		slices.Sort(indices)
		indices = slices.Compact(indices)
	}
	for _, i := range indices {
		k := taskKey(jobID, i)
		j.keys = append(j.keys, k)
		j.tasks[k] = &trackedTask{status: TaskStatus{Key: k, JobID: jobID, RawID: jobID, TaskID: i, State: StateUnknown}}
	}
	t.jobs[jobID] = j
	t.order = append(t.order, jobID)
	return nil
}

// Done reports whether every task of every tracked job has an Outcome.
func (t *Tracker) Done() bool { return len(t.activeJobs()) == 0 }

// Stats returns the command counts so far.
func (t *Tracker) Stats() Stats { return t.stats }

// Tasks returns the current status of every tracked task, in the order the jobs were added and
// by task index within a job (for a live table of jobs).
func (t *Tracker) Tasks() []TaskStatus {
	var out []TaskStatus
	for _, id := range t.order {
		j := t.jobs[id]
		for _, k := range j.keys {
			out = append(out, j.tasks[k].status)
		}
	}
	return out
}

// Outcomes returns the outcomes of the finished tasks of job jobID, by task index.
func (t *Tracker) Outcomes(jobID string) []Outcome {
	j := t.jobs[jobID]
	if j == nil {
		return nil
	}
	var out []Outcome
	for _, k := range j.keys {
		if task := j.tasks[k]; task.done {
			out = append(out, task.outcome)
		}
	}
	return out
}

// MaxPollErrors is how many consecutive failed polls Wait tolerates (slurmctld may be briefly
// unresponsive) before it gives up and returns the last error.
const MaxPollErrors = 5

// Wait polls every interval until all tracked tasks have finished, calling onEvent (if non-nil)
// for each event. It returns nil when all tasks finished (whether they succeeded or not: see
// Outcomes), ctx's error if ctx ends first, or the last poll error after MaxPollErrors
// consecutive failed polls.
func (t *Tracker) Wait(ctx context.Context, interval time.Duration, onEvent func(Event)) error {
	failures := 0
	for {
		events, err := t.Poll(ctx)
		if err != nil {
			if failures++; failures >= MaxPollErrors || ctx.Err() != nil {
				return err
			}
		} else {
			failures = 0
		}
		if onEvent != nil {
			for _, e := range events {
				onEvent(e)
			}
		}
		if t.Done() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

func (t *Tracker) activeJobs() []string {
	var ids []string
	for _, id := range t.order {
		j := t.jobs[id]
		for _, k := range j.keys {
			if !j.tasks[k].done {
				ids = append(ids, id)
				break
			}
		}
	}
	return ids
}
