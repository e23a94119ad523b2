package cli

import (
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/stages/builtin"
)

// extraKinds are stage kinds added to the built-in ones (by tests: MainWithKinds).
var extraKinds []stages.Kind

// registry returns the stage kinds this binary knows.
func registry() *stages.Registry {
	if len(extraKinds) == 0 {
		return builtin.Registry()
	}
	return builtin.Registry(extraKinds...)
}

// MainWithKinds is Main with extra stage kinds registered besides the built-in ones. Tests use it
// to run the command line with kinds that exist only for testing (a Slurm job of such a test runs
// the test binary, which must know them too).
func MainWithKinds(kinds ...stages.Kind) int {
	extraKinds = kinds
	return Main()
}
