// Package command implements the "command" stage kind: any external program with declared inputs
// and outputs, run without a shell unless the user writes one.
package command

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/internal/ctyelem"
	"github.com/pcamflow/pcamflow/internal/projectpath"
	"github.com/pcamflow/pcamflow/stages"
)

// Kind is the command stage kind.
type Kind struct{}

// New returns the command kind.
func New() stages.Kind { return Kind{} }

// Name implements stages.Kind.
func (Kind) Name() string { return "command" }

// Version implements stages.Kind.
func (Kind) Version() string { return "1" }

// Doc implements stages.Kind.
func (Kind) Doc() string {
	return "Runs an external program (argv list, no shell) in the project. Declared inputs and any " +
		"script named in run are hashed into the cache key; declared outputs must exist afterwards " +
		"and are restored from the cache on a hit."
}

// Attrs implements stages.Kind.
func (Kind) Attrs() []stages.Attr {
	return []stages.Attr{
		{Name: "run", Type: cty.List(cty.String), Required: true,
			Doc: `The argv to execute, e.g. ["python3", "train.py"]; write ["sh", "-c", "..."] for a shell.`},
		{Name: "inputs", Type: cty.List(cty.String), Default: cty.ListValEmpty(cty.String),
			Doc: "Project-relative files, folders or glob patterns the command reads; their content is part of the key."},
		{Name: "outputs", Type: cty.DynamicPseudoType, Default: cty.ListValEmpty(cty.String),
			Doc: "Files or folders the command must produce: a list of project-relative paths, or a map name => path."},
		{Name: "env", Type: cty.Map(cty.String), Default: cty.MapValEmpty(cty.String),
			Doc: "Extra environment variables for the command."},
		{Name: "workdir", Type: cty.String, Default: cty.StringVal("."),
			Doc: "Project-relative working directory of the command (paths in inputs/outputs stay project-relative)."},
		{Name: "description", Type: cty.String, NotInKey: true, Default: cty.StringVal(""),
			Doc: "Free text shown by plan and status."},
	}
}

// Expose implements stages.Kind: other stages see `command.NAME.outputs` as the declared list or map of paths.
func (Kind) Expose(cfg cty.Value, _ map[string]stages.Output) cty.Value {
	if !cfg.IsKnown() || cfg.IsNull() {
		return cty.DynamicVal
	}
	return cty.ObjectVal(map[string]cty.Value{"outputs": cfg.GetAttr("outputs")})
}

// Prepare implements stages.Kind.
func (Kind) Prepare(cfg cty.Value, at stages.RangeFunc) (*stages.Task, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	task := &stages.Task{Outputs: map[string]stages.Output{}}
	run := stringList(cfg.GetAttr("run"))
	if run != nil && len(run) == 0 {
		diags = diags.Append(errorAt(at("run"), "Empty command",
			`The run list is empty. Give the program and its arguments, e.g. run = ["python3", "train.py"].`))
	}
	if run != nil && len(run) > 0 && run[0] == "" {
		diags = diags.Append(errorAt(at("run"), "Empty program name", "The first element of run must name the program to execute."))
	}
	workdir := "."
	if wd := cfg.GetAttr("workdir"); wd.IsKnown() && !wd.IsNull() {
		workdir = wd.AsString()
		if msg := checkRelative(workdir); msg != "" {
			diags = diags.Append(errorAt(at("workdir"), "Invalid workdir", "workdir "+msg))
		}
	}
	for _, in := range stringList(cfg.GetAttr("inputs")) {
		if in == "" {
			diags = diags.Append(errorAt(at("inputs"), "Empty input path", "Remove the empty string from inputs."))
			continue
		}
		task.Inputs = append(task.Inputs, in)
	}
	// Files named in run that exist in the project (scripts) are part of the key.
	for _, arg := range run {
		if looksLikePath(arg) {
			task.Optional = append(task.Optional, filepath.Join(workdir, arg))
		}
	}
	diags = append(diags, outputs(cfg.GetAttr("outputs"), at, task.Outputs)...)
	return task, diags
}

// outputs decodes the outputs attribute into res: a list of paths (each named by its path) or a
// map name => path.
func outputs(v cty.Value, at stages.RangeFunc, res map[string]stages.Output) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if !v.IsKnown() || v.IsNull() {
		return nil
	}
	ty := v.Type()
	isMap := ty.IsObjectType() || ty.IsMapType()
	if !isMap && !ty.IsListType() && !ty.IsTupleType() && !ty.IsSetType() {
		return diags.Append(errorAt(at("outputs"), "Incorrect attribute value type",
			`outputs must be a list of paths, e.g. ["results/metrics.json"], or a map such as { metrics = "results/metrics.json" }.`))
	}
	if !isMap {
		// A list names each output by its clean path: res is what was seen.
		for e := range ctyelem.Values(v) {
			if !e.IsKnown() {
				continue
			}
			if clean, d := outputPath(e, at); d != nil {
				diags = diags.Append(d)
			} else if _, dup := res[clean]; dup {
				diags = diags.Append(duplicateOutput(at, e.AsString()))
			} else {
				res[clean] = stages.Output{Path: clean}
			}
		}
		return diags
	}
	seen := map[string]bool{}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if !e.IsKnown() {
			continue
		}
		clean, d := outputPath(e, at)
		switch {
		case d != nil:
			diags = diags.Append(d)
		case seen[clean]:
			diags = diags.Append(duplicateOutput(at, e.AsString()))
		default:
			seen[clean] = true
			res[k.AsString()] = stages.Output{Path: clean}
		}
	}
	return diags
}

// outputPath returns the clean path of one known element of outputs, or why it is not one.
func outputPath(e cty.Value, at stages.RangeFunc) (string, *hcl.Diagnostic) {
	if e.IsNull() || e.Type() != cty.String {
		return "", errorAt(at("outputs"), "Incorrect attribute value type", "Every output must be a path string.")
	}
	p := e.AsString()
	if msg := checkRelative(p); msg != "" {
		return "", errorAt(at("outputs"), "Invalid output path", fmt.Sprintf("Output %q %s", p, msg))
	}
	return filepath.Clean(p), nil
}

func duplicateOutput(at stages.RangeFunc, p string) *hcl.Diagnostic {
	return errorAt(at("outputs"), "Duplicate output path", fmt.Sprintf("Output %q is declared twice; remove one.", p))
}

// checkRelative returns a message when p is not a clean project-relative path.
func checkRelative(p string) string {
	if p == "" {
		return "is empty; give a project-relative path."
	}
	if filepath.IsAbs(p) {
		return "is absolute; outputs and workdir must be relative to the project root."
	}
	c := filepath.Clean(p)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "leaves the project; use a path inside the project root."
	}
	if c == ".pcamflow" || strings.HasPrefix(c, ".pcamflow/") {
		return "is inside the workspace folder .pcamflow, which pcamflow manages."
	}
	return ""
}

// looksLikePath reports whether an argv element could name a script file in the project.
func looksLikePath(arg string) bool {
	if arg == "" || strings.HasPrefix(arg, "-") || strings.ContainsAny(arg, " \n\t$|&;<>*?") {
		return false
	}
	return !filepath.IsAbs(arg) && !strings.HasPrefix(filepath.Clean(arg), "..")
}

// stringList returns the known string elements of a list value, or nil when it is unknown or null.
func stringList(v cty.Value) []string {
	if !v.IsKnown() || v.IsNull() {
		return nil
	}
	out := make([]string, 0, v.LengthInt())
	for e := range ctyelem.Values(v) {
		if e.IsKnown() && !e.IsNull() {
			out = append(out, e.AsString())
		}
	}
	return out
}

func errorAt(r *hcl.Range, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: r}
}

// Execute implements stages.Kind: it removes stale outputs, runs the program in its own process group
// (killed as a whole when ctx ends), and checks that every declared output now exists.
func (Kind) Execute(ctx context.Context, env *stages.Env) error {
	run := stringList(env.Config.GetAttr("run"))
	wd := env.Config.GetAttr("workdir").AsString()
	workdir, err := projectpath.Resolve(env.ProjectDir, wd)
	if err != nil {
		return pathError("workdir", wd, err)
	}
	if err := removeStaleOutputs(env); err != nil {
		return err
	}
	cmd := exec.Command(run[0], run[1:]...)
	cmd.Dir = workdir
	cmd.Stdout, cmd.Stderr = env.Log, env.Log
	cmd.Env = commandEnv(env)
	// Its own process group (so a cancel can kill the whole tree), and SIGTERM when pcamflow dies,
	// so that a killed runner does not leave its command writing into the project.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %q: %w", run[0], err)
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			}
		case <-done:
		}
	}()
	err = cmd.Wait()
	close(done)
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return &stages.ExitError{Code: ee.ExitCode(), Err: err}
		}
		return fmt.Errorf("running %q: %w", run[0], err)
	}
	return checkOutputs(env)
}

// removeStaleOutputs deletes every declared output and creates its folder, so that a file left by
// an earlier run is never taken for a new one. A path whose folders lead out of the project
// through a symbolic link is refused before anything is deleted.
func removeStaleOutputs(env *stages.Env) error {
	names := env.Task.OutputNames()
	rels := map[string]string{}
	for _, name := range names {
		rel, ok := projectpath.Within(env.ProjectDir, env.OutputPaths[name])
		if !ok {
			return pathError("output", env.Task.Outputs[name].Path, &projectpath.EscapeError{Path: env.OutputPaths[name]})
		}
		if _, err := projectpath.ResolveParent(env.ProjectDir, rel); err != nil {
			return pathError("output", env.Task.Outputs[name].Path, err)
		}
		rels[name] = rel
	}
	for _, name := range names {
		rel := rels[name]
		if err := projectpath.RemoveAll(env.ProjectDir, rel); err != nil {
			return pathError("output", rel, fmt.Errorf("removing the stale output: %w", err))
		}
		if err := projectpath.MkdirAll(env.ProjectDir, filepath.Dir(rel)); err != nil {
			return pathError("output", rel, fmt.Errorf("creating its folder: %w", err))
		}
	}
	return nil
}

// pathError says which declared path failed and, for a path leaving the project, how to fix it.
func pathError(what, rel string, err error) error {
	var esc *projectpath.EscapeError
	if errors.As(err, &esc) {
		return &escapeError{esc: esc, msg: fmt.Sprintf("%s %q %s; nothing was deleted. Declare a path inside the project "+
			"(a symbolic link may lead to another folder of the project, not out of it)", what, rel, esc.Reason())}
	}
	return fmt.Errorf("%s %q: %w", what, rel, err)
}

// escapeError is a declared path leaving the project, with the sentence that says how to fix it.
type escapeError struct {
	esc *projectpath.EscapeError
	msg string
}

func (e *escapeError) Error() string { return e.msg }
func (e *escapeError) Unwrap() error { return e.esc }

// checkOutputs fails when a declared output is missing after a successful command.
func checkOutputs(env *stages.Env) error {
	var missing []string
	for _, name := range env.Task.OutputNames() {
		if _, err := os.Lstat(env.OutputPaths[name]); err != nil {
			missing = append(missing, env.Task.Outputs[name].Path)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the command exited 0 but did not produce declared output(s): %s", strings.Join(missing, ", "))
	}
	return nil
}

// commandEnv is the process environment plus PCAMFLOW_* variables and the stage's env map.
func commandEnv(env *stages.Env) []string {
	vars := os.Environ()
	vars = append(vars,
		"PCAMFLOW_NODE="+env.Node,
		"PCAMFLOW_SEED="+strconv.FormatInt(env.Seed, 10),
		"PCAMFLOW_PROJECT="+env.ProjectDir,
		"PCAMFLOW_SCRATCH="+env.ScratchDir)
	extra := env.Config.GetAttr("env")
	keys := []string{}
	m := map[string]string{}
	for it := extra.ElementIterator(); it.Next(); {
		k, v := it.Element()
		keys = append(keys, k.AsString())
		m[k.AsString()] = v.AsString()
	}
	sort.Strings(keys)
	for _, k := range keys {
		vars = append(vars, k+"="+m[k])
	}
	return vars
}
