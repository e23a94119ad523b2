package slurm

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Render returns the sbatch script for spec: a header comment, one #SBATCH line per option,
// `set -euo pipefail`, the exported Env, and the Command. Every value taken from the spec is
// single-quoted in the shell part, so no value can become shell code; values on #SBATCH lines are
// validated instead (no line breaks, white space or quotes). The output is deterministic: the same
// spec always renders to the same bytes. It returns the validation error for an invalid spec.
func Render(spec JobSpec) (string, error) {
	if err := spec.Validate(); err != nil {
		return "", fmt.Errorf("render sbatch script for job %q: %w", spec.Name, err)
	}
	var b strings.Builder
	b.WriteString("#!/bin/bash\n")
	b.WriteString("# Slurm batch script rendered by pcamflow. Review freely: this is exactly what is submitted.\n")
	if spec.Name != "" {
		fmt.Fprintf(&b, "# Job: %s\n", spec.Name)
	}
	for _, d := range directives(spec) {
		fmt.Fprintf(&b, "#SBATCH %s\n", d)
	}
	b.WriteString("\nset -euo pipefail\n")
	for _, k := range slices.Sorted(maps.Keys(spec.Env)) {
		fmt.Fprintf(&b, "export %s=%s\n", k, ShellQuote(spec.Env[k]))
	}
	argv := renderArgv(spec)
	if spec.ResultDir == "" {
		fmt.Fprintf(&b, "exec %s\n", argv)
		return b.String(), nil
	}
	writeResultEpilogue(&b, argv, spec.ResultDir)
	return b.String(), nil
}

// directives lists the sbatch options of spec in a fixed order.
func directives(spec JobSpec) []string {
	var d []string
	opt := func(name, v string) {
		if v != "" {
			d = append(d, "--"+name+"="+v)
		}
	}
	opt("job-name", spec.Name)
	opt("partition", spec.Partition)
	opt("account", spec.Account)
	opt("qos", spec.QOS)
	if spec.CPUs > 0 {
		opt("cpus-per-task", strconv.Itoa(spec.CPUs))
	}
	opt("mem", spec.Mem)
	opt("time", spec.Time)
	if spec.GPUs > 0 {
		opt("gres", "gpu:"+strconv.Itoa(spec.GPUs))
	}
	opt("constraint", spec.Constraint)
	if spec.Array != nil {
		a := CompactRanges(spec.Array.Indices)
		if spec.Array.Parallel > 0 {
			a += "%" + strconv.Itoa(spec.Array.Parallel)
		}
		opt("array", a)
	}
	if len(spec.Dependency) > 0 {
		opt("dependency", "afterok:"+strings.Join(spec.Dependency, ":"))
	}
	opt("chdir", spec.WorkDir)
	opt("output", spec.Output)
	opt("error", spec.Error)
	if spec.Requeue {
		d = append(d, "--requeue")
	} else {
		d = append(d, "--no-requeue")
	}
	return append(d, spec.ExtraArgs...)
}

// renderArgv quotes every argument; in array jobs the ArrayTaskID placeholder becomes a
// double-quoted expansion of the task id that Slurm sets.
func renderArgv(spec JobSpec) string {
	parts := make([]string, len(spec.Command))
	for i, a := range spec.Command {
		if spec.Array == nil || !strings.Contains(a, ArrayTaskID) {
			parts[i] = ShellQuote(a)
			continue
		}
		pieces := strings.Split(a, ArrayTaskID)
		var w strings.Builder
		for j, p := range pieces {
			if j > 0 {
				w.WriteString(`"${SLURM_ARRAY_TASK_ID}"`)
			}
			if p != "" {
				w.WriteString(ShellQuote(p))
			}
		}
		parts[i] = w.String()
	}
	return strings.Join(parts, " ")
}

// writeResultEpilogue runs argv as a child and records its exit status in the result directory
// atomically (temporary file + rename), then exits with that status.
func writeResultEpilogue(b *strings.Builder, argv, dir string) {
	fmt.Fprintf(b, "pcamflow_result_dir=%s\n", ShellQuote(dir))
	b.WriteString(`if [ -n "${SLURM_ARRAY_JOB_ID:-}" ]; then pcamflow_key="${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"; else pcamflow_key="${SLURM_JOB_ID:-local}"; fi` + "\n")
	b.WriteString("set +e\n")
	b.WriteString(argv + "\n")
	b.WriteString("pcamflow_rc=$?\n")
	b.WriteString("set -e\n")
	b.WriteString(`mkdir -p "$pcamflow_result_dir"` + "\n")
	b.WriteString(`printf '%s\n' "$pcamflow_rc" >"$pcamflow_result_dir/.$pcamflow_key.exit.$$"` + "\n")
	b.WriteString(`mv -f "$pcamflow_result_dir/.$pcamflow_key.exit.$$" "$pcamflow_result_dir/$pcamflow_key.exit"` + "\n")
	b.WriteString(`exit "$pcamflow_rc"` + "\n")
}

// ShellQuote returns s as one single-quoted POSIX shell word that evaluates to exactly s: single
// quote inside is closed, escaped with a backslash and reopened. Nothing inside single quotes is
// expanded by the shell.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
