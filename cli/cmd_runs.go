package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/track"
)

// runsUsage is the synopsis of `pcamflow runs`, printed with usage errors.
const runsUsage = "usage: pcamflow runs [ls] [--node PATTERN] [--kind KIND] [--limit N | --all] [--cached] [--json]\n" +
	"       pcamflow runs show ID [--metrics all|NAME,...] [--json]\n" +
	"       pcamflow runs compare ID [ID...] [--node PATTERN] [--kind KIND] [--metrics all|NAME,...] [--json]"

// cmdRuns dispatches `pcamflow runs [ls|show|compare]`.
func cmdRuns(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		return runsList(ctx, e, args)
	}
	switch args[0] {
	case "ls", "list":
		return runsList(ctx, e, args[1:])
	case "show":
		return runsShow(ctx, e, args[1:])
	case "compare":
		return runsCompare(ctx, e, args[1:])
	}
	if args[0] != "" && args[0][0] == '-' {
		return runsList(ctx, e, args)
	}
	return usageError(e.stderr, "unknown runs subcommand %q.%s\n%s", args[0],
		pipelines.DidYouMean(args[0], []string{"ls", "show", "compare"}), runsUsage)
}

// runsEntry is one node run as `runs ls`, `runs show RUN` and `runs compare` print it in JSON.
type runsEntry struct {
	ID              int64                  `json:"id"`
	RunID           string                 `json:"run_id"`
	Node            string                 `json:"node"`
	Kind            string                 `json:"kind"`
	State           state.Node             `json:"state"`
	Parent          string                 `json:"parent,omitempty"`
	Label           string                 `json:"label,omitempty"`
	Started         time.Time              `json:"started,omitzero"`
	Finished        time.Time              `json:"finished,omitzero"`
	DurationSeconds *float64               `json:"duration_seconds,omitempty"`
	Epochs          int                    `json:"epochs,omitempty"`
	FinalMetrics    map[string]metricValue `json:"final_metrics,omitempty"`
	CachedFrom      int64                  `json:"cached_from,omitempty"`
	// Objective is, for a child, the final value of its parent's objective metric; for a parent,
	// the best value of its children that were not pruned (of all of them when every one was).
	Objective *metricValue `json:"objective,omitempty"`
	hist      *metricHistory
	params    json.RawMessage
	rec       track.NodeRun
	duration  string
}

// newEntry loads the metrics of n (of its producer when n is cached).
func newEntry(db *track.DB, n track.NodeRun) (runsEntry, error) {
	h, from, err := metricsOf(db, n)
	if err != nil {
		return runsEntry{}, err
	}
	en := runsEntry{ID: n.ID, RunID: n.RunID, Node: n.Node, Kind: n.Kind, State: n.State, Parent: n.Parent, Started: n.Started,
		Finished: n.Finished, DurationSeconds: durationSeconds(n), Epochs: h.lastStep(), CachedFrom: from,
		hist: h, params: n.Params, duration: nodeDuration(n), Label: paramsLabel(n), rec: n}
	if !h.empty() {
		en.FinalMetrics = h.finals()
	}
	return en, nil
}

// newEntries loads the metrics of every node run, and the objective of children and parents
// (see objectives).
func newEntries(db *track.DB, nodes []track.NodeRun) ([]runsEntry, error) {
	out := make([]runsEntry, 0, len(nodes))
	for _, n := range nodes {
		en, err := newEntry(db, n)
		if err != nil {
			return nil, err
		}
		out = append(out, en)
	}
	if err := objectives(db, out); err != nil {
		return nil, err
	}
	return out, nil
}

// runsList implements `pcamflow runs [ls]`.
func runsList(_ context.Context, e *env, args []string) int {
	fs := newFlags(e, "runs ls", "", "Lists node executions, newest first, with the final value of key training metrics\n"+
		"(val_roc_auc, val_f_beta, val_loss) when they were logged. Cache hits are hidden unless --cached.")
	var f nodeFilter
	fs.StringVar(&f.node, "node", "", "only nodes matching `PATTERN` (an address, its prefix up to . or [, or a glob with *)")
	fs.StringVar(&f.kind, "kind", "", "only nodes of stage `KIND` (e.g. train, command)")
	fs.BoolVar(&f.cached, "cached", false, "also list cache hits (rows that reused an earlier execution's outputs)")
	limit := fs.Int("limit", 50, "list at most `N` node runs")
	all := fs.Bool("all", false, "list every node run (no limit)")
	asJSON := fs.Bool("json", false, "print as JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) > 0 {
		return usageError(e.stderr, "runs ls takes no arguments, got %q\n%s", pos, runsUsage)
	}
	if *limit < 1 {
		return usageError(e.stderr, "--limit must be at least 1 (use --all for no limit)")
	}
	if *all {
		*limit = 0
	}
	db, code := e.openRunsDB(true)
	if db == nil && code == exitOK {
		if *asJSON {
			return e.runsJSON([]runsEntry{})
		}
		fmt.Fprintf(e.stdout, "no runs yet: the workspace %s does not exist (run `pcamflow run` first)\n", e.workspace)
	}
	if db == nil {
		return code
	}
	defer db.Close()
	nodes, err := listNodeRuns(db, f, *limit)
	if err != nil {
		return e.runsFail(err)
	}
	entries, err := newEntries(db, nodes)
	if err != nil {
		return e.runsFail(err)
	}
	if *asJSON {
		return e.runsJSON(nonNilEntries(entries))
	}
	if len(entries) == 0 {
		fmt.Fprintln(e.stdout, "no node runs match")
		return exitOK
	}
	writeEntries(e.stdout, entries, true)
	return exitOK
}

// writeEntries prints node runs as a table; withRun adds the RUN column.
func writeEntries(w io.Writer, entries []runsEntry, withRun bool) {
	header := []string{"ID"}
	if withRun {
		header = append(header, "RUN")
	}
	header = append(header, "NODE")
	epochs, metrics, labels, objective := false, []string{}, false, false
	for _, en := range entries {
		epochs = epochs || en.Epochs > 0
		labels = labels || en.Label != ""
		objective = objective || en.Objective != nil
	}
	if labels {
		header = append(header, "TRIAL")
	}
	header = append(header, "STATE", "STARTED", "DURATION")
	for _, m := range summaryMetrics(entries) {
		for _, en := range entries {
			if _, ok := en.FinalMetrics[m]; ok {
				metrics = append(metrics, m)
				break
			}
		}
	}
	if epochs {
		header = append(header, "EPOCHS")
	}
	if objective {
		header = append(header, "OBJECTIVE")
	}
	t := newTextTable(append(header, metrics...)...)
	for i := slices.Index(header, "DURATION"); i < len(t.header); i++ {
		t.alignRight(i)
	}
	for _, en := range entries {
		row := []string{fmt.Sprint(en.ID)}
		if withRun {
			row = append(row, en.RunID)
		}
		row = append(row, displayNode(en))
		if labels {
			row = append(row, orDash(en.Label))
		}
		row = append(row, entryState(en), fmtLocalTime(en.Started), en.duration)
		if epochs {
			row = append(row, dashIfZero(en.Epochs))
		}
		if objective {
			row = append(row, "-")
			if en.Objective != nil {
				row[len(row)-1] = metricCell(float64(*en.Objective))
			}
		}
		for _, m := range metrics {
			v, ok := en.FinalMetrics[m]
			row = append(row, "-")
			if ok {
				row[len(row)-1] = metricCell(float64(v))
			}
		}
		t.add(row...)
	}
	t.write(w)
}

// entryState is the STATE cell of a node run: its state, or cached(#ID) naming the execution whose
// outputs a cache hit reused.
func entryState(en runsEntry) string {
	if en.CachedFrom != 0 {
		return fmt.Sprintf("cached(#%d)", en.CachedFrom)
	}
	return string(en.State)
}

// displayNode is the NODE cell of a node run: a child (of a sweep, say) is indented under its parent.
func displayNode(en runsEntry) string {
	if en.Parent != "" {
		return "  " + en.Node
	}
	return en.Node
}

// summaryMetrics are the metric columns of `runs ls`: the summary metrics of the kinds of the
// listed node runs (stages.Summarizer), in kind-name order, each once.
func summaryMetrics(entries []runsEntry) []string {
	present := map[string]bool{}
	for _, en := range entries {
		present[en.Kind] = true
	}
	reg := registry()
	var out []string
	for _, name := range reg.Names() {
		k, _ := reg.Lookup(name)
		if s, ok := k.(stages.Summarizer); ok && present[name] {
			for _, m := range s.SummaryMetrics() {
				if !slices.Contains(out, m) {
					out = append(out, m)
				}
			}
		}
	}
	return out
}

// dashIfZero prints n, or "-" for 0.
func dashIfZero(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

// nonNilEntries returns entries, or an empty slice so that JSON prints [] rather than null.
func nonNilEntries(entries []runsEntry) []runsEntry {
	if entries == nil {
		return []runsEntry{}
	}
	return entries
}

// openRunsDB opens the run database for reading. When the workspace does not exist it returns
// no database and exit code 0 if emptyOK, else prints an error and returns exit code 1. Node runs
// of processes that died are marked interrupted, as `status` does.
func (e *env) openRunsDB(emptyOK bool) (*track.DB, int) {
	if _, err := os.Stat(e.workspace); err != nil {
		if emptyOK {
			return nil, exitOK
		}
		fmt.Fprintf(e.stderr, "pcamflow: no runs recorded: the workspace %s does not exist (give --workspace DIR?)\n", e.workspace)
		return nil, exitFailure
	}
	db, err := e.openDBForReading()
	if errors.Is(err, errNoDatabase) && emptyOK {
		return nil, exitOK
	}
	if err != nil {
		return nil, e.runsFail(err)
	}
	if _, err := db.MarkInterrupted(track.ProcessAlive); err != nil && !db.ReadOnly() {
		fmt.Fprintf(e.stderr, "pcamflow: warning: %v\n", err)
	}
	return db, exitOK
}

// runsFail prints err and returns the failure exit code.
func (e *env) runsFail(err error) int {
	fmt.Fprintf(e.stderr, "pcamflow: %v\n", err)
	return exitFailure
}

// runsJSON prints v as indented JSON.
func (e *env) runsJSON(v any) int {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return e.runsFail(fmt.Errorf("encoding JSON: %w", err))
	}
	return exitOK
}
