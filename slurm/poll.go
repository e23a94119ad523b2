package slurm

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// squeueFormat puts the free-text reason last so that a '|' inside it cannot shift the fields.
const squeueFormat = "%i|%A|%F|%K|%T|%M|%N|%r"

// scontrolKey matches the keys of `scontrol -o show job` (JobId, CPUs/Task, AllocNode:Sid, ...).
var scontrolKey = regexp.MustCompile(`^[A-Z][A-Za-z0-9_/:]*$`)

// Poll runs ONE `squeue --noheader --array --states=all --jobs=... --format=...` for all ids.
// squeue exits non-zero when none of the ids is known any more; Poll then returns no tasks and
// no error.
func (c *CLI) Poll(ctx context.Context, jobIDs []string) ([]TaskStatus, error) {
	if len(jobIDs) == 0 {
		return nil, nil
	}
	if err := checkIDs(jobIDs); err != nil {
		return nil, fmt.Errorf("poll: %w", err)
	}
	out, err := c.run(ctx, pick(c.Squeue, "squeue"), nil, "--noheader", "--array", "--states=all",
		"--jobs="+strings.Join(jobIDs, ","), "--format="+squeueFormat)
	if err != nil {
		var ce *CommandError
		if errors.As(err, &ce) && strings.Contains(ce.Stderr, "Invalid job id") {
			return nil, nil
		}
		return nil, fmt.Errorf("poll %d jobs: %w", len(jobIDs), err)
	}
	return parseSqueue(string(out))
}

// parseSqueue parses lines in squeueFormat.
func parseSqueue(out string) ([]TaskStatus, error) {
	var tasks []TaskStatus
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.SplitN(line, "|", 8)
		if len(f) != 8 {
			return nil, fmt.Errorf("parse squeue line %q: want 8 fields, got %d", line, len(f))
		}
		t := TaskStatus{Key: f[0], RawID: f[1], JobID: f[2], TaskID: -1, State: normalizeState(f[4]),
			Elapsed: parseElapsed(f[5]), NodeList: f[6], Reason: strings.TrimSpace(f[7]), Source: "squeue"}
		if f[3] != "N/A" && f[3] != "" {
			n, err := strconv.Atoi(f[3])
			if err != nil {
				return nil, fmt.Errorf("parse squeue line %q: array task id %q: %w", line, f[3], err)
			}
			t.TaskID = n
		} else {
			t.JobID = f[1]
		}
		t.Key = taskKey(t.JobID, t.TaskID)
		tasks = append(tasks, t)
	}
	return tasks, nil
}

// Details reports finished tasks with exit codes. It uses sacct when accounting storage is
// enabled (one call); otherwise `scontrol -o show job ID` for a single job, or `scontrol -o show
// job` (all jobs slurmctld remembers, filtered here) for several, so it is always one command.
func (c *CLI) Details(ctx context.Context, jobIDs []string) ([]TaskStatus, error) {
	if len(jobIDs) == 0 {
		return nil, nil
	}
	if err := checkIDs(jobIDs); err != nil {
		return nil, fmt.Errorf("job details: %w", err)
	}
	if c.AccountingAvailable(ctx) {
		return c.sacct(ctx, jobIDs)
	}
	args := []string{"-o", "show", "job"}
	if len(jobIDs) == 1 {
		args = append(args, jobIDs[0])
	}
	out, err := c.run(ctx, pick(c.Scontrol, "scontrol"), nil, args...)
	if err != nil {
		var ce *CommandError
		if errors.As(err, &ce) && strings.Contains(ce.Stderr, "Invalid job id") {
			return nil, nil
		}
		return nil, fmt.Errorf("job details for %s: %w", strings.Join(jobIDs, ","), err)
	}
	tasks, err := parseScontrol(string(out))
	if err != nil {
		return nil, err
	}
	return filterJobs(tasks, jobIDs), nil
}

func filterJobs(tasks []TaskStatus, jobIDs []string) []TaskStatus {
	want := make(map[string]bool, len(jobIDs))
	for _, id := range jobIDs {
		want[id] = true
	}
	var out []TaskStatus
	for _, t := range tasks {
		if want[t.JobID] || want[t.Key] {
			out = append(out, t)
		}
	}
	return out
}

// parseScontrol parses `scontrol -o show job` output: one job per line of Key=Value pairs. Values
// may contain spaces (Reason, WorkDir, ...): a word without '=' continues the previous value.
func parseScontrol(out string) ([]TaskStatus, error) {
	var tasks []TaskStatus
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "No jobs") {
			continue
		}
		kv := scontrolFields(line)
		t, err := scontrolTask(kv)
		if err != nil {
			return nil, fmt.Errorf("parse scontrol line %.80q: %w", line, err)
		}
		if t.Key != "" {
			tasks = append(tasks, t)
		}
	}
	return tasks, nil
}

func scontrolFields(line string) map[string]string {
	kv := map[string]string{}
	last := ""
	for _, w := range strings.Fields(line) {
		k, v, ok := strings.Cut(w, "=")
		_, seen := kv[k]
		if !ok || seen || !scontrolKey.MatchString(k) {
			if last != "" { // a value with spaces, e.g. "Reason=... " or "WorkDir=/a b"
				kv[last] += " " + w
			}
			continue
		}
		kv[k] = v
		last = k
	}
	return kv
}

// scontrolTask builds a TaskStatus; a pending array record ("ArrayTaskId=5-9") yields no key.
func scontrolTask(kv map[string]string) (TaskStatus, error) {
	t := TaskStatus{RawID: kv["JobId"], JobID: kv["JobId"], TaskID: -1, State: normalizeState(kv["JobState"]),
		Reason: kv["Reason"], NodeList: kv["NodeList"], StdOut: kv["StdOut"], Elapsed: parseElapsed(kv["RunTime"]), Source: "scontrol"}
	if t.RawID == "" {
		return t, errors.New("no JobId")
	}
	if aj := kv["ArrayJobId"]; aj != "" {
		n, err := strconv.Atoi(kv["ArrayTaskId"])
		if err != nil {
			return TaskStatus{}, nil // a range of pending tasks, not one task
		}
		t.JobID, t.TaskID = aj, n
	}
	if ec := kv["ExitCode"]; ec != "" {
		code, sig, err := parseExitCode(ec)
		if err != nil {
			return t, err
		}
		t.ExitCode, t.Signal, t.ExitKnown = code, sig, t.State.IsTerminal()
	}
	if t.NodeList == "(null)" {
		t.NodeList = ""
	}
	t.Key = taskKey(t.JobID, t.TaskID)
	return t, nil
}
