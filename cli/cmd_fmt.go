package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/pcamflow/pcamflow/internal/atomicfile"
	"github.com/pcamflow/pcamflow/pipelines"
)

func cmdFmt(_ context.Context, e *env, args []string) int {
	fs := newFlags(e, "fmt", "[FILE...]", "Rewrites pipeline files in canonical HCL format (in place).\nWith -check, changes nothing and exits 1 listing the files that would change.")
	check := fs.Bool("check", false, "only check; list files that are not formatted and exit 1")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(files) == 0 {
		files = []string{defaultPipeline}
	}
	code := exitOK
	for _, f := range files {
		changed, err := formatFile(e, f, *check)
		if err != nil {
			code = exitFailure
			continue
		}
		if changed {
			fmt.Fprintln(e.stdout, f)
			if *check {
				code = exitFailure
			}
		}
	}
	return code
}

// formatFile formats one file; it reports syntax errors as diagnostics and writes atomically.
func formatFile(e *env, path string, check bool) (changed bool, err error) {
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: %v\n", err)
		return false, err
	}
	diags := pipelines.CheckSource(path, src)
	if !diags.HasErrors() {
		_, diags = hclsyntax.ParseConfig(src, path, hcl.Pos{Line: 1, Column: 1})
	}
	if diags.HasErrors() {
		pipelines.WriteDiagnostics(e.stderr, diags, map[string][]byte{path: src})
		return false, diags
	}
	out := hclwrite.Format(src)
	if bytes.Equal(out, src) {
		return false, nil
	}
	if check {
		return true, nil
	}
	if err := writeAtomic(path, out); err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: writing %s: %v\n", path, err)
		return false, err
	}
	return true, nil
}

// writeAtomic replaces path with data, keeping its mode.
func writeAtomic(path string, data []byte) error {
	return atomicfile.Write(path, data, 0o644)
}
