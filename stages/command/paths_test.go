package command

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/internal/projectpath"
	"github.com/pcamflow/pcamflow/stages"
)

// TestExecuteRefusesPathsOutOfTheProject: an output whose folder is a link out of the project is
// refused before anything is deleted or run, and so is a workdir that leads out.
func TestExecuteRefusesPathsOutOfTheProject(t *testing.T) {
	base := t.TempDir()
	proj, outside := filepath.Join(base, "proj"), filepath.Join(base, "outside")
	for _, d := range []string{proj, outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	victim := filepath.Join(outside, "victim.txt")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(proj, "link")); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(proj, "ran")
	run := []string{"sh", "-c", "touch " + marker}
	cases := []struct {
		name, workdir, output, want string
	}{
		{"output through a link", ".", "link/victim.txt", `output "link/victim.txt" leaves the project through the symbolic link link -> ` + outside},
		{"workdir through a link", "link", "ok.txt", `workdir "link" leaves the project through the symbolic link link -> ` + outside},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg(run, cty.TupleVal([]cty.Value{cty.StringVal(tc.output)}), tc.workdir)
			task, diags := Kind{}.Prepare(c, at)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			env := &stages.Env{Node: "command.w", Config: c, Task: task, ProjectDir: proj, ScratchDir: t.TempDir(),
				OutputPaths: map[string]string{tc.output: filepath.Join(proj, tc.output)}, Log: io.Discard}
			err := Kind{}.Execute(context.Background(), env)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, projectpath.ErrEscape) {
				t.Fatalf("Execute = %v, want an escape error containing %q", err, tc.want)
			}
			if b, _ := os.ReadFile(victim); string(b) != "precious" {
				t.Fatalf("the file outside the project was touched: %q", b)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatal("the command ran")
			}
		})
	}
}
