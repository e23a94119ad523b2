package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/runner"
	"github.com/pcamflow/pcamflow/track"
)

func cmdStatus(_ context.Context, e *env, args []string) int {
	fs := newFlags(e, "status", "", "Shows the last run: its nodes, their state, duration and where their outputs are.\nRuns left 'running' by a process that died are marked interrupted.")
	asJSON := fs.Bool("json", false, "print as JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) > 0 {
		return usageError(e.stderr, "status takes no arguments")
	}
	if _, err := os.Stat(e.workspace); err != nil {
		fmt.Fprintf(e.stdout, "no runs yet: the workspace %s does not exist (run `pcamflow run` first)\n", e.workspace)
		return exitOK
	}
	db, err := e.openDBForReading()
	if errors.Is(err, errNoDatabase) {
		fmt.Fprintln(e.stdout, "no runs yet")
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: %v\n", err)
		return exitFailure
	}
	defer db.Close()
	if db.ReadOnly() {
		fmt.Fprintf(e.stderr, "pcamflow: the workspace %s is read-only: showing the run database as it is (detached Slurm jobs not ingested, dead runs not marked)\n", e.workspace)
	} else if err := runner.Reconcile(context.Background(), db, e.workspace, nil, e.stdout); err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: reconciling Slurm jobs: %v\n", err)
	}
	if _, err := db.MarkInterrupted(track.ProcessAlive); err != nil && !db.ReadOnly() {
		fmt.Fprintf(e.stderr, "pcamflow: %v\n", err)
		return exitFailure
	}
	run, nodes, err := db.LastRun("")
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: %v\n", err)
		return exitFailure
	}
	if run == nil {
		fmt.Fprintln(e.stdout, "no runs yet")
		return exitOK
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(map[string]any{"run": run, "nodes": nodes})
		return exitOK
	}
	printStatus(e, run, nodes)
	return exitOK
}

// printStatus renders the last run.
func printStatus(e *env, run *track.Run, nodes []track.NodeRun) {
	dur := "-"
	if !run.Finished.IsZero() {
		dur = run.Finished.Sub(run.Started).Round(time.Millisecond).String()
	}
	fmt.Fprintf(e.stdout, "run %s  pipeline %s  %s  started %s  took %s  on %s\n\n", run.ID, run.Pipeline, run.Status,
		run.Started.Local().Format("2006-01-02 15:04:05"), dur, run.Host)
	width := 4
	for _, n := range nodes {
		width = max(width, len(statusNode(n)))
	}
	fmt.Fprintf(e.stdout, "  %-*s  %-11s  %9s  %s\n", width, "NODE", "STATE", "DURATION", "OUTPUTS / LOG")
	for _, n := range nodes {
		d := "-"
		if !n.Finished.IsZero() && n.State != state.Cached && n.State != state.Skipped && !notStarted(n) {
			d = n.Finished.Sub(n.Started).Round(time.Millisecond).String()
		}
		where := outputPaths(n.Outputs)
		if n.State == state.Failed || where == "" {
			where = n.LogPath
		}
		switch {
		case (n.State == state.Failed || n.State == state.Interrupted) && n.Error != "":
			where = n.Error + "  (log " + n.LogPath + ")"
		case n.State == state.Skipped || notStarted(n):
			where = n.Reason
		case n.State == state.Pruned && n.Reason != "":
			where = n.Reason + "  (" + where + ")"
		}
		fmt.Fprintf(e.stdout, "  %-*s  %-11s  %9s  %s\n", width, statusNode(n), n.State, d, where)
	}
}

// statusNode is how status names a node: a child (of a sweep, say) is indented under its parent.
func statusNode(n track.NodeRun) string {
	if n.Parent != "" {
		return "  " + n.Node
	}
	return n.Node
}

// notStarted reports whether an interrupted node never started (Ctrl-C came first).
func notStarted(n track.NodeRun) bool {
	return n.State == state.Interrupted && n.Error == "" && n.LogPath == ""
}

// outputPaths lists the paths of a node's outputs from their JSON record.
func outputPaths(raw json.RawMessage) string {
	var outs map[string]struct {
		Path string `json:"path"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &outs) != nil {
		return ""
	}
	wd, _ := os.Getwd()
	s := ""
	for _, name := range sortedKeys(outs) {
		if s != "" {
			s += ", "
		}
		p := outs[name].Path
		if rel, err := filepath.Rel(wd, p); err == nil && filepath.IsAbs(p) && !strings.HasPrefix(rel, "..") {
			p = rel // shorter, and what a user types
		}
		s += p
	}
	return s
}
