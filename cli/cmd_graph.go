package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/pcamflow/pcamflow/pipelines"
)

func cmdGraph(_ context.Context, e *env, args []string) int {
	lo := &loadOptions{}
	fs := newFlags(e, "graph", "[FILE]", "Prints the pipeline's DAG in Graphviz DOT format (pipe it to `dot -Tsvg`).\nSolid edges carry data; dashed edges come from depends_on.")
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
	writeDOT(e.stdout, p)
	return exitOK
}

// writeDOT renders the DAG; nodes are listed in execution order so the output is stable.
func writeDOT(w io.Writer, p *pipelines.Pipeline) {
	fmt.Fprintf(w, "digraph %q {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n", p.Name)
	for _, s := range p.Order {
		fmt.Fprintf(w, "  %q [label=%q];\n", s.Addr, s.Kind.Name()+"\n"+s.Name)
	}
	for _, s := range p.Order {
		data := map[string]bool{}
		for _, r := range s.Refs {
			data[r.Target] = true
		}
		for _, u := range s.Upstream {
			style := ""
			if !data[u] {
				style = " [style=dashed]"
			}
			fmt.Fprintf(w, "  %q -> %q%s;\n", u, s.Addr, style)
		}
	}
	fmt.Fprintln(w, "}")
}
