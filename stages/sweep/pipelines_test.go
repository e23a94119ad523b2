package sweep_test

import (
	"path/filepath"
	"testing"

	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages/builtin"
)

// TestShippedPipelines checks that the example sweep pipelines load without diagnostics.
func TestShippedPipelines(t *testing.T) {
	for _, name := range []string{"sweep.hcl", "sweep_command.hcl"} {
		p, diags := pipelines.LoadFile(filepath.Join("..", "..", "pipelines", name), builtin.Registry(), pipelines.Options{})
		if diags.HasErrors() || p == nil {
			t.Errorf("%s: %s", name, diags.Error())
			continue
		}
		if _, ok := p.Stage("sweep." + map[string]string{"sweep.hcl": "hpo", "sweep_command.hcl": "branin"}[name]); !ok {
			t.Errorf("%s has no sweep stage", name)
		}
	}
}
