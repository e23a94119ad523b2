package benchmark

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestParseLines(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
		n                 int
	}{
		{name: "good", in: "{\"batch\": 1, \"images\": 1, \"seconds\": 0.001}\n\n{\"batch\": 8, \"images\": 8, \"seconds\": 0.004, \"read\": 0, \"preprocess\": 0.001, \"compute\": 0.003, \"device\": \"cpu\"}\n", n: 2},
		{name: "warmup and extra fields", in: `{"batch": 1, "images": 1, "seconds": 0.5, "warmup": true, "note": "x"}`, n: 1},
		{name: "not json", in: "{\"batch\": 1, \"images\": 1, \"seconds\": 0.001}\nloading model...\n", wantErr: "output line 2: not a JSON object"},
		{name: "missing seconds", in: "\n\n{\"batch\": 1, \"images\": 1}\n", wantErr: "output line 3: batch, images and seconds are required"},
		{name: "fractional batch", in: `{"batch": 1.5, "images": 1, "seconds": 0.1}`, wantErr: "output line 1: not a JSON object"},
		{name: "zero seconds", in: `{"batch": 1, "images": 1, "seconds": 0}`, wantErr: "output line 1: seconds 0 is not a positive time"},
		{name: "zero batch", in: `{"batch": 0, "images": 1, "seconds": 1}`, wantErr: "output line 1: batch 0 is not a batch size"},
		{name: "partial split", in: `{"batch": 1, "images": 1, "seconds": 1, "read": 0.1}`, wantErr: "give all three or none"},
		{name: "two values", in: `{"batch": 1, "images": 1, "seconds": 1} {"batch": 1}`, wantErr: "more than one JSON value"},
		{name: "nothing", in: "\n", wantErr: "printed no JSON lines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, err := ParseLines(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseLines error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(lines) != tt.n {
				t.Fatalf("ParseLines = %d lines, %v; want %d", len(lines), err, tt.n)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	var calls []call
	// 100 calls of batch 4: 1..100 ms, reading 10% and preprocessing 20% of each
	for i := 1; i <= 100; i++ {
		s := float64(i) / 1000
		calls = append(calls, call{batch: 4, images: 4, read: 0.1 * s, preprocess: 0.2 * s, compute: 0.7 * s, total: s, hasSplit: true})
	}
	r := summarize(4, calls)
	if r.Images != 400 || r.Calls != 100 {
		t.Errorf("images, calls = %d, %d; want 400, 100", r.Images, r.Calls)
	}
	if want := 400 / 5.05; math.Abs(r.ImagesPerSecond-want) > 1e-9 {
		t.Errorf("images/s = %v, want %v", r.ImagesPerSecond, want)
	}
	if r.LatencyMS.P50 != 50 || r.LatencyMS.P95 != 95 || r.LatencyMS.P99 != 99 || math.Abs(r.LatencyMS.Mean-50.5) > 1e-9 {
		t.Errorf("latency = %+v, want p50 50 p95 95 p99 99 mean 50.5", r.LatencyMS)
	}
	if r.Bottleneck != "compute (70%)" {
		t.Errorf("bottleneck = %q", r.Bottleneck)
	}
	// reading dominates
	r = summarize(1, []call{{batch: 1, images: 1, read: 0.8, preprocess: 0.1, compute: 0.1, total: 1, hasSplit: true}})
	if r.Bottleneck != "reading (80%)" {
		t.Errorf("bottleneck = %q, want reading (80%%)", r.Bottleneck)
	}
	// a line holding 10 batches of 8 counts as 10 batches of its mean time; no split means compute
	r = summarize(8, []call{{batch: 8, images: 80, total: 2}})
	if r.LatencyMS.P50 != 200 || r.ImagesPerSecond != 40 || r.Bottleneck != "compute (100%)" {
		t.Errorf("grouped line: %+v", r)
	}
}

func TestTable(t *testing.T) {
	res := &Results{Nodes: []NodeResult{
		{Node: `benchmark.b["cpu"]`, Partition: "cpu", NodeType: "CPU node (X, 2 cores)", JobID: "41_0",
			Batches: []BatchResult{{Batch: 8, ImagesPerSecond: 9000}, {Batch: 1, ImagesPerSecond: 1234.56}}},
		{Node: `benchmark.b["gpu"]`, Partition: "gpu", NodeType: "GPU | node", JobID: "42_0",
			Batches: []BatchResult{{Batch: 4, ImagesPerSecond: 10}}},
		{Node: "benchmark.l", Partition: "local", NodeType: "CPU", Batches: []BatchResult{{Batch: 1, ImagesPerSecond: 1}}},
	}}
	got := Table(res)
	want := TableHeader + "\n|---|---|---:|---|\n" +
		"| cpu | CPU node (X, 2 cores) | 1,234.6 | 41_0 |\n" +
		"| gpu | GPU \\| node | 10.0 | 42_0 |\n" +
		"| local | CPU | 1.0 | local |\n" +
		"\nbenchmark.b[\"gpu\"]: batch size 4 (batch size 1 was not measured).\n"
	if got != want {
		t.Errorf("Table =\n%s\nwant\n%s", got, want)
	}
}

func TestNodeType(t *testing.T) {
	m := Machine{CPU: "AMD EPYC", Cores: 2}
	if got := m.nodeType(); got != "CPU node (AMD EPYC, 2 cores)" {
		t.Errorf("nodeType = %q", got)
	}
	m.CUDAVisibleDevices = "0"
	if got := m.nodeType(); got != "GPU node (GPUs 0, not used; AMD EPYC, 2 cores)" {
		t.Errorf("nodeType = %q", got)
	}
	m.SlurmArrayJobID, m.SlurmArrayTask, m.SlurmJobID = "40", "1", "42"
	if m.jobID() != "40_1" {
		t.Errorf("jobID = %q, want 40_1", m.jobID())
	}
}

func TestCollected(t *testing.T) {
	node := func(p string) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal("benchmark"), "results": cty.StringVal(p)})
	}
	v := cty.TupleVal([]cty.Value{
		cty.ObjectVal(map[string]cty.Value{"cpu": node("a"), "gpu": node("b")}), // a for_each stage
		node("c"),
	})
	got, err := collected(v)
	if err != nil || strings.Join(got, ",") != "a,b,c" {
		t.Errorf("collected = %v, %v; want a,b,c", got, err)
	}
	if _, err := collected(cty.TupleVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal("model")})})); err == nil {
		t.Error("collecting a model is not an error")
	}
	if _, err := collected(cty.EmptyTupleVal); err == nil {
		t.Error("collecting nothing is not an error")
	}
}

func TestLabel(t *testing.T) {
	slurmJob := Machine{CPU: "X", Cores: 4, SlurmPartition: "gpu", SlurmJobID: "12", SlurmArrayJobID: "11", SlurmArrayTask: "1"}
	tests := []struct {
		name                   string
		c                      config
		m                      Machine
		partition, job, errSub string
	}{
		{name: "slurm job", c: config{partition: "gpu"}, m: slurmJob, partition: "gpu", job: "11_1"},
		{name: "partition from the job", m: slurmJob, partition: "gpu", job: "11_1"},
		{name: "wrong partition", c: config{partition: "cpu"}, m: slurmJob, errSub: `partition = "cpu" but the node ran in Slurm job 11_1 on partition "gpu"`},
		{name: "local", m: Machine{CPU: "X"}, partition: "local", job: ""},
		{name: "partition outside Slurm", c: config{partition: "cpu"}, m: Machine{CPU: "X"}, partition: "cpu", job: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NodeResult{Machine: tt.m}
			err := r.label(&tt.c)
			if tt.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errSub) {
					t.Fatalf("label error = %v, want %q", err, tt.errSub)
				}
				return
			}
			if err != nil || r.Partition != tt.partition || r.JobID != tt.job {
				t.Errorf("label = %q, %q, %v; want %q, %q", r.Partition, r.JobID, err, tt.partition, tt.job)
			}
		})
	}
}

func TestCollectRefusesSharedMeasurements(t *testing.T) {
	dir := t.TempDir()
	write := func(name, node string) string {
		p := filepath.Join(dir, name)
		data, _ := json.Marshal(Results{Nodes: []NodeResult{{Node: node, JobID: "7_0", Batches: []BatchResult{{Batch: 1}}}}})
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b := write("a.json", `benchmark.i["cpu"]`), write("b.json", `benchmark.i["gpu"]`)
	shared := write("c.json", `benchmark.i["cpu"]`) // the gpu instance restored the cpu measurement
	res, err := collect(&config{collect: []string{a, b, a}})
	if err != nil || len(res.Nodes) != 2 {
		t.Fatalf("collect(a, b, a) = %v, %v; want two nodes", res, err)
	}
	if _, err := collect(&config{collect: []string{a, shared}}); err == nil || !strings.Contains(err.Error(), "partition = each.value") {
		t.Errorf("collect of one measurement twice: %v", err)
	}
}
