package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages"
)

// Twin is the outcome of re-executing one cached node for `pcamflow verify`.
type Twin struct {
	Node string `json:"node"`
	// RunID is the run that produced the cached outputs.
	RunID string `json:"run_id"`
	// Match is true when every output of the twin equals the cached one bit for bit (measured
	// outputs excepted).
	Match bool `json:"match"`
	// Differ lists the outputs whose content differs.
	Differ []string `json:"differ,omitempty"`
	// Differences describes, per differing output that is a small regular file, where the twin
	// first departs from the cached version (a line of a text file, a byte offset otherwise).
	Differences map[string]string `json:"differences,omitempty"`
	// Measured lists the outputs the kind declares as measurements (stages.Measured): they are not
	// compared.
	Measured []string `json:"measured,omitempty"`
	// Compared is the number of outputs compared bit for bit (the outputs that are not
	// measurements).
	Compared int `json:"compared"`
	// Summary and TwinSummary describe the cached and the twin result when the kind summarises its
	// nodes (stages.Summarizer), e.g. the final losses of a training node.
	Summary     []stages.SummaryValue `json:"summary,omitempty"`
	TwinSummary []stages.SummaryValue `json:"twin_summary,omitempty"`
	LogPath     string                `json:"log_path"`
}

// Verify re-executes the nodes of stage or node addr from scratch, outside the cache (no resume,
// nothing published, nothing recorded), and compares every output bit for bit with the cached
// outputs of the same key. The nodes must be cached (run the pipeline first). Outputs that a
// command writes into the project are put back to the cached version afterwards.
func (r *Runner) Verify(ctx context.Context, addr, runID string) ([]Twin, error) {
	var targets []*pipelines.Node
	if s, ok := r.p.Stage(addr); ok {
		targets = s.Nodes
	} else if n, ok := r.p.Node(addr); ok {
		targets = []*pipelines.Node{n}
	} else {
		return nil, fmt.Errorf("no stage or node %q in pipeline %s", addr, r.p.Name)
	}
	var twins []Twin
	for _, node := range targets {
		t, err := r.verifyNode(ctx, node, runID)
		if err != nil {
			return twins, err
		}
		twins = append(twins, t)
	}
	return twins, nil
}

// verifyNode re-executes one cached node into scratch space and compares its outputs.
func (r *Runner) verifyNode(ctx context.Context, node *pipelines.Node, runID string) (Twin, error) {
	n, rec, x, err := r.cachedNode(node, runID)
	if err != nil {
		return Twin{}, err
	}
	resume, err := os.MkdirTemp(filepath.Join(r.store.Root(), "tmp"), "verify-")
	if err != nil {
		return Twin{}, err
	}
	defer os.RemoveAll(resume)
	logPath := filepath.Join(r.store.Root(), "logs", runID, "verify."+logName(node.Addr))
	env, cleanup, err := r.runKind(ctx, n, x, logPath, resume)
	defer cleanup()
	tw := Twin{Node: node.Addr, RunID: rec.RunID, Match: true, LogPath: logPath}
	if err != nil {
		return tw, fmt.Errorf("re-executing %s: %w (log %s)", node.Addr, err, logPath)
	}
	if m, ok := node.Stage.Kind.(stages.Measured); ok {
		tw.Measured = m.MeasuredOutputs()
	}
	cached := map[string]string{}
	for _, name := range sortedNames(rec.Outputs) {
		cached[name] = r.abs(rec.Outputs[name].Path)
		if slices.Contains(tw.Measured, name) {
			continue
		}
		tw.Compared++
		a, err := r.store.Digest(env.OutputPaths[name])
		if err != nil || a.Digest != rec.Outputs[name].Digest || a.Type != rec.Outputs[name].Type {
			tw.Match = false
			tw.Differ = append(tw.Differ, name)
			if d := r.describeDifference(rec.Outputs[name], env.OutputPaths[name]); d != "" {
				if tw.Differences == nil {
					tw.Differences = map[string]string{}
				}
				tw.Differences[name] = d
			}
		}
	}
	summarizer, summarizes := node.Stage.Kind.(stages.Summarizer)
	if summarizes {
		tw.TwinSummary = summarizer.Summarize(env.OutputPaths)
	}
	if err := r.restoreAll(node.Addr, rec); err != nil { // project outputs back to the cached version
		return tw, err
	}
	if summarizes {
		tw.Summary = summarizer.Summarize(cached)
	}
	return tw, nil
}

// cachedNode prepares a node whose upstream and itself are cached, as Exec does. For a node that
// runs children it also returns an execution that records nothing, through which its twin runs its
// children (found in the cache when the node is reproducible).
func (r *Runner) cachedNode(target *pipelines.Node, runID string) (*prepared, *cache.Record, *execution, error) {
	ex, records, err := r.cachedUpstream(target)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w; run the pipeline first, then verify", err)
	}
	n, err := r.prepare(target, ex.stageValues(target), records)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", target.Addr, err)
	}
	rec, ok, err := r.store.GetRecord(n.key)
	if n.key == "" || err != nil || !ok {
		return nil, nil, nil, fmt.Errorf("%s is not in the cache with its current inputs; run the pipeline first, then verify", target.Addr)
	}
	var x *execution
	if isSpawner(target) {
		x = r.newExecution(runID)
		close(x.done)
		x.rec = newRecorder(nil, runID, r.opt.Out)
		x.exposed, x.records = ex, records
	}
	return n, rec, x, r.restoreAll(target.Addr, rec)
}
