package slurm

import (
	"context"
	"fmt"
	"strings"
)

// Submit renders spec and pipes the script to `sbatch --parsable`, returning the job id Slurm
// assigned. The script is not written anywhere; use Render to keep a copy for review.
func (c *CLI) Submit(ctx context.Context, spec JobSpec) (string, error) {
	script, err := Render(spec)
	if err != nil {
		return "", err
	}
	out, err := c.run(ctx, pick(c.Sbatch, "sbatch"), strings.NewReader(script), "--parsable")
	if err != nil {
		return "", fmt.Errorf("submit job %q: %w", spec.Name, err)
	}
	id, err := parseParsable(string(out))
	if err != nil {
		return "", fmt.Errorf("submit job %q: %w", spec.Name, err)
	}
	return id, nil
}

// parseParsable extracts the job id from sbatch --parsable output ("123" or "123;cluster").
func parseParsable(out string) (string, error) {
	line := strings.TrimSpace(out)
	if k := strings.IndexByte(line, '\n'); k >= 0 { // warnings may precede the id
		line = strings.TrimSpace(line[strings.LastIndexByte(line, '\n')+1:])
	}
	id, _, _ := strings.Cut(line, ";")
	if !jobIDRegexp.MatchString(id) {
		return "", fmt.Errorf("sbatch printed %q, not a job id", strings.TrimSpace(out))
	}
	return id, nil
}

// Cancel runs `scancel` on the ids (jobs, array jobs or array tasks like "12_3"). Cancelling a
// job that already finished is not an error for scancel.
func (c *CLI) Cancel(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := checkIDs(ids); err != nil {
		return fmt.Errorf("cancel: %w", err)
	}
	if _, err := c.run(ctx, pick(c.Scancel, "scancel"), nil, ids...); err != nil {
		return fmt.Errorf("cancel jobs %s: %w", strings.Join(ids, ","), err)
	}
	return nil
}

// Requeue runs `scontrol requeue` on the ids, putting running or finished batch jobs back into
// the queue under the same id. Slurm refuses ("Requested operation is presently disabled") jobs
// submitted with --no-requeue, so callers that plan to requeue must submit with JobSpec.Requeue.
func (c *CLI) Requeue(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := checkIDs(ids); err != nil {
		return fmt.Errorf("requeue: %w", err)
	}
	if _, err := c.run(ctx, pick(c.Scontrol, "scontrol"), nil, "requeue", strings.Join(ids, ",")); err != nil {
		return fmt.Errorf("requeue jobs %s: %w", strings.Join(ids, ","), err)
	}
	return nil
}

func checkIDs(ids []string) error {
	for _, id := range ids {
		if !jobIDRegexp.MatchString(id) {
			return fmt.Errorf("%q is not a Slurm job id", id)
		}
	}
	return nil
}
