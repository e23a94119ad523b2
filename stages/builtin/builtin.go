// Package builtin assembles the registry of every stage kind shipped in the pcamflow binary.
package builtin

import (
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/stages/benchmark"
	"github.com/pcamflow/pcamflow/stages/command"
	"github.com/pcamflow/pcamflow/stages/dataaudit"
	"github.com/pcamflow/pcamflow/stages/dataset"
	"github.com/pcamflow/pcamflow/stages/evaluate"
	"github.com/pcamflow/pcamflow/stages/sweep"
	"github.com/pcamflow/pcamflow/stages/threshold"
	"github.com/pcamflow/pcamflow/stages/train"
)

// Kinds returns every built-in stage kind. A new kind is one line here (and one folder under
// stages/, and its section in docs/language.md).
func Kinds() []stages.Kind {
	return []stages.Kind{
		command.New(),
		dataset.New(),
		dataaudit.New(),
		train.New(),
		threshold.New(),
		evaluate.New(),
		sweep.New(),
		benchmark.New(),
	}
}

// Registry returns a registry with all built-in stage kinds, plus extra kinds (tests register kinds
// that exist only for testing this way).
func Registry(extra ...stages.Kind) *stages.Registry {
	return stages.NewRegistry(append(Kinds(), extra...)...)
}
