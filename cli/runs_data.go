package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pcamflow/pcamflow/track"
)

// nodeFilter selects node runs for `runs ls` and `runs compare`.
type nodeFilter struct {
	node   string // address pattern, see matchNode
	kind   string // exact stage kind, empty for any
	cached bool   // include cached rows
}

// keep reports whether n passes the filter.
func (f nodeFilter) keep(n track.NodeRun) bool {
	if n.State == track.NodeCached && !f.cached {
		return false
	}
	if f.kind != "" && n.Kind != f.kind {
		return false
	}
	return f.node == "" || matchNode(f.node, n.Node)
}

// matchNode reports whether the node address addr matches pattern. A pattern containing '*' is a
// glob in which '*' matches any text (dots and brackets included) and everything else is literal.
// Otherwise the pattern matches the address itself and every address it prefixes up to a '.' or
// '[': "train" matches "train.mlp" and "train.mlp" matches `train.mlp["1"]`, but "train.ml" matches
// neither.
func matchNode(pattern, addr string) bool {
	if !strings.Contains(pattern, "*") {
		if addr == pattern {
			return true
		}
		rest, ok := strings.CutPrefix(addr, pattern)
		return ok && (rest[0] == '.' || rest[0] == '[')
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(addr, parts[0]) {
		return false
	}
	addr = addr[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(addr, p)
		if i < 0 {
			return false
		}
		addr = addr[i+len(p):]
	}
	return strings.HasSuffix(addr, last) && len(addr) >= len(last)
}

// listNodeRuns returns up to limit node runs passing f (every one when limit <= 0), newest
// first: runs by start time, newest first, and within a run the last recorded node first.
func listNodeRuns(db *track.DB, f nodeFilter, limit int) ([]track.NodeRun, error) {
	runs, err := db.ListRuns(0)
	if err != nil {
		return nil, err
	}
	var out []track.NodeRun
	for _, r := range runs {
		_, nodes, err := db.GetRun(r.ID)
		if err != nil {
			return nil, err
		}
		for i := len(nodes) - 1; i >= 0; i-- {
			if !f.keep(nodes[i]) {
				continue
			}
			out = append(out, nodes[i])
			if limit > 0 && len(out) == limit {
				return groupChildren(out), nil
			}
		}
	}
	return groupChildren(out), nil
}

// groupChildren moves the node runs of children (a sweep's trials) right after the node run of
// their parent in the same run, keeping the order of everything else. Children whose parent is not
// listed stay where they are.
func groupChildren(nodes []track.NodeRun) []track.NodeRun {
	type parentKey struct{ run, node string }
	listed := map[parentKey]bool{}
	for _, n := range nodes {
		if n.Parent == "" {
			listed[parentKey{n.RunID, n.Node}] = true
		}
	}
	kids := map[parentKey][]track.NodeRun{}
	out := make([]track.NodeRun, 0, len(nodes))
	for _, n := range nodes {
		if k := (parentKey{n.RunID, n.Parent}); n.Parent != "" && listed[k] {
			kids[k] = append(kids[k], n)
		}
	}
	for _, n := range nodes {
		if n.Parent != "" && listed[parentKey{n.RunID, n.Parent}] {
			continue
		}
		out = append(out, n)
		if n.Parent == "" {
			out = append(out, kids[parentKey{n.RunID, n.Node}]...)
		}
	}
	return out
}

// errUnknownID is wrapped by resolveID when an argument names neither a node run nor a run.
var errUnknownID = errors.New("unknown id")

// resolveID interprets an argument of `runs show` and `runs compare`. An argument of digits only
// is a node-run id when such a node run exists; otherwise (and for any other argument) it is a
// pipeline run id or id prefix (at least the digits of the date: run ids look like
// 20261127T073001Z-3fa9c2). Exactly one of the returned node run and run is non-nil; for a run, its
// node runs come in recording order.
func resolveID(db *track.DB, arg string) (*track.NodeRun, *track.Run, []track.NodeRun, error) {
	if id, err := strconv.ParseInt(arg, 10, 64); err == nil && id > 0 {
		n, err := db.GetNode(id)
		if err == nil {
			return n, nil, nil, nil
		}
		if !errors.Is(err, track.ErrNotFound) {
			return nil, nil, nil, err
		}
	}
	r, nodes, err := db.GetRun(arg)
	switch {
	case errors.Is(err, track.ErrNotFound):
		return nil, nil, nil, fmt.Errorf("%w %q: no node run has this id and no pipeline run id starts with it (see `pcamflow runs ls`)", errUnknownID, arg)
	case errors.Is(err, track.ErrAmbiguous):
		_, msg, _ := strings.Cut(err.Error(), track.ErrAmbiguous.Error())
		return nil, nil, nil, fmt.Errorf("run id prefix %q is ambiguous%s", arg, msg)
	case err != nil:
		return nil, nil, nil, err
	}
	return nil, r, nodes, nil
}

// producerOf returns the execution whose outputs a cached node run reused: the newest succeeded
// (or, for a child, pruned) run of the same node with the same cache key; for a child of a dynamic
// stage without one, the newest such run of any node with its key (another parent's child, keyed
// by the same configuration). It returns nil for a node run that is not cached or whose producer
// is no longer recorded.
func producerOf(db *track.DB, n track.NodeRun) (*track.NodeRun, error) {
	if n.State != track.NodeCached || n.Key == "" {
		return nil, nil
	}
	hist, err := db.NodeHistory(n.Node, 0)
	if err != nil {
		return nil, err
	}
	for i := range hist {
		h := hist[i]
		if h.ID != n.ID && h.Key == n.Key && (h.State == track.NodeSucceeded || h.State == track.NodePruned) {
			return &h, nil
		}
	}
	if n.Parent == "" {
		return nil, nil
	}
	return db.KeyProducer(n.Key)
}

// metricRowsOf returns the metric rows of n; for a cached node run, those of its producer (whose
// id is returned as from, else 0).
func metricRowsOf(db *track.DB, n track.NodeRun) (rows []track.MetricRow, from int64, err error) {
	id := n.ID
	if p, err := producerOf(db, n); err != nil {
		return nil, 0, err
	} else if p != nil {
		id, from = p.ID, p.ID
	}
	rows, err = db.Metrics(id)
	return rows, from, err
}

// metricsOf is metricRowsOf as a history.
func metricsOf(db *track.DB, n track.NodeRun) (*metricHistory, int64, error) {
	rows, from, err := metricRowsOf(db, n)
	if err != nil {
		return nil, 0, err
	}
	return newMetricHistory(rows), from, nil
}

// nodeDuration is how long a node run took, "-" when it did not execute or has not finished.
func nodeDuration(n track.NodeRun) string {
	if n.Started.IsZero() || n.Finished.IsZero() || n.State == track.NodeCached || n.State == track.NodeSkipped {
		return "-"
	}
	return n.Finished.Sub(n.Started).Round(time.Millisecond).String()
}

// durationSeconds is nodeDuration as seconds for JSON, or nil.
func durationSeconds(n track.NodeRun) *float64 {
	if nodeDuration(n) == "-" {
		return nil
	}
	s := n.Finished.Sub(n.Started).Seconds()
	return &s
}

// fmtLocalTime formats a start time for tables, "-" when unknown.
func fmtLocalTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
