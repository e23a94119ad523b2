package benchmark

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/pcamflow/pcamflow/internal/atomicfile"
	"github.com/pcamflow/pcamflow/plots"
	"github.com/pcamflow/pcamflow/stages"
)

// TableHeader is the header of table.md, in exactly the shape users report.
const TableHeader = "| Partition | Node type | Throughput (img/s) | Job ID |"

// writeOutputs writes results.json, table.md, batches.md and scaling.png.
func writeOutputs(env *stages.Env, res *Results) error {
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(env.OutputPaths[outResults], append(data, '\n'), 0o644); err != nil {
		return err
	}
	if err := atomicfile.Write(env.OutputPaths[outTable], []byte(Table(res)), 0o644); err != nil {
		return err
	}
	if err := atomicfile.Write(env.OutputPaths[outBatches], []byte(BatchTable(res)), 0o644); err != nil {
		return err
	}
	fmt.Fprint(env.Log, Table(res))
	return plotScaling(env.OutputPaths[outPlot], res)
}

// ReadResults reads a results.json.
func ReadResults(path string) (*Results, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// smallest returns the batch-1 entry of a node, else its smallest batch size.
func (n NodeResult) smallest() (BatchResult, bool) {
	var best BatchResult
	found := false
	for _, b := range n.Batches {
		if !found || b.Batch < best.Batch {
			best, found = b, true
		}
	}
	return best, found
}

// Table is table.md: one row per node with its throughput at batch size 1 (at its smallest batch
// size, said below the table, when 1 was not measured).
func Table(res *Results) string {
	var b strings.Builder
	b.WriteString(TableHeader + "\n|---|---|---:|---|\n")
	var notes []string
	for _, n := range res.Nodes {
		br, ok := n.smallest()
		if !ok {
			continue
		}
		if br.Batch != 1 {
			notes = append(notes, fmt.Sprintf("%s: batch size %d (batch size 1 was not measured).", n.Node, br.Batch))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(n.Partition), cell(n.NodeType), rate(br.ImagesPerSecond), cell(jobCell(n.JobID)))
	}
	if len(notes) > 0 {
		b.WriteString("\n" + strings.Join(notes, "\n") + "\n")
	}
	return b.String()
}

// BatchTable is batches.md: every batch size of every node, then where each node ran.
func BatchTable(res *Results) string {
	var b strings.Builder
	b.WriteString("| Partition | Engine | Model | Batch | Throughput (img/s) | Latency p50 (ms) | p95 (ms) | p99 (ms) | Read | Preprocess | Compute | Bottleneck | Job ID |\n")
	b.WriteString("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n")
	for _, n := range res.Nodes {
		for _, br := range n.Batches {
			fmt.Fprintf(&b, "| %s | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", cell(n.Partition), cell(n.Engine),
				cell(n.Model), br.Batch, rate(br.ImagesPerSecond), ms(br.LatencyMS.P50), ms(br.LatencyMS.P95), ms(br.LatencyMS.P99),
				share(br.ReadSeconds, br.Seconds), share(br.PreprocessSeconds, br.Seconds), share(br.ComputeSeconds, br.Seconds),
				cell(br.Bottleneck), cell(jobCell(n.JobID)))
		}
	}
	b.WriteString("\n| Node | Host | CPU | Cores | Threads | BLAS (kernel) | CUDA_VISIBLE_DEVICES | GPU used | Slurm partition | Job ID | Array job | Array task | Load (1 min) | Date |\n")
	b.WriteString("|---|---|---|---:|---:|---|---|---|---|---|---|---|---:|---|\n")
	for _, n := range res.Nodes {
		m := n.Machine
		threads := "not said"
		if m.Threads > 0 {
			threads = strconv.Itoa(m.Threads)
		}
		used := "no"
		if m.GPUUsed {
			used = "yes (" + m.Device + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", cell(n.Node), cell(m.Host), cell(m.CPU),
			m.Cores, threads, cell(m.BLAS), cell(dash(m.CUDAVisibleDevices)), used, cell(dash(m.SlurmPartition)), cell(dash(m.SlurmJobID)),
			cell(dash(m.SlurmArrayJobID)), cell(dash(m.SlurmArrayTask)), cell(dash(m.LoadAverage)), cell(m.Date))
	}
	return b.String()
}

// jobCell is the Job ID column: the job id, or "local" for a node that ran outside Slurm.
func jobCell(id string) string {
	if id == "" {
		return "local"
	}
	return id
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// cell escapes a Markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}

// rate formats images per second with thousands separators and one decimal.
func rate(v float64) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String() + "." + frac
}

func ms(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

func share(part, total float64) string {
	if total <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", 100*part/total)
}

// seriesName names a node's line in the scaling plot: its partition, with the engine and model
// when the plot holds several of them.
func seriesName(n NodeResult, several bool) string {
	if !several {
		return n.Partition
	}
	engine := n.Engine
	if i := strings.IndexAny(engine, " ("); i > 0 {
		engine = engine[:i]
	}
	return fmt.Sprintf("%s · %s %s", n.Partition, engine, n.Model)
}

// plotScaling draws images/s against the batch size, one line per node (per partition), both axes
// logarithmic.
func plotScaling(path string, res *Results) error {
	p := plots.New("Inference throughput against batch size", "batch size", "images / s")
	plots.LogX(p)
	plots.LogY(p)
	kinds := map[string]bool{}
	for _, n := range res.Nodes {
		kinds[n.Engine+"\x00"+n.Model] = true
	}
	for i, n := range res.Nodes {
		s := plots.Series{Name: seriesName(n, len(kinds) > 1)}
		for _, b := range n.Batches {
			s.X = append(s.X, float64(b.Batch))
			s.Y = append(s.Y, b.ImagesPerSecond)
		}
		if err := plots.AddLine(p, s, i, false); err != nil {
			return err
		}
		if err := plots.AddPoints(p, plots.Series{X: s.X, Y: s.Y}, i); err != nil {
			return err
		}
	}
	return plots.Save(p, path)
}

// collect reads the results of the collected nodes and combines them, in order (a stage collected
// twice counts once). Two nodes that hold one measurement — instances whose configurations are
// equal share one key, so the second is the first's cache hit — are an error: the table would
// show one job under two partitions.
func collect(c *config) (*Results, error) {
	out := &Results{}
	from := map[string]string{} // measured node => the results file it came from
	for _, p := range c.collect {
		r, err := ReadResults(p)
		if err != nil {
			return nil, fmt.Errorf("collect: %w", err)
		}
		for _, n := range r.Nodes {
			if first, seen := from[n.Node]; seen {
				if first == p {
					continue
				}
				return nil, fmt.Errorf("collect: two of the collected nodes hold the same measurement, of %s (job %s): "+
					"their configurations are equal, so they share one cache entry. Give each its own partition "+
					"(partition = each.value, next to the resources' partition) so that each is measured", n.Node, jobCell(n.JobID))
			}
			from[n.Node] = p
			out.Nodes = append(out.Nodes, n)
		}
	}
	return out, nil
}
