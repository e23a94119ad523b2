package cli_test

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pcamflow/pcamflow/cli"
	"github.com/pcamflow/pcamflow/internal/testkinds"
)

// TestMain lets the test binary act as the pcamflow command, both for testscript scripts and for
// tests that start it as a separate process (PCAMFLOW_TEST_MAIN=1), with the test-only stage kinds
// (internal/testkinds) registered next to the built-in ones.
func TestMain(m *testing.M) {
	main := func() int { return cli.MainWithKinds(testkinds.All()...) }
	if os.Getenv("PCAMFLOW_TEST_MAIN") == "1" {
		os.Exit(main())
	}
	os.Exit(testscript.RunMain(m, map[string]func() int{"pcamflow": main}))
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
