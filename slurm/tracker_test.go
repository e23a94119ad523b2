package slurm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeClient replays scripted squeue answers. It is used only for faults the local cluster cannot
// produce (out of memory, node failure, preemption, a job vanishing from slurmctld's memory); the
// real-cluster behaviour is covered by cluster_test.go.
type fakeClient struct {
	polls   [][]TaskStatus
	details []TaskStatus
	n       int64
	calls   []string
}

func (f *fakeClient) Submit(context.Context, JobSpec) (string, error) {
	return "", errors.New("unused")
}
func (f *fakeClient) Cancel(context.Context, []string) error  { return nil }
func (f *fakeClient) Requeue(context.Context, []string) error { return nil }
func (f *fakeClient) Invocations() int64                      { return f.n }

func (f *fakeClient) Poll(_ context.Context, ids []string) ([]TaskStatus, error) {
	f.n++
	f.calls = append(f.calls, "squeue "+strings.Join(ids, ","))
	if len(f.polls) == 0 {
		return nil, nil
	}
	p := f.polls[0]
	f.polls = f.polls[1:]
	return p, nil
}

func (f *fakeClient) Details(_ context.Context, ids []string) ([]TaskStatus, error) {
	f.n++
	f.calls = append(f.calls, "details "+strings.Join(ids, ","))
	return filterJobs(f.details, ids), nil
}

func ts(job string, task int, raw string, state State, reason string) TaskStatus {
	return TaskStatus{Key: taskKey(job, task), JobID: job, TaskID: task, RawID: raw, State: state, Reason: reason}
}

func pollAll(t *testing.T, tr *Tracker, n int) []Event {
	t.Helper()
	var all []Event
	for range n {
		ev, err := tr.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ev...)
	}
	return all
}

func TestTrackerClassifiesSimulatedFaults(t *testing.T) {
	dir := t.TempDir()
	logDir := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(logDir, "10_1.out"), []byte("allocating\nslurmstepd: error: Detected 1 oom-kill event(s)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fc := &fakeClient{
		polls: [][]TaskStatus{
			{ts("10", 0, "10", StatePending, "Resources"), ts("10", 1, "10", StatePending, "Resources"),
				ts("10", 2, "10", StatePending, "Resources"), ts("10", 3, "10", StatePending, "Resources")},
			{ts("10", 0, "11", StateFailed, "NonZeroExitCode"), ts("10", 1, "12", StateOutOfMemory, "OutOfMemory"),
				ts("10", 2, "13", StateNodeFail, "NodeDown"), ts("10", 3, "14", StatePreempted, "None")},
		},
		details: []TaskStatus{{Key: "10_0", JobID: "10", TaskID: 0, State: StateFailed, ExitCode: 2, ExitKnown: true, Source: "scontrol"}},
	}
	tr := NewTracker(fc)
	spec := JobSpec{Command: []string{"true"}, Output: logDir + "/%A_%a.out", Array: &ArraySpec{Indices: []int{0, 1, 2, 3}}}
	if err := tr.Add("10", spec); err != nil {
		t.Fatal(err)
	}
	events := pollAll(t, tr, 2)
	if len(events) != 8 || events[0].Reason != "Resources" || events[0].To != StatePending {
		t.Fatalf("events = %v", events)
	}
	if !tr.Done() {
		t.Fatal("tracker not done after all tasks reached terminal states")
	}
	want := map[int]Failure{0: FailureExit, 1: FailureOutOfMemory, 2: FailureNodeFail, 3: FailurePreempted}
	for _, o := range tr.Outcomes("10") {
		if o.Failure != want[o.TaskID] {
			t.Errorf("task %d: failure %q, want %q", o.TaskID, o.Failure, want[o.TaskID])
		}
	}
	o0 := tr.Outcomes("10")[0]
	if !o0.ExitKnown || o0.ExitCode != 2 || o0.ExitSource != "scontrol" {
		t.Errorf("exit code of the failed task not taken from the details: %+v", o0)
	}
	if o1 := tr.Outcomes("10")[1]; !strings.Contains(o1.LogTail, "oom-kill") {
		t.Errorf("OOM outcome lacks the log tail: %+v", o1)
	}
	if st := tr.Stats(); st.Polls != 2 || st.MaxCommandsPerPoll != 2 || st.Commands != 3 {
		t.Errorf("stats = %+v, calls %q", st, fc.calls)
	}
	if !slices.Equal(FailedIndices(tr.Outcomes("10")), []int{0, 1, 2, 3}) {
		t.Error("FailedIndices wrong")
	}
}

// TestTrackerRequeuedJobKeepsBeingWatched follows a requeueable job through preemption: with the
// PREEMPTED state seen, and as the real cluster shows it at a 1 s poll (RUNNING, then PENDING
// again). Either way the requeue is reported once and the job is watched until it completes.
func TestTrackerRequeuedJobKeepsBeingWatched(t *testing.T) {
	for _, tc := range []struct {
		name     string
		states   []State
		requeued int // index of the event that reports the requeue
	}{
		{"preempted seen", []State{StateRunning, StatePreempted, StatePending, StateRunning, StateCompleted}, 1},
		{"node failure seen", []State{StateRunning, StateNodeFail, StatePending, StateRunning, StateCompleted}, 1},
		{"back to pending", []State{StateRunning, StatePending, StateRunning, StateCompleted}, 1},
		{"requeued state", []State{StateRunning, StateRequeued, StatePending, StateRunning, StateCompleted}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var polls [][]TaskStatus
			for _, st := range tc.states {
				reason := "None"
				if st == StatePending {
					reason = "BeginTime"
				}
				polls = append(polls, []TaskStatus{ts("20", -1, "20", st, reason)})
			}
			tr := NewTracker(&fakeClient{polls: polls})
			if err := tr.Add("20", JobSpec{Command: []string{"true"}, Requeue: true}); err != nil {
				t.Fatal(err)
			}
			events := pollAll(t, tr, len(tc.states))
			var got []State
			for i, e := range events {
				got = append(got, e.To)
				if e.Requeued != (i == tc.requeued) {
					t.Errorf("event %d (%s): Requeued = %v", i, e, e.Requeued)
				}
			}
			if !slices.Equal(got, tc.states) {
				t.Errorf("states = %v, want %v", got, tc.states)
			}
			if s := events[tc.requeued].String(); !strings.Contains(s, "requeued by Slurm, it will run again") {
				t.Errorf("requeue event reads %q", s)
			}
			if o := tr.Outcomes("20"); len(o) != 1 || o[0].Failed() {
				t.Errorf("outcome = %+v", o)
			}
		})
	}
	// Without --requeue, PREEMPTED is final.
	tr := NewTracker(&fakeClient{polls: [][]TaskStatus{{ts("21", -1, "21", StateRunning, "None")}, {ts("21", -1, "21", StatePreempted, "None")}}})
	if err := tr.Add("21", JobSpec{Command: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	events := pollAll(t, tr, 2)
	if o := tr.Outcomes("21"); len(o) != 1 || o[0].Failure != FailurePreempted || events[1].Requeued {
		t.Errorf("no-requeue preemption: outcome %+v, events %v", o, events)
	}
}

func TestTrackerResolvesVanishedTasks(t *testing.T) {
	results := t.TempDir()
	if err := os.WriteFile(filepath.Join(results, "30.exit"), []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(results, "31.exit"), []byte("4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fc := &fakeClient{}
	tr := NewTracker(fc)
	for _, id := range []string{"30", "31", "32"} {
		if err := tr.Add(id, JobSpec{Command: []string{"true"}, ResultDir: results}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.Add("30", JobSpec{Command: []string{"true"}}); err == nil {
		t.Error("adding an unfinished job twice succeeded")
	}
	pollAll(t, tr, MissingPolls-1)
	if tr.Done() {
		t.Fatal("tracker gave up before MissingPolls polls")
	}
	pollAll(t, tr, 1)
	states := map[string]State{}
	for _, id := range []string{"30", "31", "32"} {
		o := tr.Outcomes(id)
		if len(o) != 1 {
			t.Fatalf("job %s: %d outcomes", id, len(o))
		}
		states[id] = o[0].State
	}
	if states["30"] != StateCompleted || states["31"] != StateFailed || states["32"] != StateLost {
		t.Errorf("states = %v, want 30 COMPLETED, 31 FAILED (result files), 32 LOST", states)
	}
	if st := tr.Stats(); st.MaxCommandsPerPoll > 2 {
		t.Errorf("a poll ran %d commands", st.MaxCommandsPerPoll)
	}
	if err := tr.Add("32", JobSpec{Command: []string{"true"}}); err != nil || tr.Done() || len(tr.Outcomes("32")) != 0 {
		t.Errorf("re-adding finished job 32 (as after a requeue): err %v, done %v", err, tr.Done())
	}
	if n := len(tr.Tasks()); n != 3 {
		t.Errorf("%d tasks after re-adding, want 3", n)
	}
}
