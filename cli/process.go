package cli

import (
	"os"
	"runtime"

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
