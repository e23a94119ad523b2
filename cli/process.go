package cli

import (
	"os"
	"runtime"
	"runtime/debug"

	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/model"
	"github.com/pcamflow/pcamflow/runner"
)

// executionGCPercent is the garbage collector percentage node executions run with. main loads
// pipelines with a lazy collector (GOGC 400); stage kinds that stream data or train hold large live
// heaps, where that would multiply peak memory, so executions use the default unless the user set
// GOGC.
func executionGCPercent() int {
	if os.Getenv("GOGC") != "" {
		return 0 // the user's setting stands
	}
	return 100
}

// planGCPercent is the garbage collector percentage `plan` loads and plans with: the default,
// unless the user set GOGC (then -1: theirs stands). main's lazy 400 made the plan of a
// 100,000-node fan-out peak at 1.0–1.16 GB against 0.78–0.86 GB with 100, for the same CPU time
// within noise (docs/bench-plan.md).
func planGCPercent() int {
	if os.Getenv("GOGC") != "" {
		return -1
	}
	return 100
}

// withProcessOptions completes the options of a command that executes nodes with the settings
// that belong to the whole process: the garbage collector percentage of executions and the kernel
// thread count. The thread count is set here, once, before anything executes (0: every core); no
// node changes it, and every node reads it from its Env.
func withProcessOptions(opt runner.Options, threads int) runner.Options {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	model.SetThreads(threads)
	opt.GCPercent, opt.Threads = executionGCPercent(), threads
	return opt
}

// parseExecutor reads an --executor value: "" (each stage's own), local or slurm.
func parseExecutor(s string) (state.Executor, bool) {
	if s == "" {
		return "", true
	}
	ex, ok := state.ParseExecutor(s)
	return ex, ok
}

// setPlanGCPercent applies planGCPercent to the process (plan executes nothing: no node's setting
// is involved).
func setPlanGCPercent() {
	if pct := planGCPercent(); pct >= 0 {
		debug.SetGCPercent(pct)
	}
}
