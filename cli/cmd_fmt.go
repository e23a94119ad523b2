package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"

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
	if _, diags := hclsyntax.ParseConfig(src, path, hcl.Pos{Line: 1, Column: 1}); diags.HasErrors() {
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

// writeAtomic replaces path with data through a temporary file in the same folder, keeping the mode.
func writeAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pcamflow-fmt-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
