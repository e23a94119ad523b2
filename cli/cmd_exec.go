package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/pcamflow/pcamflow/runner"
	"github.com/pcamflow/pcamflow/slurm"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/track"
)

// cmdExec executes one node inside a Slurm job (or by hand): the node named by --node, or the
// --index-th entry of a nodes file written by the runner. It publishes outputs into the cache like a
// local run and writes a result file for the runner; it never opens the SQLite database.
func cmdExec(ctx context.Context, e *env, args []string) int {
	lo := &loadOptions{}
	fs := newFlags(e, "exec", "[FILE]", "Executes one node (used by Slurm jobs; the runner writes the command line).")
	fs.Var(&lo.vars, "var", "set a variable: `name=value` (repeatable)")
	fs.Var(&lo.varFiles, "var-file", "read variable values from an HCL `FILE` (repeatable)")
	runID := fs.String("run-id", "", "the run this execution belongs to")
	node := fs.String("node", "", "the node `ADDRESS` to execute")
	nodesFile := fs.String("nodes-file", "", "a nodes `FILE` written by the runner (with --index)")
	index := fs.Int("index", -1, "the entry of --nodes-file to execute (the Slurm array task id)")
	result := fs.String("result", "", "write the result record to this `FILE`")
	threads := fs.Int("threads", 0, "kernel threads (`N`; default: all cores)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	spec := runner.ExecSpec{Node: *node, Result: *result}
	if *nodesFile != "" {
		if spec, err = readExecSpec(*nodesFile, *index); err != nil {
			fmt.Fprintf(e.stderr, "pcamflow exec: %v\n", err)
			return exitUsage
		}
	}
	if spec.Node == "" {
		return usageError(e.stderr, "exec needs --node ADDRESS or --nodes-file FILE --index N")
	}
	if *runID == "" {
		*runID = track.NewRunID(time.Now())
	}
	sess, code := e.open(pos, lo, false, withProcessOptions(runner.Options{Out: e.stdout}, *threads))
	if sess == nil {
		return code
	}
	defer sess.close()
	r := sess.r
	fmt.Fprintf(e.stdout, "pcamflow exec: node %s, run %s, host %s\n", spec.Node, *runID, hostnameOr())
	started := time.Now()
	var rows []track.MetricRow
	collect := func(step int, values map[string]float64) {
		for name, v := range values {
			rows = append(rows, track.MetricRow{Step: step, Name: name, Value: v})
		}
	}
	res, execErr := r.Exec(ctx, spec, *runID, collect)
	code = exitOK
	if err := runner.WriteResult(spec, *runID, res, execErr, started, slurmJobID(), rows); err != nil {
		fmt.Fprintf(e.stderr, "pcamflow exec: writing the result file: %v\n", err)
		code = exitFailure
	}
	if execErr != nil {
		fmt.Fprintf(e.stderr, "pcamflow exec: %s failed: %v\n", spec.Node, execErr)
		if res != nil && res.LogPath != "" {
			if tail, err := slurm.TailFile(res.LogPath, 20); err == nil {
				fmt.Fprintf(e.stderr, "--- node log %s ---\n%s\n", res.LogPath, tail)
			}
		}
		var ee *stages.ExitError
		if errors.As(execErr, &ee) && ee.Code > 0 && ee.Code < 126 {
			return ee.Code // the job's exit code is the command's
		}
		return exitFailure
	}
	fmt.Fprintf(e.stdout, "pcamflow exec: %s %s in %s\n", spec.Node, res.State.Label(), time.Since(started).Round(time.Millisecond))
	return code
}

// readExecSpec returns entry index of a nodes file.
func readExecSpec(path string, index int) (runner.ExecSpec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return runner.ExecSpec{}, fmt.Errorf("reading the nodes file: %w", err)
	}
	var specs []runner.ExecSpec
	if err := json.Unmarshal(data, &specs); err != nil {
		return runner.ExecSpec{}, fmt.Errorf("nodes file %s is corrupt: %w", path, err)
	}
	if index < 0 || index >= len(specs) {
		return runner.ExecSpec{}, fmt.Errorf("nodes file %s has %d entries; --index %d is out of range", path, len(specs), index)
	}
	return specs[index], nil
}

// slurmJobID is the job id ("123" or "123_4") from the Slurm environment, or "".
func slurmJobID() string {
	if a, t := os.Getenv("SLURM_ARRAY_JOB_ID"), os.Getenv("SLURM_ARRAY_TASK_ID"); a != "" && t != "" {
		if _, err := strconv.Atoi(t); err == nil {
			return a + "_" + t
		}
	}
	return os.Getenv("SLURM_JOB_ID")
}

func hostnameOr() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}
