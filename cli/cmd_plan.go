package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/runner"
)

func cmdPlan(ctx context.Context, e *env, args []string) int {
	lo := &loadOptions{}
	var targets, force listFlag
	fs := newFlags(e, "plan", "[FILE]", "Shows the DAG in execution order, each node cached or to run, and for each node\nthat will run why: no earlier run, or which part of its key changed. Executes nothing.")
	fs.Var(&lo.vars, "var", "set a variable: `name=value` (repeatable)")
	fs.Var(&lo.varFiles, "var-file", "read variable values from an HCL `FILE` (repeatable)")
	fs.Var(&targets, "target", "plan only this stage `kind.name` and its upstream (repeatable)")
	fs.Var(&force, "force", "treat this stage `kind.name` as not cached (repeatable)")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	stats := fs.Bool("stats", false, "also print how many input bytes were hashed and how many files the stat cache answered")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	setPlanGCPercent()
	if len(targets) == 0 && len(force) == 0 && !*stats {
		if code, done := e.fastPlan(pos, lo, *asJSON); done {
			return code
		}
	}
	sess, code := e.open(pos, lo, false, runner.Options{Targets: targets, Force: force})
	if sess == nil {
		return code
	}
	defer sess.close()
	p, store, r := sess.p, sess.store, sess.r
	plan, err := r.Plan(ctx)
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: plan failed: %v\n", err)
		return exitFailure
	}
	if *stats {
		defer func() {
			h := store.HashStats()
			fmt.Fprintf(e.stderr, "hashing: %d file(s) read (%d bytes), %d answered by the stat cache\n", h.FilesHashed, h.BytesHashed, h.StatHits)
		}()
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(map[string]any{"pipeline": p.Name, "file": p.File, "nodes": plan})
		return exitOK
	}
	printPlan(e, p.Name, p.File, plan)
	return exitOK
}

// printPlan renders a plan as a table with reasons, through one buffer (a plan may have 100,000
// lines).
func printPlan(e *env, name, file string, plan []runner.PlannedNode) {
	out := bufio.NewWriterSize(e.stdout, 64<<10)
	defer out.Flush()
	nodes, children := 0, 0
	width := 0
	for _, n := range plan {
		if n.Parent != "" {
			children++
			width = max(width, len(n.Node)+2)
			continue
		}
		nodes++
		width = max(width, len(n.Node))
	}
	fmt.Fprintf(out, "pipeline %s (%s): %d node(s)\n\n", name, file, nodes)
	toRun := 0
	for _, n := range plan {
		label := string(n.State)
		switch {
		case n.State == state.Planned && n.Parent != "":
			label = "will run"
		case n.State == state.Planned:
			label, toRun = "will run", toRun+1
		case n.Restore:
			label = "cached*"
		}
		addr := n.Node
		if n.Parent != "" {
			addr = "  " + addr // a child, under its parent
		}
		line := fmt.Sprintf("  %-9s %-*s", label, width, addr)
		if n.Executor != state.Local {
			line += "  [" + string(n.Executor) + "]"
		}
		if len(n.Reasons) > 0 {
			line += "  " + strings.Join(n.Reasons, "; ")
		}
		fmt.Fprintln(out, strings.TrimRight(line, " "))
	}
	fmt.Fprintf(out, "\n%d to run, %d cached", toRun, nodes-toRun)
	fmt.Fprintln(out, " (cached* = outputs will be restored from the cache).")
	if children > 0 {
		fmt.Fprintf(out, "%d child node(s) of dynamic stages are listed under their parents as their last run left them.\n", children)
	}
}

// fastPlan prints the plan of a pipeline whose no-op fingerprint still holds (see `run`): every
// node cached. done is false when the full plan is needed.
func (e *env) fastPlan(pos []string, lo *loadOptions, asJSON bool) (int, bool) {
	name, src, err := resolveFile(pos)
	if err != nil {
		return 0, false
	}
	k, err := runner.NewFastKey(name, src, lo.vars, lo.varFiles, "")
	if err != nil {
		return 0, false
	}
	last, err := runner.FastNoop(e.workspace, k)
	if err != nil {
		return 0, false
	}
	plan := last.Plan()
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(map[string]any{"pipeline": last.Pipeline, "file": name, "nodes": plan, "unchanged_since": last.RunID})
		return exitOK, true
	}
	printPlan(e, last.Pipeline, name, plan)
	fmt.Fprintf(e.stdout, "Nothing changed since run %s (checked by stat; the pipeline was not re-evaluated).\n", last.RunID)
	return exitOK, true
}
