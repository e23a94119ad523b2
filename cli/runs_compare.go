package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/pcamflow/pcamflow/track"
)

// runsCompare implements `pcamflow runs compare ID [ID...]`.
func runsCompare(_ context.Context, e *env, args []string) int {
	fs := newFlags(e, "runs compare", "ID [ID...]", "Compares node runs side by side: one row per node run with the final (last epoch) value\n"+
		"of each metric, then the parameters whose resolved values differ. An ID is a node-run number or\n"+
		"a pipeline run id or prefix, which stands for the run's node runs (filtered by --node/--kind;\n"+
		"skipped nodes left out, cache hits shown with the metrics of the execution they reused).")
	var f nodeFilter
	fs.StringVar(&f.node, "node", "", "from pipeline runs, only nodes matching `PATTERN`")
	fs.StringVar(&f.kind, "kind", "", "from pipeline runs, only nodes of stage `KIND`")
	sel := fs.String("metrics", "", "metric columns: `all`, or a comma-separated list of names (default: all but per-layer gradient norms, summarised)")
	asJSON := fs.Bool("json", false, "print as JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) == 0 {
		return usageError(e.stderr, "runs compare needs node-run or run ids\n%s", runsUsage)
	}
	f.cached = true
	db, code := e.openRunsDB(false)
	if db == nil {
		return code
	}
	defer db.Close()
	nodes, err := compareSet(db, pos, f)
	if err != nil {
		return e.runsFail(err)
	}
	if len(nodes) < 2 {
		return e.runsFail(fmt.Errorf("compare needs at least two node runs; %q gave %d", pos, len(nodes)))
	}
	entries, err := newEntries(db, nodes)
	if err != nil {
		return e.runsFail(err)
	}
	docs := make([]json.RawMessage, len(entries))
	var names []string
	for i, en := range entries {
		docs[i] = en.params
		for _, n := range en.hist.names {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	diffs, err := diffParams(docs)
	if err != nil {
		return e.runsFail(err)
	}
	cols, summary, err := selectMetrics(names, *sel)
	if err != nil {
		return e.runsFail(err)
	}
	if *asJSON {
		if diffs == nil {
			diffs = []paramDiff{}
		}
		return e.runsJSON(map[string]any{"node_runs": entries, "param_diff": diffs})
	}
	writeComparison(e.stdout, entries, cols, summary)
	writeParamDiff(e.stdout, entries, diffs)
	return exitOK
}

// compareSet resolves the arguments of `runs compare` to node runs, in argument order without
// repeats: node-run ids as given, pipeline runs as their node runs passing f (skipped ones left out).
func compareSet(db *track.DB, args []string, f nodeFilter) ([]track.NodeRun, error) {
	var out []track.NodeRun
	seen := map[int64]bool{}
	add := func(n track.NodeRun) {
		if !seen[n.ID] {
			seen[n.ID] = true
			out = append(out, n)
		}
	}
	for _, a := range args {
		n, run, nodes, err := resolveID(db, a)
		if err != nil {
			return nil, err
		}
		if n != nil {
			add(*n)
			continue
		}
		k := 0
		for _, rn := range nodes {
			if rn.State != track.NodeSkipped && f.keep(rn) {
				add(rn)
				k++
			}
		}
		if k == 0 {
			return nil, fmt.Errorf("run %s has no node runs matching --node %q --kind %q", run.ID, f.node, f.kind)
		}
	}
	return out, nil
}

// writeComparison prints one row per node run with the final value of each metric column.
func writeComparison(w io.Writer, entries []runsEntry, cols []string, summary bool) {
	header := append([]string{"ID", "RUN", "NODE", "STATE", "EPOCHS"}, cols...)
	if summary {
		header = append(header, "grad_norm_max(layer)")
	}
	t := newTextTable(header...)
	for i := 4; i < len(header); i++ {
		t.alignRight(i)
	}
	for _, en := range entries {
		row := []string{fmt.Sprint(en.ID), en.RunID, displayNode(en), entryState(en), dashIfZero(en.Epochs)}
		for _, c := range cols {
			cell := "-"
			if v, ok := en.hist.final(c); ok {
				cell = metricCell(v)
			}
			row = append(row, cell)
		}
		if summary {
			_, top := en.hist.gradSummary(en.hist.lastStep())
			row = append(row, orDash(top))
		}
		t.add(row...)
	}
	t.write(w)
}

// writeParamDiff prints the parameters that differ, one row per parameter and one column per
// node run, or says that the parameters are identical.
func writeParamDiff(w io.Writer, entries []runsEntry, diffs []paramDiff) {
	if len(diffs) == 0 {
		fmt.Fprintln(w, "\nparameters: identical")
		return
	}
	fmt.Fprintln(w, "\nparameters that differ:")
	header := []string{"PARAMETER"}
	for _, en := range entries {
		header = append(header, fmt.Sprintf("#%d", en.ID))
	}
	t := newTextTable(header...)
	for _, d := range diffs {
		row := []string{d.Path}
		if d.Path == "" {
			row[0] = "(whole document)"
		}
		for _, v := range d.Values {
			row = append(row, paramCell(v))
		}
		t.add(row...)
	}
	t.write(w)
}
