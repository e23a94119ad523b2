package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/hashicorp/hcl/v2"

	"github.com/pcamflow/pcamflow/pipelines"
)

// defaultPipeline is the file used when a command is given none.
const defaultPipeline = "pipelines/quickstart.hcl"

// loadOptions are the pipeline-loading options shared by plan, run, graph and validate.
type loadOptions struct {
	vars     listFlag
	varFiles listFlag
}

// resolveFile picks the pipeline: the argument, else pipelines/quickstart.hcl in the working
// directory, else the quickstart embedded in the binary (returned as src with a display name).
func resolveFile(args []string) (name string, src []byte, err error) {
	if len(args) > 1 {
		return "", nil, fmt.Errorf("expected at most one pipeline FILE, got %d: %v", len(args), args)
	}
	name = defaultPipeline
	if len(args) == 1 {
		name = args[0]
	}
	src, err = os.ReadFile(name)
	if err == nil {
		return name, src, nil
	}
	if len(args) == 0 && errors.Is(err, fs.ErrNotExist) {
		return "<built-in>/quickstart.hcl", pipelines.Quickstart, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, fmt.Errorf("pipeline file %s does not exist", name)
	}
	return "", nil, fmt.Errorf("reading pipeline file: %w", err)
}

// load resolves and loads the pipeline, printing diagnostics to stderr. It returns nil when the
// pipeline is invalid (diagnostics printed) or cannot be read (message printed).
func (e *env) load(args []string, lo *loadOptions) *pipelines.Pipeline {
	name, src, err := resolveFile(args)
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: %v\n", err)
		return nil
	}
	p, diags := pipelines.Load(name, src, registry(), pipelines.Options{
		Vars: lo.vars, VarFiles: lo.varFiles, Getenv: os.Getenv})
	sources := map[string][]byte{name: src}
	for _, f := range lo.varFiles {
		if b, err := os.ReadFile(f); err == nil {
			sources[f] = b
		}
	}
	if len(diags) > 0 {
		pipelines.WriteDiagnostics(e.stderr, diags, sources)
		if diags.HasErrors() {
			fmt.Fprintf(e.stderr, "\n%s: %s\n", name, countErrors(diags))
		}
	}
	return p
}

// countErrors says "1 error" or "N errors".
func countErrors(diags hcl.Diagnostics) string {
	n := 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			n++
		}
	}
	if n == 1 {
		return "1 error"
	}
	return fmt.Sprintf("%d errors", n)
}

// projectDir is the project root: the working directory.
func projectDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the working directory: %w", err)
	}
	return filepath.Abs(wd)
}

// sortedKeys returns the keys of m in sorted order.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
