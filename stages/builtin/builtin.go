// Package builtin assembles the registry of every stage kind shipped in the pcamflow binary.
package builtin

import (
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/stages/command"
	"github.com/pcamflow/pcamflow/stages/dataaudit"
	"github.com/pcamflow/pcamflow/stages/dataset"
	"github.com/pcamflow/pcamflow/stages/evaluate"
	"github.com/pcamflow/pcamflow/stages/threshold"
	"github.com/pcamflow/pcamflow/stages/train"
)

// Registry returns a registry with all built-in stage kinds.
func Registry() *stages.Registry {
	return stages.NewRegistry(
		command.New(),
		dataset.New(),
		dataaudit.New(),
		train.New(),
		threshold.New(),
		evaluate.New(),
	)
}
