package slurm

import (
	"context"
	"fmt"
	"slices"
)

// pollRound carries the work of one Poll between its phases.
type pollRound struct {
	finishing []*taskRef // tasks Slurm reports as terminal, not yet resolved
	missing   []*taskRef // tasks absent for MissingPolls polls
	events    []Event
}

type taskRef struct {
	job  *trackedJob
	task *trackedTask
	from State
}

// Poll queries Slurm once for all unfinished jobs (one squeue call), runs at most one detail
// command (sacct or scontrol) when a finished task's exit code or a vanished task's fate is not
// known from its result file, and returns the events since the previous poll: state changes,
// pending-reason changes, and final outcomes.
func (t *Tracker) Poll(ctx context.Context) ([]Event, error) {
	active := t.activeJobs()
	if len(active) == 0 {
		return nil, nil
	}
	before := t.client.Invocations()
	defer t.count(before)
	statuses, err := t.client.Poll(ctx, active)
	if err != nil {
		return nil, fmt.Errorf("track %d slurm jobs: %w", len(active), err)
	}
	byKey := make(map[string]TaskStatus, len(statuses))
	for _, s := range statuses {
		byKey[s.Key] = s
	}
	var r pollRound
	for _, id := range active {
		t.observeJob(t.jobs[id], byKey, &r)
	}
	if err := t.resolve(ctx, &r); err != nil {
		return r.events, err
	}
	return r.events, nil
}

func (t *Tracker) count(before int64) {
	n := t.client.Invocations() - before
	t.stats.Polls++
	t.stats.Commands += n
	t.stats.MaxCommandsPerPoll = max(t.stats.MaxCommandsPerPoll, n)
}

// observeJob applies this poll's squeue answer to the job's unfinished tasks.
func (t *Tracker) observeJob(j *trackedJob, byKey map[string]TaskStatus, r *pollRound) {
	for _, k := range j.keys {
		task := j.tasks[k]
		if task.done {
			continue
		}
		s, ok := byKey[k]
		if !ok {
			task.missing++
			if task.missing >= MissingPolls {
				r.missing = append(r.missing, &taskRef{job: j, task: task, from: task.status.State})
			}
			continue
		}
		task.missing = 0
		from, oldReason := task.status.State, task.status.Reason
		task.status = s
		requeue := t.willRequeue(j, s.State)
		if s.State.IsTerminal() && !requeue {
			r.finishing = append(r.finishing, &taskRef{job: j, task: task, from: from})
			continue
		}
		if from != s.State || oldReason != s.Reason {
			r.events = append(r.events, Event{Key: k, JobID: s.JobID, TaskID: s.TaskID, From: from, To: s.State, Reason: s.Reason,
				Requeued: (requeue && from != s.State) || requeuedTransition(from, s.State)})
		}
	}
}

// willRequeue reports whether Slurm puts the task back into the queue by itself: it does so after
// preemption or node failure for jobs submitted with --requeue.
func (t *Tracker) willRequeue(j *trackedJob, s State) bool {
	return j.spec.Requeue && (s == StatePreempted || s == StateNodeFail)
}

// resolve fills exit codes from result files, asks Slurm for the rest in one command, and
// finishes the tasks of this round.
func (t *Tracker) resolve(ctx context.Context, r *pollRound) error {
	var need []string
	for _, ref := range r.finishing {
		t.readResult(ref)
		if !ref.task.status.ExitKnown && ref.task.status.State == StateFailed {
			need = append(need, ref.job.id)
		}
	}
	for _, ref := range r.missing {
		need = append(need, ref.job.id)
	}
	slices.Sort(need)
	need = slices.Compact(need)
	var detailErr error
	if len(need) > 0 {
		detailErr = t.applyDetails(ctx, need, r)
	}
	if detailErr == nil { // on error, vanished tasks wait for the next poll instead of being LOST
		for _, ref := range r.missing {
			if ref.task.missing > 0 {
				t.resolveMissing(ref)
			}
			r.finishing = append(r.finishing, ref)
		}
	}
	for _, ref := range r.finishing {
		r.events = append(r.events, t.finish(ref))
	}
	if detailErr != nil {
		return fmt.Errorf("job details: %w", detailErr)
	}
	return nil
}

// applyDetails merges exit codes and states from sacct/scontrol into this round's tasks.
func (t *Tracker) applyDetails(ctx context.Context, jobIDs []string, r *pollRound) error {
	details, err := t.client.Details(ctx, jobIDs)
	if err != nil {
		return err
	}
	byKey := make(map[string]TaskStatus, len(details))
	for _, d := range details {
		byKey[d.Key] = d
	}
	for _, ref := range r.finishing {
		if d, ok := byKey[ref.task.status.Key]; ok && d.ExitKnown && !ref.task.status.ExitKnown {
			ref.task.status.ExitCode, ref.task.status.Signal, ref.task.status.ExitKnown = d.ExitCode, d.Signal, true
			ref.task.source = detailSource(d)
		}
	}
	for _, ref := range r.missing {
		if d, ok := byKey[ref.task.status.Key]; ok && d.State.IsTerminal() {
			ref.task.status = d
			ref.task.missing = 0
			ref.task.source = detailSource(d)
			t.readResult(ref)
		}
	}
	return nil
}

func detailSource(d TaskStatus) string { return d.Source }

// readResult takes the exit code from the task's result file when the spec asked for one.
func (t *Tracker) readResult(ref *taskRef) {
	dir := ref.job.spec.ResultDir
	if dir == "" || ref.task.status.ExitKnown {
		return
	}
	code, ok, err := ReadResult(dir, ref.task.status.Key)
	if err != nil || !ok {
		return
	}
	ref.task.status.ExitCode, ref.task.status.Signal, ref.task.status.ExitKnown = code, 0, true
	ref.task.source = "result file"
}

// resolveMissing decides the fate of a task Slurm no longer knows: its result file, or LOST.
func (t *Tracker) resolveMissing(ref *taskRef) {
	ref.task.status.ExitKnown = false
	t.readResult(ref)
	switch {
	case ref.task.status.ExitKnown && ref.task.status.ExitCode == 0:
		ref.task.status.State = StateCompleted
	case ref.task.status.ExitKnown:
		ref.task.status.State = StateFailed
	default:
		ref.task.status.State = StateLost
		ref.task.status.Reason = "no longer known to Slurm and no result file"
	}
}

// finish classifies a terminal task, reads its log tail when it failed, and builds its event.
func (t *Tracker) finish(ref *taskRef) Event {
	s := ref.task.status
	if s.State == StateCompleted && !s.ExitKnown {
		s.ExitCode, s.ExitKnown = 0, true // COMPLETED means exit code 0 in Slurm
		ref.task.source = "slurm state"
	}
	o := Outcome{TaskStatus: s, ExitSource: ref.task.source, LogPath: LogPath(ref.job.spec, s)}
	if s.StdOut != "" {
		o.LogPath = s.StdOut
	}
	o.Failure = Classify(s, "")
	if o.Failure != FailureNone {
		o.LogTail, _ = TailFile(o.LogPath, TailLines)
		o.Failure = Classify(s, o.LogTail)
	}
	ref.task.status, ref.task.done, ref.task.outcome = s, true, o
	return Event{Key: s.Key, JobID: s.JobID, TaskID: s.TaskID, From: ref.from, To: s.State, Reason: s.Reason, Outcome: &o}
}
