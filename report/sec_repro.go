package report

import (
	"encoding/json"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/pcamflow/pcamflow/stages/train"
	"github.com/pcamflow/pcamflow/track"
)

// reproducibility answers: is the run reproducible, do twin runs match? It shows the seeds, the
// engine facts recorded with each node, and the twin-run table of `pcamflow verify`.
func reproducibility(s *source) *section {
	sec := &section{ID: "reproducibility", Title: "Reproducibility",
		Question: "Is the run reproducible? Which seeds and which engine produced it, and do twin runs match bit for bit?"}
	sec.add(heading{"Seeds"})
	sec.add(seedTable(s))
	sec.add(heading{"Engine"})
	sec.add(engineTable(s))
	sec.add(para{"This report was written by a binary built with " + buildVersions() +
		". The kind version of each node (above) is part of its cache key: a new version reruns the node."})
	sec.add(heading{"Twin runs (pcamflow verify)"})
	sec.add(twinBlocks(s)...)
	return sec
}

// seedTable lists, per node, the seed in its cache key (the pipeline seed, or the node's own seed
// for one seed of a stage with seeds) and the seeds of its stage.
func seedTable(s *source) table {
	t := table{Head: []string{"node", "kind", "seed (in the cache key)", "seeds of the stage"}}
	for _, n := range s.nodes {
		if isTrial(n.Node) {
			continue
		}
		var p struct {
			Seed  *int64  `json:"seed"`
			Seeds []int64 `json:"seeds"`
		}
		_ = json.Unmarshal(n.Params, &p)
		seed := dash
		if rec, ok, err := s.objects.GetRecord(n.Key); err == nil && ok && rec.Components["seed"] != "" {
			seed = rec.Components["seed"]
		} else if p.Seed != nil {
			seed = fmt.Sprint(*p.Seed)
		}
		seeds := dash
		if len(p.Seeds) > 0 {
			seeds = strings.Trim(fmt.Sprint(p.Seeds), "[]")
		}
		t.Rows = append(t.Rows, []string{n.Node, n.Kind, seed, seeds})
	}
	return t
}

// engineTable lists where and with what each node ran (for a cache hit: the execution that produced
// its outputs): host, executor and job, kind version, and for training nodes the BLAS backend, its
// build, the CPU and the kernel threads recorded per epoch.
func engineTable(s *source) table {
	t := table{Head: []string{"node", "state", "host", "executor", "Slurm job", "kind version", "BLAS kernel", "BLAS build", "CPU", "threads"}}
	for _, n := range s.nodes {
		if isTrial(n.Node) {
			continue
		}
		version := dash
		if rec, ok, err := s.objects.GetRecord(n.Key); err == nil && ok {
			version = orDash(rec.Version)
		}
		blas, build, cpu, threads := dash, dash, dash, dash
		var m train.Final
		if n.Kind == "train" && s.has(n, "metrics.json") && s.jsonFile(n, "metrics.json", &m) == nil {
			blas, build, cpu = orDash(m.BLAS.Backend), orDash(m.BLAS.Config), orDash(m.BLAS.CPU)
			if m.BLAS.Warning != "" {
				blas += " (warning: " + m.BLAS.Warning + ")"
			}
			threads = lastMetric(s, n, "threads")
		}
		p := s.producing(n)
		t.Rows = append(t.Rows, []string{n.Node, string(n.State), orDash(p.Host), orDash(string(p.Executor)), orDash(p.JobID), version, blas, build, cpu, threads})
	}
	return t
}

// lastMetric formats the value of a per-step metric at the node's last step, or a dash.
func lastMetric(s *source, n track.NodeRun, name string) string {
	rows, err := s.metrics(n)
	if err != nil {
		return dash
	}
	out := dash
	for _, r := range rows {
		if r.Name == name {
			out = scalar(r.Value)
		}
	}
	return out
}

// twinBlocks shows every verify of the run's nodes (by cache key), or how to run one.
func twinBlocks(s *source) []block {
	var keys []string
	for _, n := range s.nodes {
		if n.Key != "" {
			keys = append(keys, n.Key)
		}
	}
	twins, err := s.db.TwinsOf(keys)
	if err != nil {
		return []block{para{"The twin-run records cannot be read: " + err.Error()}}
	}
	if len(twins) == 0 {
		target := s.firstStage("train")
		for _, n := range s.nodes {
			if strings.HasPrefix(n.Node, target+"[") {
				target = n.Node
				break
			}
		}
		if target == "" && len(s.nodes) > 0 {
			target = s.nodes[len(s.nodes)-1].Node
		}
		return []block{hint{"No twin run of these outputs is recorded: re-execute a node from scratch and compare it bit for bit with",
			fmt.Sprintf("pcamflow verify '%s'", target)}}
	}
	var names []string // the summary numbers of all records, in order of first appearance
	for _, tw := range twins {
		for _, v := range tw.Summary {
			if !slices.Contains(names, v.Name) {
				names = append(names, v.Name)
			}
		}
	}
	t := table{Head: append(append([]string{"node", "verified", "outputs from run", "run"}, names...), "match")}
	t.Numeric = make([]bool, len(t.Head))
	for i := range names {
		t.Numeric[4+i] = true
	}
	matched := 0
	for _, tw := range twins {
		verdict := "yes, bit for bit"
		if tw.Match {
			matched++
		} else {
			verdict = "NO: " + strings.Join(tw.Differ, ", ") + " differ"
		}
		if len(tw.Measured) > 0 {
			verdict += " (measurements not compared: " + strings.Join(tw.Measured, ", ") + ")"
		}
		cached := []string{tw.Node, when(tw.Verified), tw.CachedRunID, "cached"}
		twin := []string{"", "", tw.VerifyID, "twin on " + orDash(tw.Host)}
		for _, name := range names {
			c, w := dash, dash
			for _, v := range tw.Summary {
				if v.Name == name {
					c, w = exact(v.Cached), exact(v.Twin)
				}
			}
			cached, twin = append(cached, c), append(twin, w)
		}
		t.Rows = append(t.Rows, append(cached, ""), append(twin, verdict))
	}
	return []block{para{fmt.Sprintf("%d twin runs recorded, %d bit-identical to the cached outputs.", len(twins), matched)}, t}
}

// buildVersions names the Go version and the main modules of the running binary.
func buildVersions() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown versions"
	}
	parts := []string{info.GoVersion}
	for _, d := range info.Deps {
		for _, want := range []string{"gorgonia.org/gorgonia", "gonum.org/v1/gonum", "gonum.org/v1/hdf5", "github.com/mattn/go-sqlite3", "gonum.org/v1/plot"} {
			if d.Path == want {
				parts = append(parts, d.Path+" "+d.Version)
			}
		}
	}
	return strings.Join(parts, ", ")
}

// isTrial reports whether addr is a sweep trial (kind.name.trial["..."]).
func isTrial(addr string) bool {
	a, _, _ := strings.Cut(addr, "[")
	return strings.HasSuffix(a, ".trial")
}
