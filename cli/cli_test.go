package cli_test

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pcamflow/pcamflow/cli"
)

// TestMain lets the test binary act as the pcamflow command, both for testscript scripts and for
// tests that start it as a separate process (PCAMFLOW_TEST_MAIN=1).
func TestMain(m *testing.M) {
	if os.Getenv("PCAMFLOW_TEST_MAIN") == "1" {
		os.Exit(cli.Main())
	}
	os.Exit(testscript.RunMain(m, map[string]func() int{"pcamflow": cli.Main}))
}

// TestScripts runs the end-to-end scripts in testdata/script: each is a txtar archive of files and
// pcamflow commands with their expected output.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", env.WorkDir)
			return nil
		},
	})
}
