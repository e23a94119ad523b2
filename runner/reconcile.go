package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/slurm"
)

// Reconcile brings the records of Slurm nodes that finished while nobody was attached up to date:
// it ingests the result files that jobs wrote, asks Slurm (one squeue call) about the others,
// marks nodes whose jobs failed or vanished as failed with the reason and log, and finishes runs
// whose nodes have all settled. It reports what changed on out.
func Reconcile(ctx context.Context, db Tracker, workspace string, client slurm.Client, out io.Writer) error {
	db = noTracker(db)
	if db == nil {
		return nil
	}
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
	slices.Sort(ids)
	tasks, perr := client.Poll(ctx, slices.Compact(ids))
	known := map[string]slurm.TaskStatus{}
	for _, t := range tasks {
		known[t.Key] = t
	}
	runs := map[string]bool{}
	for _, n := range nodes {
		runs[n.RunID] = true
		dir := filepath.Join(workspace, "slurm", n.RunID)
		result := filepath.Join(dir, "results", FileName(n.Node)+".json")
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
			if err := reconciled(db, n, state.Skipped, "an upstream job failed (Slurm: DependencyNeverSatisfied); job "+n.JobID+" cancelled"); err != nil {
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
			ended := "no longer known to Slurm and wrote no result"
			if ok {
				ended = "ended " + string(t.State)
				if t.Reason != "" && t.Reason != "None" {
					ended += " (" + t.Reason + ")"
				}
			}
			if err := reconciled(db, n, state.Failed, fmt.Sprintf("slurm job %s %s", n.JobID, ended)); err != nil {
				return err
			}
			fmt.Fprintf(out, "%s: job %s %s: marked failed\n", n.Node, n.JobID, ended)
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
func finishIfSettled(db Tracker, id string) error {
	n, err := db.RunNodesRunning(id)
	if err != nil || n > 0 {
		return err
	}
	_, nodes, err := db.GetRun(id)
	if err != nil {
		return err
	}
	status := state.RunSucceeded
	for _, nr := range nodes {
		if nr.State.Blocks() {
			status = state.RunFailed
		}
	}
	return db.FinishRun(id, status, time.Now())
}
