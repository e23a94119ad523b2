package cli_test

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestEvaluateScripts runs the threshold and evaluate scripts in testdata/evaluate, which make
// checkpoints with mkmodel.
func TestEvaluateScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/evaluate",
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", env.WorkDir)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"mkmodel": cmdMkModel},
	})
}
