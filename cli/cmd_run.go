package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/runner"
	"github.com/pcamflow/pcamflow/track"
)

func cmdRun(ctx context.Context, e *env, args []string) int {
	lo := &loadOptions{}
	var targets, force listFlag
	fs := newFlags(e, "run", "[FILE]", "Executes every node that is not cached, at most -j at once. Downstream nodes of a\nfailed node are skipped. Exits 1 when any node failed or was skipped.")
	fs.Var(&lo.vars, "var", "set a variable: `name=value` (repeatable)")
	fs.Var(&lo.varFiles, "var-file", "read variable values from an HCL `FILE` (repeatable)")
	fs.Var(&targets, "target", "run only this stage `kind.name` and its upstream (repeatable)")
	fs.Var(&force, "force", "re-execute this stage `kind.name` even if cached (repeatable)")
	detach := fs.Bool("detach", false, "submit every node that is not cached to Slurm at once (afterok chains) and exit; `pcamflow status` reports later")
	jobs := fs.Int("j", 1, "run at most `N` nodes at once (local executor)")
	executorName := fs.String("executor", "", "run every stage with this executor: `local` or slurm (default: each stage's resources block)")
	threads := fs.Int("threads", 0, "kernel threads of the training and inference kernels, shared by every node of the run (`N`; default: all cores)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if *jobs < 1 {
		return usageError(e.stderr, "-j must be at least 1")
	}
	executor, ok := parseExecutor(*executorName)
	if !ok {
		return usageError(e.stderr, "--executor must be local or slurm, not %q", *executorName)
	}
	if *threads < 0 {
		return usageError(e.stderr, "--threads must be at least 1 (or 0 for all cores)")
	}
	var fast *runner.FastKey
	if !*detach && len(targets) == 0 && len(force) == 0 {
		if name, src, err := resolveFile(pos); err == nil {
			if k, err := runner.NewFastKey(name, src, lo.vars, lo.varFiles, executor); err == nil {
				fast = &k
				if code, done := e.fastNoop(k, args); done {
					return code
				}
			}
		}
	}
	p := e.load(pos, lo)
	if p == nil {
		return exitFailure
	}
	store, err := e.openStore()
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: %v\n", err)
		return exitFailure
	}
	defer store.Close()
	db, err := e.openDB()
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: %v\n", err)
		return exitFailure
	}
	defer db.Close()
	project, err := projectDir()
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: %v\n", err)
		return exitFailure
	}
	slurmOpt, err := e.slurmOptions(pos, lo)
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: %v\n", err)
		return exitFailure
	}
	r, err := runner.New(p, store, db, project, withProcessOptions(runner.Options{Jobs: *jobs, Targets: targets, Force: force,
		Out: e.stdout, Args: append([]string{"run"}, args...), Executor: executor, Slurm: slurmOpt,
		Progress: e.stdout, Terminal: isTerminal(e.stdout), Fast: fast}, *threads))
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: %v\n", err)
		return exitUsage
	}
	if *detach {
		return e.detach(ctx, r)
	}
	sum, err := r.Run(ctx)
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: %v\n", err)
		return exitFailure
	}
	parts := []string{}
	for _, st := range []state.Node{state.Succeeded, state.Cached, state.Failed, state.Skipped, state.Interrupted} {
		if n := sum.Count(st); n > 0 || st == state.Succeeded || st == state.Cached {
			parts = append(parts, fmt.Sprintf("%d %s", n, st.Label()))
		}
	}
	fmt.Fprintf(e.stdout, "done in %s: %s\n", sum.Duration.Round(1e6), strings.Join(parts, ", "))
	if ctx.Err() != nil {
		fmt.Fprintln(e.stderr, "pcamflow: interrupted")
		return 130
	}
	if !sum.OK() {
		return exitFailure
	}
	return exitOK
}

// detach submits the remaining DAG to Slurm and prints the job ids.
func (e *env) detach(ctx context.Context, r *runner.Runner) int {
	d, err := r.Detach(ctx)
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: %v\n", err)
		return exitFailure
	}
	for _, f := range d.InFlight {
		fmt.Fprintf(e.stdout, "  in flight %s: not submitted again\n", f)
	}
	fmt.Fprintf(e.stdout, "detached run %s: %d job(s) submitted, %d node(s) cached; `pcamflow status` reports progress\n",
		d.RunID, len(d.Jobs), d.Cached)
	return exitOK
}

// isTerminal reports whether w is an interactive terminal (progress bars) rather than a file or pipe.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// fastNoop finishes a run whose fingerprint shows that nothing changed since the last fully
// successful run of the same invocation: it records the run with every node cached and prints the
// usual summary, without parsing the pipeline. done is false when a full run is needed.
func (e *env) fastNoop(k runner.FastKey, args []string) (code int, done bool) {
	if _, err := os.Stat(e.workspace); err != nil {
		return 0, false
	}
	start := time.Now()
	last, err := runner.FastNoop(e.workspace, k)
	if err != nil {
		return 0, false
	}
	prev := last.RunID
	var nodes []runner.FastNode
	for _, n := range last.Nodes {
		if n.Parent == "" { // children of cached parents are listed by plan, not by a no-op run
			nodes = append(nodes, n)
		}
	}
	db, err := e.openDB()
	if err != nil {
		return 0, false
	}
	defer db.Close()
	id := track.NewRunID(start)
	host, _ := os.Hostname()
	var b strings.Builder
	fmt.Fprintf(&b, "run %s: %d node(s), nothing changed since run %s (no-op: checked by stat, pipeline not re-planned)\n", id, len(nodes), prev)
	for _, n := range nodes {
		fmt.Fprintf(&b, "  cached   %s\n", n.Node)
	}
	run := track.Run{ID: id, Pipeline: last.Pipeline, File: k.File, Args: append([]string{"run"}, args...), Host: host,
		PID: os.Getpid(), Started: start, Finished: time.Now(), Status: state.RunSucceeded}
	if err := db.RecordNoop(run, prev); err != nil {
		return 0, false
	}
	fmt.Fprintf(&b, "done in %s: 0 ran, %d cached\n", time.Since(start).Round(time.Millisecond), len(nodes))
	fmt.Fprint(e.stdout, b.String())
	return exitOK, true
}
