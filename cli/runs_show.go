package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pcamflow/pcamflow/track"
)

// runsShow implements `pcamflow runs show ID`.
func runsShow(_ context.Context, e *env, args []string) int {
	fs := newFlags(e, "runs show", "ID", "Shows one node run (ID is its number from `runs ls`): state, timing, host, log, outputs,\n"+
		"the resolved parameters and the metric history, one row per epoch. Per-layer gradient norms\n"+
		"are summarised unless --metrics all. An ID that is not a node-run number is a pipeline run id\n"+
		"or prefix (e.g. 20261127T0730): its node runs are listed.")
	sel := fs.String("metrics", "", "metric columns: `all`, or a comma-separated list of names (default: all but per-layer gradient norms, summarised)")
	asJSON := fs.Bool("json", false, "print as JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 {
		return usageError(e.stderr, "runs show needs exactly one ID, got %d\n%s", len(pos), runsUsage)
	}
	db, code := e.openRunsDB(false)
	if db == nil {
		return code
	}
	defer db.Close()
	n, run, nodes, err := resolveID(db, pos[0])
	if err != nil {
		return e.runsFail(err)
	}
	if run != nil {
		return e.showRun(db, run, nodes, *asJSON)
	}
	return e.showNode(db, n, *sel, *asJSON)
}

// showRun prints a pipeline run and its node runs.
func (e *env) showRun(db *track.DB, run *track.Run, nodes []track.NodeRun, asJSON bool) int {
	entries, err := newEntries(db, nodes)
	if err != nil {
		return e.runsFail(err)
	}
	if asJSON {
		return e.runsJSON(map[string]any{"run": run, "node_runs": nonNilEntries(entries)})
	}
	dur := "-"
	if !run.Finished.IsZero() {
		dur = run.Finished.Sub(run.Started).Round(1e6).String()
	}
	fmt.Fprintf(e.stdout, "run %s  pipeline %s  %s  started %s  took %s  on %s\n", run.ID, run.Pipeline, run.Status,
		fmtLocalTime(run.Started), dur, run.Host)
	if len(run.Args) > 0 {
		fmt.Fprintf(e.stdout, "command: pcamflow %s\n", strings.Join(run.Args, " "))
	}
	fmt.Fprintln(e.stdout)
	if len(entries) == 0 {
		fmt.Fprintln(e.stdout, "  (no node runs recorded)")
		return exitOK
	}
	writeEntries(e.stdout, entries, false)
	return exitOK
}

// showNodeJSON is the JSON form of `runs show NODE-RUN-ID`.
type showNodeJSON struct {
	NodeRun    *track.NodeRun    `json:"node_run"`
	Pipeline   string            `json:"pipeline"`
	CachedFrom int64             `json:"cached_from,omitempty"`
	Metrics    []track.MetricRow `json:"metrics"`
	// Children are the node runs the node ran as children in the same run (a sweep's trials).
	Children []runsEntry `json:"children,omitempty"`
}

// showNode prints one node run in full.
func (e *env) showNode(db *track.DB, n *track.NodeRun, sel string, asJSON bool) int {
	rows, from, err := metricRowsOf(db, *n)
	if err != nil {
		return e.runsFail(err)
	}
	h := newMetricHistory(rows)
	cols, summary, err := selectMetrics(h.names, sel)
	if err != nil {
		return e.runsFail(fmt.Errorf("node run %d: %w", n.ID, err))
	}
	pipeline := ""
	var kids []track.NodeRun
	if r, nodes, err := db.GetRun(n.RunID); err == nil {
		pipeline = r.Pipeline
		for _, c := range nodes {
			if c.Parent == n.Node && n.Parent == "" {
				kids = append(kids, c)
			}
		}
	}
	children, err := newEntries(db, kids)
	if err != nil {
		return e.runsFail(err)
	}
	if asJSON {
		if rows == nil {
			rows = []track.MetricRow{}
		}
		return e.runsJSON(showNodeJSON{NodeRun: n, Pipeline: pipeline, CachedFrom: from, Metrics: rows, Children: children})
	}
	writeNodeHeader(e.stdout, n, pipeline, from)
	writeOutputs(e.stdout, n.Outputs)
	writeParams(e.stdout, n.Params)
	if h.empty() {
		fmt.Fprintln(e.stdout, "\nmetrics: none logged")
	} else {
		fmt.Fprintf(e.stdout, "\nmetrics (%d epochs):\n", len(h.steps))
		writeHistory(e.stdout, h, cols, summary)
	}
	if len(children) > 0 {
		writeChildren(e.stdout, n, children)
	}
	return exitOK
}

// writeChildren lists the children a parent node ran (a sweep's trials), in the order they were
// recorded, with their label, state (pruned when stopped early), epochs and objective.
func writeChildren(w io.Writer, parent *track.NodeRun, children []runsEntry) {
	what := ""
	if spec, ok := objectiveOf(parent.Params); ok {
		what = "; objective " + spec.Metric
		if spec.Goal != "" {
			what += ", " + spec.Goal
		}
	}
	pruned := 0
	for _, c := range children {
		if c.State == track.NodePruned {
			pruned++
		}
	}
	fmt.Fprintf(w, "\nchildren (%d, %d pruned%s):\n", len(children), pruned, what)
	for i := range children {
		children[i].Parent = "" // not indented: they are the whole table
	}
	writeEntries(w, children, false)
}

// writeNodeHeader prints the facts of a node run, one per line.
func writeNodeHeader(w io.Writer, n *track.NodeRun, pipeline string, from int64) {
	fmt.Fprintf(w, "node run %d  %s  (kind %s)  %s\n", n.ID, n.Node, n.Kind, n.State)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-9s %s\n", k, v)
		}
	}
	line("run", strings.TrimSpace(n.RunID+"  pipeline "+pipeline))
	line("started", fmtLocalTime(n.Started))
	if d := nodeDuration(*n); d != "-" {
		line("took", d)
	}
	exec := string(n.Executor)
	if n.JobID != "" {
		exec += " (Slurm job " + n.JobID + ")"
	}
	line("host", n.Host)
	line("executor", exec)
	line("key", n.Key)
	line("parent", n.Parent)
	line("reason", n.Reason)
	if from != 0 {
		line("cached", fmt.Sprintf("reused the outputs of node run %d; metrics below are from it", from))
	}
	line("log", n.LogPath)
	if n.State == track.NodeFailed {
		line("exit", fmt.Sprint(n.ExitStatus))
	}
	line("error", n.Error)
}

// writeOutputs prints a node's outputs (name, path, type, size, digest prefix) from their JSON.
func writeOutputs(w io.Writer, raw json.RawMessage) {
	var outs map[string]struct {
		Path   string `json:"path"`
		Type   string `json:"type"`
		Digest string `json:"digest"`
		Size   int64  `json:"size"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &outs) != nil || len(outs) == 0 {
		return
	}
	fmt.Fprintln(w, "\noutputs:")
	t := newTextTable("NAME", "PATH", "TYPE", "SIZE", "SHA-256")
	t.alignRight(3)
	for _, name := range sortedKeys(outs) {
		o := outs[name]
		t.add(name, o.Path, o.Type, fmt.Sprint(o.Size), o.Digest[:min(12, len(o.Digest))])
	}
	t.write(w)
}

// writeParams pretty-prints the resolved configuration (keys sorted, numbers as stored, <, > and
// & unescaped).
func writeParams(w io.Writer, raw json.RawMessage) {
	if len(raw) == 0 {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		fmt.Fprintf(w, "\nparameters (not valid JSON): %s\n", raw)
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("  ", "  ")
	_ = enc.Encode(v) // values decoded from JSON always encode
	fmt.Fprintf(w, "\nparameters:\n  %s", buf.Bytes())
}

// selectMetrics picks the metric columns from the logged names according to --metrics: "" gives
// every metric but the per-layer gradient norms, which are summarised (summary true) when logged;
// "all" gives every metric; otherwise a comma-separated list of names, each of which must exist.
func selectMetrics(names []string, sel string) (cols []string, summary bool, err error) {
	switch sel {
	case "":
		for _, n := range names {
			if !isGradNorm(n) {
				cols = append(cols, n)
			}
		}
		return orderMetrics(cols), len(cols) < len(names), nil
	case "all":
		return orderMetrics(names), false, nil
	}
	for _, s := range strings.Split(sel, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(names, s) {
			return nil, false, fmt.Errorf("metric %q was not logged (logged: %s)", s, orNone(names))
		}
		cols = append(cols, s)
	}
	return cols, false, nil
}

// orNone joins names, or says "none".
func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// writeHistory prints the metric history: one row per epoch, one column per metric, plus the
// gradient-norm summary columns when summary is set.
func writeHistory(w io.Writer, h *metricHistory, cols []string, summary bool) {
	header := append([]string{"epoch"}, cols...)
	if summary {
		header = append(header, "grad_norm_mean(min-max)", "grad_norm_max(layer)")
	}
	t := newTextTable(header...)
	for i := range header {
		t.alignRight(i)
	}
	for _, step := range h.steps {
		row := []string{fmt.Sprint(step)}
		for _, c := range cols {
			cell := "-"
			if v, ok := h.at(c, step); ok {
				cell = metricCell(v)
			}
			row = append(row, cell)
		}
		if summary {
			mean, top := h.gradSummary(step)
			row = append(row, orDash(mean), orDash(top))
		}
		t.add(row...)
	}
	t.write(w)
}

// orDash returns s, or "-" when s is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
