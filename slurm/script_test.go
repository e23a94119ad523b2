package slurm

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// hostile are values a pipeline might pass that must reach the program verbatim and never run.
func hostile(canary string) []string {
	return []string{
		`"; rm -rf ~`,
		`'$(reboot)'`,
		`$(touch ` + canary + `)`,
		"`touch " + canary + "`",
		`'; touch ` + canary + `; '`,
		"line one\nline two; touch " + canary,
		`$HOME ${PATH} $0 $@ *`,
		`back\slash \' \"`,
		"it's",
		"",
		"--flag=value with spaces",
		"${SLURM_ARRAY_TASK_ID}", // verbatim outside arrays
		"tab\tand\rcarriage",
		"ünïcödé ✓",
	}
}

// runScript runs a rendered script with bash in dir, with the given extra environment.
func runScript(t *testing.T, script, dir string, env ...string) error {
	t.Helper()
	path := filepath.Join(dir, "job.sh")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", path)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return errors.Join(err, errors.New(string(out)))
	}
	return nil
}

func TestRenderPassesHostileValuesVerbatim(t *testing.T) {
	dir := t.TempDir()
	canary := filepath.Join(dir, "canary")
	out := filepath.Join(dir, "args.json")
	values := hostile(canary)
	for _, withResult := range []bool{false, true} {
		spec := JobSpec{
			Name:    "hostile",
			Command: append([]string{testBinary(t)}, values...),
			Env:     map[string]string{echoArgsEnv: out, "PCAMFLOW_PARAM": `"; rm -rf ~ '$(reboot)'`},
		}
		if withResult {
			spec.ResultDir = filepath.Join(dir, "results")
		}
		script, err := Render(spec)
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		if err := runScript(t, script, dir); err != nil {
			t.Fatalf("run rendered script (result file %v): %v\n%s", withResult, err, script)
		}
		if got := readArgs(t, out); !slices.Equal(got, values) {
			t.Errorf("argv changed by the script (result file %v):\n got %q\nwant %q", withResult, got, values)
		}
		if _, err := os.Stat(canary); err == nil {
			t.Fatalf("a value was executed as shell code: %s exists\n%s", canary, script)
		}
	}
}

func TestRenderExportsEnvVerbatim(t *testing.T) {
	dir := t.TempDir()
	val := "a'b\"c $(touch " + filepath.Join(dir, "canary") + ")\nnext line"
	spec := JobSpec{
		Env:     map[string]string{"PCAMFLOW_VALUE": val},
		Command: []string{"bash", "-c", `printf '%s' "$PCAMFLOW_VALUE" > value.txt`},
	}
	script, err := Render(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := runScript(t, script, dir); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "value.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != val {
		t.Errorf("env value = %q, want %q", got, val)
	}
	if _, err := os.Stat(filepath.Join(dir, "canary")); err == nil {
		t.Fatal("an env value was executed as shell code")
	}
}

func TestRenderArrayTaskIDPlaceholder(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "args.json")
	spec := JobSpec{
		Array: &ArraySpec{Indices: []int{7}},
		Command: []string{testBinary(t), "--index=" + ArrayTaskID, ArrayTaskID,
			"'$(touch x)'" + ArrayTaskID + "'$(touch y)'", "plain"},
		Env: map[string]string{echoArgsEnv: out},
	}
	script, err := Render(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := runScript(t, script, dir, "SLURM_ARRAY_TASK_ID=7"); err != nil {
		t.Fatalf("%v\n%s", err, script)
	}
	want := []string{"--index=7", "7", "'$(touch x)'7'$(touch y)'", "plain"}
	if got := readArgs(t, out); !slices.Equal(got, want) {
		t.Errorf("argv = %q, want %q", got, want)
	}
}

func TestRenderDirectives(t *testing.T) {
	spec := JobSpec{
		Name: "train-seed", Partition: "gpu_course", Account: "course", QOS: "normal", CPUs: 4, Mem: "16G",
		Time: "1:30:00", GPUs: 1, Constraint: "a100&ib", ExtraArgs: []string{"--exclusive", "--nice=10"},
		Array:      &ArraySpec{Indices: []int{12, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9}, Parallel: 4},
		Dependency: []string{"100", "101_3"}, WorkDir: "/w", Output: "/w/logs/%A_%a.out",
		Error: "/w/logs/%A_%a.err", Env: map[string]string{"B": "2", "A": "1"},
		Command: []string{"pcamflow", "exec", "--index", ArrayTaskID}, Requeue: true,
	}
	got, err := Render(spec)
	if err != nil {
		t.Fatal(err)
	}
	want := `#!/bin/bash
# Slurm batch script rendered by pcamflow. Review freely: this is exactly what is submitted.
# Job: train-seed
#SBATCH --job-name=train-seed
#SBATCH --partition=gpu_course
#SBATCH --account=course
#SBATCH --qos=normal
#SBATCH --cpus-per-task=4
#SBATCH --mem=16G
#SBATCH --time=1:30:00
#SBATCH --gres=gpu:1
#SBATCH --constraint=a100&ib
#SBATCH --array=0-9,12%4
#SBATCH --dependency=afterok:100:101_3
#SBATCH --chdir=/w
#SBATCH --output=/w/logs/%A_%a.out
#SBATCH --error=/w/logs/%A_%a.err
#SBATCH --requeue
#SBATCH --exclusive
#SBATCH --nice=10

set -euo pipefail
export A='1'
export B='2'
exec 'pcamflow' 'exec' '--index' "${SLURM_ARRAY_TASK_ID}"
`
	if got != want {
		t.Errorf("Render:\n%s\nwant:\n%s", got, want)
	}
	again, _ := Render(spec)
	if again != got {
		t.Error("Render is not deterministic")
	}
	minimal, err := Render(JobSpec{Command: []string{"true"}})
	if err != nil || !strings.Contains(minimal, "#SBATCH --no-requeue\n") || strings.Contains(minimal, "--job-name") {
		t.Errorf("minimal spec rendered wrongly (err %v):\n%s", err, minimal)
	}
}

func TestRenderRejectsInvalidSpecs(t *testing.T) {
	ok := JobSpec{Command: []string{"true"}}
	tests := []struct {
		name   string
		modify func(*JobSpec)
		want   string
	}{
		{"newline in name", func(s *JobSpec) { s.Name = "x\n#SBATCH --uid=0" }, "Name: "},
		{"newline in partition", func(s *JobSpec) { s.Partition = "gpu\nrm -rf ~" }, "line break"},
		{"space in output", func(s *JobSpec) { s.Output = "/a b/%j.out" }, "Output: "},
		{"quote in account", func(s *JobSpec) { s.Account = `a"b` }, "quote"},
		{"extra arg not an option", func(s *JobSpec) { s.ExtraArgs = []string{"rm"} }, "ExtraArgs[0]"},
		{"extra arg newline", func(s *JobSpec) { s.ExtraArgs = []string{"--x\n--y"} }, "line break"},
		{"bad mem", func(s *JobSpec) { s.Mem = "4 GB" }, "Mem: "},
		{"bad time", func(s *JobSpec) { s.Time = "1h" }, "Time: "},
		{"negative cpus", func(s *JobSpec) { s.CPUs = -1 }, "CPUs: "},
		{"negative gpus", func(s *JobSpec) { s.GPUs = -2 }, "GPUs: "},
		{"bad dependency", func(s *JobSpec) { s.Dependency = []string{"1;reboot"} }, "Dependency: "},
		{"empty array", func(s *JobSpec) { s.Array = &ArraySpec{} }, "no task indices"},
		{"negative index", func(s *JobSpec) { s.Array = &ArraySpec{Indices: []int{-1}} }, "negative"},
		{"empty command", func(s *JobSpec) { s.Command = nil }, "Command: empty"},
		{"NUL in argument", func(s *JobSpec) { s.Command = []string{"echo", "a\x00b"} }, "NUL"},
		{"bad env name", func(s *JobSpec) { s.Env = map[string]string{"A;B": "x"} }, "not a valid variable name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := ok
			tc.modify(&spec)
			_, err := Render(spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Render error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestRenderResultFileRecordsExitStatus(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		code int
		key  string
	}{
		{"plain job fails", []string{"SLURM_JOB_ID=42"}, 3, "42"},
		{"plain job succeeds", []string{"SLURM_JOB_ID=43"}, 0, "43"},
		{"array task", []string{"SLURM_JOB_ID=51", "SLURM_ARRAY_JOB_ID=50", "SLURM_ARRAY_TASK_ID=2"}, 7, "50_2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			results := filepath.Join(dir, "res ults") // a space must not matter
			spec := JobSpec{Command: []string{"sh", "-c", "exit " + string(rune('0'+tc.code))}, ResultDir: results}
			script, err := Render(spec)
			if err != nil {
				t.Fatal(err)
			}
			err = runScript(t, script, dir, tc.env...)
			var ee *exec.ExitError
			switch {
			case tc.code == 0 && err != nil:
				t.Fatalf("script failed: %v", err)
			case tc.code != 0 && (!errors.As(err, &ee) || ee.ExitCode() != tc.code):
				t.Fatalf("script exit = %v, want %d", err, tc.code)
			}
			code, ok, err := ReadResult(results, tc.key)
			if err != nil || !ok || code != tc.code {
				t.Fatalf("ReadResult(%s) = %d, %v, %v; want %d, true, nil", tc.key, code, ok, err, tc.code)
			}
			entries, _ := os.ReadDir(results)
			if len(entries) != 1 {
				t.Errorf("result dir holds %d entries, want only the result file", len(entries))
			}
		})
	}
}
