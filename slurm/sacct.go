package slurm

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// AccountingAvailable asks sacct once per CLI (one command, counted in Invocations) whether
// accounting storage is enabled, and remembers the answer. Without it (the local test cluster
// runs AccountingStorageType=accounting_storage/none) sacct prints "Slurm accounting storage is
// disabled" and exits 1; a missing sacct binary counts as unavailable too. Calling it before
// tracking keeps the one-time probe out of the first poll that needs job details.
func (c *CLI) AccountingAvailable(ctx context.Context) bool {
	c.acctOnce.Do(func() {
		_, err := c.run(ctx, pick(c.Sacct, "sacct"), nil, "--noheader", "--parsable2", "--jobs=1", "--format=JobID")
		c.acctOK = err == nil
	})
	return c.acctOK
}

// Accounting returns finished tasks from sacct, or ErrNoAccounting when accounting storage is
// disabled or sacct is missing.
func (c *CLI) Accounting(ctx context.Context, jobIDs []string) ([]TaskStatus, error) {
	if !c.AccountingAvailable(ctx) {
		return nil, ErrNoAccounting
	}
	if err := checkIDs(jobIDs); err != nil {
		return nil, fmt.Errorf("accounting: %w", err)
	}
	return c.sacct(ctx, jobIDs)
}

const sacctFormat = "JobID,JobIDRaw,State,ExitCode,Elapsed,NodeList,Reason"

func (c *CLI) sacct(ctx context.Context, jobIDs []string) ([]TaskStatus, error) {
	out, err := c.run(ctx, pick(c.Sacct, "sacct"), nil, "--noheader", "--parsable2", "--allocations",
		"--jobs="+strings.Join(jobIDs, ","), "--format="+sacctFormat)
	if err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("%w: %w", ErrNoAccounting, err)
		}
		return nil, fmt.Errorf("accounting for %s: %w", strings.Join(jobIDs, ","), err)
	}
	return parseSacct(string(out))
}

// parseSacct parses `sacct --parsable2` lines in sacctFormat; records of pending array ranges
// ("12_[3-9]") are skipped because they are not single tasks.
func parseSacct(out string) ([]TaskStatus, error) {
	var tasks []TaskStatus
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.SplitN(line, "|", 7)
		if len(f) != 7 {
			return nil, fmt.Errorf("parse sacct line %q: want 7 fields, got %d", line, len(f))
		}
		t := TaskStatus{JobID: f[0], RawID: f[1], TaskID: -1, State: normalizeState(f[2]),
			Elapsed: parseElapsed(f[4]), NodeList: f[5], Reason: f[6], Source: "sacct"}
		if j, task, ok := strings.Cut(f[0], "_"); ok {
			n, err := strconv.Atoi(task)
			if err != nil {
				continue
			}
			t.JobID, t.TaskID = j, n
		}
		code, sig, err := parseExitCode(f[3])
		if err != nil {
			return nil, fmt.Errorf("parse sacct line %q: %w", line, err)
		}
		t.ExitCode, t.Signal, t.ExitKnown = code, sig, t.State.IsTerminal()
		if t.NodeList == "None assigned" {
			t.NodeList = ""
		}
		t.Key = taskKey(t.JobID, t.TaskID)
		tasks = append(tasks, t)
	}
	return tasks, nil
}
