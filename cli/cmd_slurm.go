package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pcamflow/pcamflow/runner"
)

// cmdSlurm dispatches the slurm subcommands.
func cmdSlurm(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] != "render" {
		return usageError(e.stderr, "usage: pcamflow slurm render [FILE] [-o DIR] [--executor slurm]")
	}
	return cmdSlurmRender(ctx, e, args[1:])
}

// cmdSlurmRender writes the sbatch script of every Slurm stage, for review and version control.
func cmdSlurmRender(_ context.Context, e *env, args []string) int {
	lo := &loadOptions{}
	fs := newFlags(e, "slurm render", "[FILE]", "Writes the sbatch script every Slurm stage would submit (one file per stage with -o,\nelse to stdout). Values from the pipeline are single-quoted: they never become shell.")
	fs.Var(&lo.vars, "var", "set a variable: `name=value` (repeatable)")
	fs.Var(&lo.varFiles, "var-file", "read variable values from an HCL `FILE` (repeatable)")
	outDir := fs.String("o", "", "write one STAGE.sbatch file per stage into `DIR`")
	executorName := fs.String("executor", "", "render every stage as if run with --executor `slurm`")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	executor, ok := parseExecutor(*executorName)
	if !ok {
		return usageError(e.stderr, "--executor must be local or slurm, not %q", *executorName)
	}
	slurmOpt, err := e.slurmOptions(pos, lo)
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: %v\n", err)
		return exitFailure
	}
	sess, code := e.open(pos, lo, false, runner.Options{Executor: executor, Slurm: slurmOpt})
	if sess == nil {
		return code
	}
	defer sess.close()
	r := sess.r
	scripts, err := r.Render()
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: %v\n", err)
		return exitFailure
	}
	if len(scripts) == 0 {
		fmt.Fprintln(e.stderr, "pcamflow: no stage runs on Slurm (set executor = \"slurm\" in a resources block, or --executor slurm)")
		return exitOK
	}
	for _, addr := range sortedKeys(scripts) {
		if *outDir == "" {
			fmt.Fprintf(e.stdout, "# ---- %s ----\n%s\n", addr, scripts[addr])
			continue
		}
		if err := os.MkdirAll(*outDir, 0o755); err != nil {
			fmt.Fprintf(e.stderr, "pcamflow: %v\n", err)
			return exitFailure
		}
		path := filepath.Join(*outDir, runner.FileName(addr)+".sbatch")
		if err := writeAtomic(path, []byte(scripts[addr])); err != nil {
			fmt.Fprintf(e.stderr, "pcamflow: writing %s: %v\n", path, err)
			return exitFailure
		}
		fmt.Fprintln(e.stdout, path)
	}
	return exitOK
}
