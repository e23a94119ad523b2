// Command pcamflow runs machine-learning pipelines for PatchCamelyon from declarative HCL files as a
// content-hashed, cached DAG. See the README for the quick start and the CLI reference.
package main

import (
	"os"
	"runtime/debug"
	"runtime/pprof"

	"github.com/pcamflow/pcamflow/cli"
)

func main() {
	// pcamflow is a short-lived process that allocates a lot while loading big pipelines: a lazier
	// collector saves a third of the load time. GOGC in the environment still wins. Commands that
	// measured better otherwise set their own once they start (plan: 100; node executions: see
	// cli/process.go).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if path := os.Getenv("PCAMFLOW_CPUPROFILE"); path != "" {
		os.Exit(profiled(path))
	}
	os.Exit(cli.Main())
}

// profiled runs the command line while writing a CPU profile to path (for performance work).
func profiled(path string) int {
	f, err := os.Create(path)
	if err == nil && pprof.StartCPUProfile(f) == nil {
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	return cli.Main()
}
