package report

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/pcamflow/pcamflow/stages/train"
	"github.com/pcamflow/pcamflow/track"
)

// maxTableRows bounds the rows of a table read from a stage's JSON (a 1,000-trial grid).
const maxTableRows = 200

// results answers: which metrics, averaged over seeds; which hyperparameters win; which threshold;
// how good is the model on test against baselines, with intervals?
func results(s *source) *section {
	sec := &section{ID: "results", Title: "Results",
		Question: "How good is the model: metrics mean ± std over seeds, the sweep and its champion, the decision threshold, and test metrics against baselines with intervals?"}
	sec.add(heading{"Training metrics over seeds"})
	if st := s.byStage("train"); len(st) == 0 {
		sec.add(s.kindHint("train"))
	} else {
		for _, t := range st {
			sec.add(seedResults(s, t)...)
		}
	}
	sec.add(heading{"Sweep"})
	sec.add(kindBlocks(s, "sweep", func(n track.NodeRun) []block { return sweepBlocks(s, n) })...)
	sec.add(heading{"Decision threshold"})
	sec.add(kindBlocks(s, "threshold", func(n track.NodeRun) []block { return outputBlocks(s, n, nil, nil) })...)
	sec.add(heading{"Test evaluation and baselines"})
	notFailures := func(name string) bool { return !aboutFailures(name) }
	sec.add(kindBlocks(s, "evaluate", func(n track.NodeRun) []block { return outputBlocks(s, n, notFailures, aboutFailures) })...)
	return sec
}

// kindBlocks renders the main node of every stage of kind with render, or the kind's hint.
func kindBlocks(s *source, kind string, render func(track.NodeRun) []block) []block {
	stages := s.byStage(kind)
	if len(stages) == 0 {
		return []block{s.kindHint(kind)}
	}
	var out []block
	for _, st := range stages {
		nodes := st.all()
		if st.Main != nil && kind == "sweep" {
			nodes = []track.NodeRun{*st.Main} // trials are shown through the sweep's table
		}
		for _, n := range nodes {
			out = append(out, para{fmt.Sprintf("%s (%s): %s.", n.Node, n.State, orDash(n.Reason))})
			if n.State == track.NodeFailed || n.State == track.NodeSkipped {
				continue
			}
			out = append(out, render(n)...)
		}
	}
	return out
}

// seedResults shows a train stage's final and best metrics, mean ± std over its seeds, with every
// seed's value (aggregate.json), or a single node's metrics.json.
func seedResults(s *source, st stage) []block {
	if st.Main == nil {
		return []block{para{st.Addr + ": no aggregate node in this run."}}
	}
	var agg train.Summary
	if s.has(*st.Main, "aggregate.json") {
		if err := s.jsonFile(*st.Main, "aggregate.json", &agg); err != nil {
			return []block{para{err.Error()}}
		}
		head := []string{"metric", "final epoch: mean ± std", "best epoch: mean ± std"}
		for _, seed := range agg.Seeds {
			head = append(head, "seed "+seed)
		}
		t := table{Caption: fmt.Sprintf("%s over %d seeds (best epoch by %s; best seed %s)", st.Addr, len(agg.Seeds), agg.Monitor, agg.BestSeed), Head: head}
		for _, name := range slices.Sorted(maps.Keys(agg.Final)) {
			f, b := agg.Final[name], agg.Best[name]
			row := []string{name, meanStd(f.Mean, f.Std, f.N), meanStd(b.Mean, b.Std, b.N)}
			for _, seed := range agg.Seeds {
				row = append(row, num(agg.PerSeed[seed][name]))
			}
			t.Rows = append(t.Rows, row)
		}
		return []block{t}
	}
	var m train.Final
	if err := s.jsonFile(*st.Main, "metrics.json", &m); err != nil {
		return []block{para{err.Error()}}
	}
	t := table{Caption: fmt.Sprintf("%s, seed %d (one seed: no spread; add seeds = [1, 2, 3] for mean ± std)", st.Addr, m.Seed),
		Head: []string{"metric", "final epoch", "best epoch"}, Numeric: []bool{false, true, true}}
	for _, name := range slices.Sorted(maps.Keys(m.Final)) {
		t.Rows = append(t.Rows, []string{name, num(m.Final[name]), num(m.Best[name])})
	}
	return []block{t}
}

// sweepBlocks shows a sweep node: its trial table (trials.json), its other JSON outputs (champion,
// best parameters) and its pictures.
func sweepBlocks(s *source, n track.NodeRun) []block {
	var out []block
	if s.has(n, "trials.json") {
		data, err := s.file(n, "trials.json")
		if err == nil {
			var v any
			if v, err = decodeJSON(data); err == nil {
				out = append(out, championLine(v)...)
				out = append(out, jsonBlocks(n.Node+" trials.json", v, maxTableRows, nil)...)
			}
		}
		if err != nil {
			out = append(out, para{"The trial table cannot be read: " + err.Error()})
		}
	}
	return append(out, outputBlocks(s, n, func(name string) bool { return name != "trials.json" }, nil)...)
}

// outputBlocks shows the JSON outputs and pictures of a node whose names keep accepts (all when
// keep is nil): each JSON file laid out as tables without its top-level fields that skip names
// (none when nil), then the pictures. Files inside folders count by their path ("plots/roc.png").
// A JSON file may be kept only for some of its fields: keep sees the file name, skip the fields.
func outputBlocks(s *source, n track.NodeRun, keep, skip func(name string) bool) []block {
	var out []block
	for _, name := range slices.Sorted(maps.Keys(s.outputs(n))) {
		if !strings.HasSuffix(name, ".json") || (keep != nil && !keep(name)) {
			continue
		}
		data, err := s.file(n, name)
		if err != nil {
			out = append(out, para{err.Error()})
			continue
		}
		v, err := decodeJSON(data)
		if err != nil {
			out = append(out, para{fmt.Sprintf("%s output %s is not valid JSON: %v", n.Node, name, err)})
			continue
		}
		out = append(out, jsonBlocks(n.Node+" "+name, v, maxTableRows, skip)...)
	}
	var rels []string
	for rel := range s.pictures(n) {
		if keep == nil || keep(rel) {
			rels = append(rels, rel)
		}
	}
	sort.Strings(rels)
	return append(out, s.nodePictures(n, rels...)...)
}

// aboutFailures reports whether an output (or a field of one) is failure analysis — slices, error
// montages, worst cases — which the "where it fails" section shows.
func aboutFailures(name string) bool {
	b := strings.ToLower(name)
	for _, w := range []string{"slice", "montage", "false_neg", "false_pos", "error", "worst", "fn_", "fp_"} {
		if strings.Contains(b, w) {
			return true
		}
	}
	return false
}

// championLine names the champion of a trial table that says which trial it is ({"champion": N,
// "metric": ..., "trials": [{"trial": N, "objective": ..., "params": {...}}]}); nothing otherwise.
func championLine(v any) []block {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	c, ok := asFloat(m["champion"])
	rows, isRows := m["trials"].([]any)
	if !ok || !isRows {
		return nil
	}
	if c < 0 {
		return []block{para{"No trial completed: the sweep has no champion."}}
	}
	for _, r := range rows {
		row, _ := r.(map[string]any)
		if t, ok := asFloat(row["trial"]); !ok || t != c {
			continue
		}
		var params []string
		if p, ok := row["params"].(map[string]any); ok {
			for _, k := range slices.Sorted(maps.Keys(p)) {
				params = append(params, k+" = "+cell(p[k]))
			}
		}
		return []block{para{fmt.Sprintf("Champion: trial %s with %s %s (goal %s, %d trials; %s epochs): %s.", scalar(row["trial"]),
			orDash(scalar(m["metric"])), cell(row["objective"]), orDash(scalar(m["goal"])), len(rows), cell(row["epochs"]), strings.Join(params, ", "))}}
	}
	return nil
}
