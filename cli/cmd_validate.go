package cli

import (
	"context"
	"fmt"
)

func cmdValidate(_ context.Context, e *env, args []string) int {
	lo := &loadOptions{}
	fs := newFlags(e, "validate", "[FILE]", "Parses and checks a pipeline: syntax, block types, attributes and their types,\nvariables, references between stages and dependency cycles. Every problem is reported.")
	fs.Var(&lo.vars, "var", "set a variable: `name=value` (repeatable)")
	fs.Var(&lo.varFiles, "var-file", "read variable values from an HCL `FILE` (repeatable)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	p := e.load(pos, lo)
	if p == nil {
		return exitFailure
	}
	fmt.Fprintf(e.stdout, "%s: pipeline %q is valid (%d stages)\n", p.File, p.Name, len(p.Stages))
	return exitOK
}
