package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/pcamflow/pcamflow/runner"
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
	sess, code := e.open(pos[:len(pos)-1], lo, false, runner.Options{Out: e.stderr})
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
	fmt.Fprintln(e.stdout, "all outputs match bit for bit")
	return exitOK
}

// printTwins renders the twin-run table.
func printTwins(e *env, twins []runner.Twin) {
	width := 4
	for _, t := range twins {
		width = max(width, len(t.Node))
	}
	fmt.Fprintf(e.stdout, "%-*s  %-12s  %-24s  %16s  %16s  %s\n", width, "NODE", "RUN", "RUN ID", "FINAL TRAIN LOSS", "FINAL VAL LOSS", "MATCH")
	for _, t := range twins {
		for i, label := range []string{"cached", "twin"} {
			losses := t.Cached
			id := t.RunID
			if i == 1 {
				losses, id = t.Again, "(this verify)"
			}
			tl, vl := "-", "-"
			if t.HasLosses {
				tl, vl = fmt.Sprintf("%.10f", losses.Train), fmt.Sprintf("%.10f", losses.Val)
			}
			match := ""
			if i == 1 {
				match = "yes"
				if !t.Match {
					match = "NO (" + strings.Join(t.Differ, ", ") + " differ)"
				}
			}
			node := t.Node
			if i == 1 {
				node = ""
			}
			fmt.Fprintf(e.stdout, "%-*s  %-12s  %-24s  %16s  %16s  %s\n", width, node, label, id, tl, vl, match)
		}
	}
}
