package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pcamflow/pcamflow/runner"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/track"
)

// cmdVerify is the twin-run check: re-execute cached nodes from scratch and compare bit for bit.
func cmdVerify(ctx context.Context, e *env, args []string) int {
	lo := &loadOptions{}
	fs := newFlags(e, "verify", "[FILE] kind.name", "Re-executes the cached node(s) of a stage (or one node) from scratch, outside the cache,\nand compares every output bit for bit with the cached one. Exits 1 on any mismatch.")
	fs.Var(&lo.vars, "var", "set a variable: `name=value` (repeatable)")
	fs.Var(&lo.varFiles, "var-file", "read variable values from an HCL `FILE` (repeatable)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) == 0 || len(pos) > 2 {
		return usageError(e.stderr, "verify needs a stage or node address, e.g. pcamflow verify train.mlp")
	}
	addr := pos[len(pos)-1]
	sess, code := e.open(pos[:len(pos)-1], lo, false, withProcessOptions(runner.Options{Out: e.stderr}, 0))
	if sess == nil {
		return code
	}
	defer sess.close()
	r := sess.r
	verifyID := "verify-" + track.NewRunID(time.Now())
	twins, err := r.Verify(ctx, addr, verifyID)
	e.recordTwins(verifyID, twins)
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: verify: %v\n", err)
		return exitFailure
	}
	ok := true
	for _, t := range twins {
		ok = ok && t.Match
	}
	if *asJSON {
		_ = json.NewEncoder(e.stdout).Encode(map[string]any{"match": ok, "nodes": twins})
	} else {
		printTwins(e, twins)
	}
	if !ok {
		fmt.Fprintln(e.stdout, "MISMATCH: the twin run is not bit-identical; the node is not reproducible")
		return exitFailure
	}
	fmt.Fprintln(e.stdout, verdict(twins))
	return exitOK
}

// verdict is the last line of a verify whose twins all match: it says when some outputs, or all,
// were measurements and so were not compared.
func verdict(twins []runner.Twin) string {
	compared, measured := 0, 0
	for _, t := range twins {
		compared += t.Compared
		measured += len(t.Measured)
	}
	switch {
	case compared == 0 && measured > 0:
		return "no output compared: every output is a measurement (timings are not reproducible bits); the twin ran to completion"
	case measured > 0:
		return fmt.Sprintf("all %d compared outputs match bit for bit (%d measurements not compared)", compared, measured)
	}
	return "all outputs match bit for bit"
}

// printTwins renders the twin-run table: per node the cached run and the twin, with the kind's
// summary values (stages.Summarizer, e.g. the final losses of a training node) as columns.
func printTwins(e *env, twins []runner.Twin) {
	width := 4
	var cols []string
	for _, t := range twins {
		width = max(width, len(t.Node))
		for _, v := range append(append([]stages.SummaryValue{}, t.Summary...), t.TwinSummary...) {
			if !slices.Contains(cols, v.Name) {
				cols = append(cols, v.Name)
			}
		}
	}
	header := fmt.Sprintf("%-*s  %-12s  %-24s", width, "NODE", "RUN", "RUN ID")
	for _, c := range cols {
		header += fmt.Sprintf("  %16s", strings.ToUpper(c))
	}
	fmt.Fprintln(e.stdout, header+"  MATCH")
	for _, t := range twins {
		for i, label := range []string{"cached", "twin"} {
			values, id, node, match := t.Summary, t.RunID, t.Node, ""
			if i == 1 {
				values, id, node, match = t.TwinSummary, "(this verify)", "", "yes"
				if !t.Match {
					match = "NO (" + strings.Join(t.Differ, ", ") + " differ)"
				}
				if len(t.Measured) > 0 {
					match += " (measured, not compared: " + strings.Join(t.Measured, ", ") + ")"
				}
			}
			line := fmt.Sprintf("%-*s  %-12s  %-24s", width, node, label, id)
			for _, c := range cols {
				cell := "-"
				for _, v := range values {
					if v.Name == c {
						cell = fmt.Sprintf("%.10f", v.Value)
					}
				}
				line += fmt.Sprintf("  %16s", cell)
			}
			fmt.Fprintln(e.stdout, line+"  "+match)
		}
		for _, name := range t.Differ {
			if d := t.Differences[name]; d != "" {
				fmt.Fprintf(e.stdout, "  %s: %s\n", name, d)
			}
		}
	}
}
