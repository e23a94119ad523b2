package slurm

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// ArrayTaskID is the placeholder a Command argument may contain to receive the array task index.
// In an array job, Render turns every occurrence into a double-quoted "${SLURM_ARRAY_TASK_ID}"
// expansion (a number set by Slurm); all other text stays single-quoted. Outside array jobs the
// placeholder is passed verbatim like any other text.
const ArrayTaskID = "${SLURM_ARRAY_TASK_ID}"

// ArraySpec describes a job array.
type ArraySpec struct {
	// Indices are the task indices to run; they must be non-negative and are rendered as compact
	// ranges (0-9,12). Duplicates are removed and order does not matter.
	Indices []int
	// Parallel, when positive, caps how many tasks run at once (the %N throttle of --array).
	Parallel int
}

// JobSpec describes one Slurm batch job or job array. Only Command is required; every empty
// field leaves the corresponding sbatch option out so that the cluster's defaults apply.
type JobSpec struct {
	// Name is the job name (--job-name).
	Name string
	// Partition, Account, QOS and Constraint map to the sbatch options of the same names.
	Partition, Account, QOS, Constraint string
	// CPUs is the number of CPUs per task (--cpus-per-task); zero leaves it out.
	CPUs int
	// Mem is the memory per node (--mem), a positive integer with an optional K, M, G or T suffix.
	Mem string
	// Time is the time limit (--time) in a Slurm format: minutes, minutes:seconds,
	// hours:minutes:seconds, days-hours, days-hours:minutes or days-hours:minutes:seconds.
	Time string
	// GPUs is the number of GPUs (--gres=gpu:N); zero requests none.
	GPUs int
	// ExtraArgs are further sbatch options, each one option such as "--exclusive" or "--nice=10".
	ExtraArgs []string
	// Array, when non-nil, makes this a job array.
	Array *ArraySpec
	// Dependency lists job ids this job must wait for (--dependency=afterok:id:id...).
	Dependency []string
	// WorkDir is the directory the job runs in (--chdir).
	WorkDir string
	// Output and Error are the stdout/stderr paths; use %A and %a in arrays, %j otherwise.
	// An empty Error sends stderr into Output; an empty Output uses Slurm's default
	// (slurm-%j.out, or slurm-%A_%a.out for arrays) in the working directory.
	Output, Error string
	// Env holds variables exported before the command runs; names must be shell identifiers.
	Env map[string]string
	// Command is the argv to run; every element is passed verbatim (see ArrayTaskID).
	Command []string
	// Requeue allows Slurm to requeue the job after a node failure or preemption (--requeue);
	// false renders --no-requeue so that a job never reruns behind the caller's back.
	Requeue bool
	// ResultDir, when set, makes the script record the command's exit status in
	// ResultDir/<key>.exit (key as in TaskStatus.Key), written atomically, so exit codes are
	// known without accounting. The command then runs as a child of the script instead of
	// replacing it with exec.
	ResultDir string
}

var (
	memPattern  = regexp.MustCompile(`^[1-9][0-9]*[KMGTkmgt]?$`)
	timePattern = regexp.MustCompile(`^([0-9]+|[0-9]+:[0-9]{1,2}|[0-9]+:[0-9]{1,2}:[0-9]{1,2}|[0-9]+-[0-9]+|[0-9]+-[0-9]+:[0-9]{1,2}|[0-9]+-[0-9]+:[0-9]{1,2}:[0-9]{1,2}|UNLIMITED|infinite)$`)
	envPattern  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	jobIDRegexp = regexp.MustCompile(`^[0-9]+(_[0-9]+)?$`)
)

// Validate reports every problem of the spec that would make Render produce a wrong or unsafe
// script, joined into one error naming the offending fields; it returns nil for a valid spec.
func (s JobSpec) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	for _, f := range []struct{ field, value string }{
		{"Name", s.Name}, {"Partition", s.Partition}, {"Account", s.Account}, {"QOS", s.QOS},
		{"Constraint", s.Constraint}, {"WorkDir", s.WorkDir}, {"Output", s.Output}, {"Error", s.Error},
	} {
		add(checkDirectiveValue(f.field, f.value))
	}
	add(s.validateNumbers())
	for i, a := range s.ExtraArgs {
		add(checkExtraArg(i, a))
	}
	for _, d := range s.Dependency {
		if !jobIDRegexp.MatchString(d) {
			add(fmt.Errorf("Dependency: %q is not a Slurm job id", d))
		}
	}
	add(s.validateArray())
	add(s.validateCommand())
	add(s.validateEnv())
	if strings.ContainsRune(s.ResultDir, 0) {
		add(errors.New("ResultDir: contains a NUL byte"))
	}
	return errors.Join(errs...)
}

func (s JobSpec) validateNumbers() error {
	var errs []error
	if s.CPUs < 0 {
		errs = append(errs, fmt.Errorf("CPUs: %d is negative", s.CPUs))
	}
	if s.GPUs < 0 {
		errs = append(errs, fmt.Errorf("GPUs: %d is negative", s.GPUs))
	}
	if s.Mem != "" && !memPattern.MatchString(s.Mem) {
		errs = append(errs, fmt.Errorf("Mem: %q is not a memory size like 4096, 500M or 16G", s.Mem))
	}
	if s.Time != "" && !timePattern.MatchString(s.Time) {
		errs = append(errs, fmt.Errorf("Time: %q is not a Slurm time limit like 30, 1:30:00 or 2-00:00:00", s.Time))
	}
	return errors.Join(errs...)
}

func (s JobSpec) validateArray() error {
	if s.Array == nil {
		return nil
	}
	if len(s.Array.Indices) == 0 {
		return errors.New("Array: no task indices")
	}
	for _, i := range s.Array.Indices {
		if i < 0 {
			return fmt.Errorf("Array: index %d is negative", i)
		}
	}
	if s.Array.Parallel < 0 {
		return fmt.Errorf("Array: Parallel %d is negative", s.Array.Parallel)
	}
	return nil
}

func (s JobSpec) validateCommand() error {
	if len(s.Command) == 0 || s.Command[0] == "" {
		return errors.New("Command: empty argv")
	}
	for i, a := range s.Command {
		if strings.ContainsRune(a, 0) {
			return fmt.Errorf("Command: argument %d contains a NUL byte, which no process can receive", i)
		}
	}
	return nil
}

func (s JobSpec) validateEnv() error {
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		if !envPattern.MatchString(k) {
			errs = append(errs, fmt.Errorf("Env: %q is not a valid variable name", k))
		}
		if strings.ContainsRune(s.Env[k], 0) {
			errs = append(errs, fmt.Errorf("Env: value of %s contains a NUL byte", k))
		}
	}
	return errors.Join(errs...)
}

// checkDirectiveValue rejects values that cannot be written safely on an #SBATCH line: sbatch
// parses those lines itself, splitting on white space and interpreting quotes, and a newline
// would end the comment and turn the rest into shell code.
func checkDirectiveValue(field, v string) error {
	for _, r := range v {
		switch {
		case r == '\n' || r == '\r':
			return fmt.Errorf("%s: %q contains a line break, which would escape the #SBATCH line", field, v)
		case unicode.IsSpace(r) || unicode.IsControl(r):
			return fmt.Errorf("%s: %q contains white space or a control character, which sbatch would split", field, v)
		case r == '"' || r == '\'' || r == '\\':
			return fmt.Errorf("%s: %q contains a quote or backslash, which sbatch would interpret", field, v)
		}
	}
	return nil
}

func checkExtraArg(i int, a string) error {
	if !strings.HasPrefix(a, "-") {
		return fmt.Errorf("ExtraArgs[%d]: %q is not an option (it must start with -)", i, a)
	}
	return checkDirectiveValue(fmt.Sprintf("ExtraArgs[%d]", i), a)
}
