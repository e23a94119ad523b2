package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/pcamflow/pcamflow/internal/atomicfile"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/slurm"
	"github.com/pcamflow/pcamflow/track"
)

// specFile is where the job spec of a stage's submission is kept, for reconciliation and review.
func specFile(dir, stageAddr string) string {
	return filepath.Join(dir, strings.TrimSuffix(logName(stageAddr), ".log")+".spec.json")
}

// writeSpec saves a submitted job spec with its job id.
func writeSpec(se *slurmExec, s *pipelines.Stage, id string, spec slurm.JobSpec) error {
	data, err := json.MarshalIndent(map[string]any{"job_id": id, "spec": spec}, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(specFile(se.dir, s.Addr), data, 0o644)
}

// Reconcile brings the records of Slurm nodes that finished while nobody was attached up to date:
// it ingests the result files that jobs wrote, asks Slurm (one squeue call) about the others,
// marks nodes whose jobs failed or vanished as failed with the reason and log, and finishes runs
// whose nodes have all settled. It reports what changed on out.
func Reconcile(ctx context.Context, db *track.DB, workspace string, client slurm.Client, out io.Writer) error {
	nodes, err := db.RunningSlurmNodes("")
	if err != nil || len(nodes) == 0 {
		return err
	}
	if client == nil {
		client = &slurm.CLI{}
	}
	var ids []string
	for _, n := range nodes {
		ids = append(ids, strings.SplitN(n.JobID, "_", 2)[0])
	}
	tasks, perr := client.Poll(ctx, dedupe(ids))
	known := map[string]slurm.TaskStatus{}
	for _, t := range tasks {
		known[t.Key] = t
	}
	runs := map[string]bool{}
	for _, n := range nodes {
		runs[n.RunID] = true
		dir := filepath.Join(workspace, "slurm", n.RunID)
		result := filepath.Join(dir, "results", strings.TrimSuffix(logName(n.Node), ".log")+".json")
		if _, err := os.Stat(result); err == nil {
			got, err := db.IngestNodeFile(result)
			if err != nil {
				fmt.Fprintf(out, "%s: %v\n", n.Node, err)
				continue
			}
			fmt.Fprintf(out, "%s: job %s finished: %s\n", n.Node, n.JobID, got.State)
			continue
		}
		t, ok := known[n.JobID]
		switch {
		case perr != nil:
			fmt.Fprintf(out, "%s: job %s: Slurm could not be asked: %v\n", n.Node, n.JobID, perr)
		case ok && !t.State.IsTerminal() && strings.Contains(t.Reason, "DependencyNeverSatisfied"):
			// An upstream job failed: Slurm would keep this one pending forever.
			if err := client.Cancel(ctx, []string{n.JobID}); err != nil {
				fmt.Fprintf(out, "%s: cancelling job %s: %v\n", n.Node, n.JobID, err)
			}
			nn := n
			nn.State, nn.Reason, nn.Finished = track.NodeSkipped, "an upstream job failed (Slurm: DependencyNeverSatisfied); job "+n.JobID+" cancelled", time.Now()
			if err := db.FinishNode(&nn); err != nil {
				return err
			}
			fmt.Fprintf(out, "%s: job %s cancelled: an upstream job failed\n", n.Node, n.JobID)
		case ok && !t.State.IsTerminal():
			reason := ""
			if t.Reason != "" && t.Reason != "None" {
				reason = " (" + t.Reason + ")"
			}
			fmt.Fprintf(out, "%s: job %s %s%s\n", n.Node, n.JobID, t.State, reason)
		default:
			state := "no longer known to Slurm and wrote no result"
			if ok {
				state = "ended " + string(t.State)
				if t.Reason != "" && t.Reason != "None" {
					state += " (" + t.Reason + ")"
				}
			}
			nn := n
			nn.State, nn.Error, nn.Finished, nn.ExitStatus = track.NodeFailed, fmt.Sprintf("slurm job %s %s", n.JobID, state), time.Now(), -1
			if err := db.FinishNode(&nn); err != nil {
				return err
			}
			fmt.Fprintf(out, "%s: job %s %s: marked failed\n", n.Node, n.JobID, state)
		}
	}
	for id := range runs {
		if err := finishIfSettled(db, id); err != nil {
			return err
		}
	}
	return nil
}

// finishIfSettled marks a run finished once none of its nodes is running.
func finishIfSettled(db *track.DB, id string) error {
	n, err := db.RunNodesRunning(id)
	if err != nil || n > 0 {
		return err
	}
	_, nodes, err := db.GetRun(id)
	if err != nil {
		return err
	}
	status := track.RunSucceeded
	for _, nr := range nodes {
		if nr.State == track.NodeFailed || nr.State == track.NodeSkipped || nr.State == track.NodeInterrupted {
			status = track.RunFailed
		}
	}
	return db.FinishRun(id, status, time.Now())
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
