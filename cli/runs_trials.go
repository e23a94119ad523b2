package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/pcamflow/pcamflow/track"
)

// paramsLabel is the label of a child node run (a sweep's "trial 7"), which the runner records in
// its parameters as "label"; "" for other node runs.
func paramsLabel(n track.NodeRun) string {
	if n.Parent == "" || len(n.Params) == 0 {
		return ""
	}
	var p struct {
		Label string `json:"label"`
	}
	_ = json.Unmarshal(n.Params, &p)
	return p.Label
}

// objectiveSpec is what a parent's parameters say about the metric its children are judged by:
// a sweep's objective = { metric = "val_roc_auc", goal = "maximize" }.
type objectiveSpec struct {
	Metric string `json:"metric"`
	Goal   string `json:"goal"`
}

// objectiveOf reads the objective of a parent node run from its parameters; ok is false when it
// has none.
func objectiveOf(params json.RawMessage) (spec objectiveSpec, ok bool) {
	var p struct {
		Objective *objectiveSpec `json:"objective"`
	}
	if len(params) == 0 || json.Unmarshal(params, &p) != nil || p.Objective == nil || p.Objective.Metric == "" {
		return objectiveSpec{}, false
	}
	return *p.Objective, true
}

// better reports whether a beats b for the objective's goal ("minimize", or else maximize).
func (o objectiveSpec) better(a, b float64) bool {
	if o.Goal == "minimize" {
		return a < b
	}
	return a > b
}

// parentRef names a parent node within a pipeline run.
type parentRef struct{ run, node string }

// objectives fills in Objective: a child's is the final value of its parent's objective metric
// (when the parent declares one and the child logged it; a pruned child's is its value where it
// stopped), a parent's is the best of its children in that run that were not pruned (of all of them
// when each was). Parents and children not among entries are read from the database.
func objectives(db *track.DB, entries []runsEntry) error {
	runs := map[string][]track.NodeRun{} // node runs of the pipeline runs involved, read once
	nodesOf := func(run string) ([]track.NodeRun, error) {
		if nodes, ok := runs[run]; ok {
			return nodes, nil
		}
		_, nodes, err := db.GetRun(run)
		if err != nil {
			return nil, err
		}
		runs[run] = nodes
		return nodes, nil
	}
	specs := map[parentRef]*objectiveSpec{}
	specOf := func(ref parentRef) (*objectiveSpec, error) {
		if s, ok := specs[ref]; ok {
			return s, nil
		}
		nodes, err := nodesOf(ref.run)
		if err != nil {
			return nil, err
		}
		specs[ref] = nil
		for _, n := range nodes {
			if n.Node == ref.node && n.Parent == "" {
				if s, ok := objectiveOf(n.Params); ok {
					specs[ref] = &s
				}
			}
		}
		return specs[ref], nil
	}
	for i := range entries {
		en := &entries[i]
		if en.Parent == "" {
			continue
		}
		spec, err := specOf(parentRef{en.RunID, en.Parent})
		if err != nil {
			return err
		}
		if spec == nil || en.hist == nil {
			continue
		}
		if v, ok := childObjective(db, en.rec, en.hist, spec.Metric); ok {
			mv := metricValue(v)
			en.Objective = &mv
		}
	}
	for i := range entries {
		en := &entries[i]
		if en.Parent != "" {
			continue
		}
		spec, ok := objectiveOf(en.params)
		if !ok {
			continue
		}
		nodes, err := nodesOf(en.RunID)
		if err != nil {
			return err
		}
		best, bestPruned := math.NaN(), math.NaN()
		for _, n := range nodes {
			if n.Parent != en.Node {
				continue
			}
			h, _, err := metricsOf(db, n)
			if err != nil {
				return err
			}
			v, ok := childObjective(db, n, h, spec.Metric)
			if !ok || math.IsNaN(v) {
				continue
			}
			b := &best
			if n.State == track.NodePruned {
				b = &bestPruned
			}
			if math.IsNaN(*b) || spec.better(v, *b) {
				*b = v
			}
		}
		if math.IsNaN(best) {
			best = bestPruned
		}
		if !math.IsNaN(best) {
			mv := metricValue(best)
			en.Objective = &mv
		}
	}
	return nil
}

// childObjective is the final value of metric for a child node run: from its logged metrics (a
// train trial), else from the "final" object of its metrics.json output (a command trial writes
// {"epochs": [...], "final": {...}}; see the sweep kind), read only while the file at the
// recorded path still has the recorded digest. A cache hit reads its producer's file.
func childObjective(db *track.DB, n track.NodeRun, h *metricHistory, metric string) (float64, bool) {
	if h != nil {
		if v, ok := h.final(metric); ok {
			return v, true
		}
	}
	outs := n.Outputs
	if p, err := producerOf(db, n); err == nil && p != nil {
		outs = p.Outputs
	}
	var m map[string]struct {
		Path   string `json:"path"`
		Type   string `json:"type"`
		Digest string `json:"digest"`
	}
	if len(outs) == 0 || json.Unmarshal(outs, &m) != nil {
		return 0, false
	}
	for _, name := range sortedKeys(m) {
		o := m[name]
		if o.Type != "file" || (name != "metrics" && filepath.Base(o.Path) != "metrics.json") {
			continue
		}
		if v, ok := finalFromFile(o.Path, o.Digest, metric); ok {
			return v, true
		}
	}
	return 0, false
}

// maxMetricsFile bounds the metrics.json files `runs` reads.
const maxMetricsFile = 4 << 20

// finalFromFile reads final[metric] from the metrics.json at path (project-relative or absolute)
// when its SHA-256 is digest.
func finalFromFile(path, digest, metric string) (float64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxMetricsFile+1))
	if err != nil || len(b) > maxMetricsFile {
		return 0, false
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != digest {
		return 0, false // the file changed since the node published it
	}
	var doc struct {
		Final map[string]any `json:"final"`
	}
	if json.Unmarshal(b, &doc) != nil {
		return 0, false
	}
	v, ok := doc.Final[metric].(float64)
	return v, ok
}
