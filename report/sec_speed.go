package report

import (
	"fmt"

	"github.com/pcamflow/pcamflow/track"
)

// speed answers: how fast is training and inference, where, and with which Slurm job as evidence?
// It shows every benchmark node's results and pictures (throughput per partition and batch size,
// the scaling plot) and the training throughput each training node recorded per epoch, with the
// host, executor and job id of its row.
func speed(s *source) *section {
	sec := &section{ID: "speed", Title: "Speed",
		Question: "How fast are inference and training on each partition (CPU vs GPU, batch 1 vs larger), with the Slurm job id as evidence?"}
	sec.add(heading{"Inference benchmark"})
	sec.add(kindBlocks(s, "benchmark", func(n track.NodeRun) []block {
		out := []block{jobTable([]track.NodeRun{s.producing(n)})}
		return append(out, outputBlocks(s, n, nil, nil)...)
	})...)
	if st := s.byStage("train"); len(st) > 0 {
		sec.add(heading{"Training throughput"})
		var nodes []track.NodeRun
		for _, t := range st {
			nodes = append(nodes, t.Instances...)
			if len(t.Instances) == 0 && t.Main != nil {
				nodes = append(nodes, *t.Main)
			}
		}
		t := table{Caption: "Recorded by each training node at its last epoch (for a cache hit: by the execution that produced its outputs)",
			Head:    []string{"node", "state", "executor", "host", "Slurm job", "images/s", "epoch seconds", "data wait %", "threads", "node took"},
			Numeric: []bool{false, false, false, false, false, true, true, true, true, false}}
		for _, n := range nodes {
			wait := lastMetric(s, n, "data_wait_share")
			if wait != dash {
				var f float64
				if _, err := fmt.Sscan(wait, &f); err == nil {
					wait = fmt.Sprintf("%.1f", 100*f)
				}
			}
			p := s.producing(n)
			t.Rows = append(t.Rows, []string{n.Node, string(n.State), orDash(string(p.Executor)), orDash(p.Host), orDash(p.JobID),
				whole(lastMetric(s, n, "images_per_second")), lastMetric(s, n, "epoch_seconds"), wait, lastMetric(s, n, "threads"), took(p.Started, p.Finished)})
		}
		sec.add(t)
	}
	return sec
}

// jobTable lists where nodes ran: executor, host, Slurm job id and duration.
func jobTable(nodes []track.NodeRun) table {
	t := table{Head: []string{"node", "state", "executor", "host", "Slurm job", "took"}}
	for _, n := range nodes {
		t.Rows = append(t.Rows, []string{n.Node, string(n.State), orDash(string(n.Executor)), orDash(n.Host), orDash(n.JobID), took(n.Started, n.Finished)})
	}
	return t
}

// whole formats a number cell without decimals ("3800.1234" -> "3,800").
func whole(s string) string {
	var f float64
	if _, err := fmt.Sscan(s, &f); err != nil || s == dash {
		return s
	}
	return count(int(f + 0.5))
}
