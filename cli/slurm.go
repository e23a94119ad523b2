package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pcamflow/pcamflow/runner"
)

// slurmOptions builds the command a Slurm job runs to execute a node of this pipeline: this very
// binary, the same workspace (absolute), `exec`, the same pipeline file and variables.
func (e *env) slurmOptions(pos []string, lo *loadOptions) (runner.SlurmOptions, error) {
	exe, err := os.Executable()
	if err != nil {
		return runner.SlurmOptions{}, fmt.Errorf("finding the pcamflow binary for Slurm jobs: %w", err)
	}
	ws, err := filepath.Abs(e.workspace)
	if err != nil {
		return runner.SlurmOptions{}, err
	}
	cmd := []string{exe, "--workspace", ws, "exec"}
	for _, f := range pos {
		abs, err := filepath.Abs(f)
		if err != nil {
			return runner.SlurmOptions{}, err
		}
		cmd = append(cmd, abs)
	}
	for _, v := range lo.vars {
		cmd = append(cmd, "-var", v)
	}
	for _, f := range lo.varFiles {
		abs, err := filepath.Abs(f)
		if err != nil {
			return runner.SlurmOptions{}, err
		}
		cmd = append(cmd, "-var-file", abs)
	}
	env := map[string]string{"PATH": os.Getenv("PATH")}
	for _, name := range []string{"PCAMFLOW_TEST_MAIN", "HOME"} {
		if v := os.Getenv(name); v != "" {
			env[name] = v
		}
	}
	opt := runner.SlurmOptions{Command: cmd, Env: env}
	if s := os.Getenv("PCAMFLOW_SLURM_POLL"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return runner.SlurmOptions{}, fmt.Errorf("PCAMFLOW_SLURM_POLL=%q is not a duration such as 500ms", s)
		}
		opt.PollInterval = d
	}
	return opt, nil
}
