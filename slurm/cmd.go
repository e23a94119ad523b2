package slurm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
)

// Client is the set of Slurm operations the Tracker and the executor use. CLI is the real
// implementation; tests of callers may substitute a fake.
type Client interface {
	// Submit renders spec and submits it with sbatch, returning the job id (for an array, the
	// array job id).
	Submit(ctx context.Context, spec JobSpec) (string, error)
	// Poll reports every task of the given jobs that slurmctld still knows, whatever its state,
	// with ONE squeue call. Jobs Slurm no longer knows are simply absent from the result. Poll
	// does not report exit codes.
	Poll(ctx context.Context, jobIDs []string) ([]TaskStatus, error)
	// Details reports the finished tasks of the given jobs with exit codes and log paths, using
	// one sacct call when accounting storage is enabled and otherwise scontrol (one call for a
	// single job, one call listing all jobs otherwise).
	Details(ctx context.Context, jobIDs []string) ([]TaskStatus, error)
	// Cancel cancels the given jobs (or array tasks such as "12_3") with scancel.
	Cancel(ctx context.Context, ids []string) error
	// Requeue puts the given finished or running batch jobs back into the queue (scontrol requeue).
	Requeue(ctx context.Context, ids []string) error
	// Invocations returns how many Slurm commands this client has run so far.
	Invocations() int64
}

// CLI is a Client that runs the Slurm command-line tools. Each command field names the program to
// run; an empty field means the program of that name found on PATH at the time of the call, so a
// test may put a logging wrapper first on PATH, or point a field at it directly.
type CLI struct {
	Sbatch, Squeue, Scontrol, Scancel, Sacct string

	calls atomic.Int64

	acctOnce sync.Once
	acctOK   bool
}

// ErrNoAccounting is returned by Accounting when Slurm's accounting storage is disabled or sacct
// is not installed.
var ErrNoAccounting = errors.New("slurm accounting is not available")

// CommandError is returned when a Slurm command fails; it carries the command line and its
// standard error so that messages say what Slurm complained about.
type CommandError struct {
	Args   []string
	Stderr string
	Err    error
}

// Error renders the command line, its error and the trimmed standard error.
func (e *CommandError) Error() string {
	msg := fmt.Sprintf("%s: %v", strings.Join(e.Args, " "), e.Err)
	if s := strings.TrimSpace(e.Stderr); s != "" {
		msg += ": " + s
	}
	return msg
}

// Unwrap returns the underlying exec error.
func (e *CommandError) Unwrap() error { return e.Err }

// Invocations returns how many Slurm commands c has run, successful or not.
func (c *CLI) Invocations() int64 { return c.calls.Load() }

// run executes one Slurm command with optional standard input and returns its standard output.
func (c *CLI) run(ctx context.Context, prog string, stdin io.Reader, args ...string) ([]byte, error) {
	c.calls.Add(1)
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.Bytes(), &CommandError{Args: append([]string{prog}, args...), Stderr: errb.String(), Err: err}
	}
	return out.Bytes(), nil
}

func pick(configured, name string) string {
	if configured != "" {
		return configured
	}
	return name
}
