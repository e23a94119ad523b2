package cli_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// benchmarkSlurmPipeline measures a tiny model on both partitions of the local cluster, one Slurm job
// per partition (the gpu job asks for one of the cluster's fake GPUs), and combines the two.
const benchmarkSlurmPipeline = `
pipeline "bench" {
  seed = 3
}

dataset "d" {
  synthetic = { train = 64, valid = 32, test = 16, seed = 3, defects = false }
}

train "m" {
  dataset    = dataset.d
  model      = { arch = "mlp", hidden_units = [8] }
  epochs     = 1
  batch_size = 32
}

benchmark "inference" {
  for_each    = { cpu = "cpu", gpu = "gpu" }
  model       = train.m
  batch_sizes = [1, 4, 16]
  images      = 32
  warmup      = 4
  partition   = each.value
  resources {
    executor  = "slurm"
    partition = each.value
    gpus      = each.key == "gpu" ? 1 : 0
  }
}

benchmark "table" {
  collect = benchmark.inference
}
`

// TestBenchmarkOnSlurmPartitions runs the benchmark over the cpu and gpu partitions of the local
// cluster and checks that the batch-1 table names each partition with the job id sbatch returned
// for it (and that the run records agree), and that the scaling plot exists.
func TestBenchmarkOnSlurmPartitions(t *testing.T) {
	needSlurm(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "pipelines", "quickstart.hcl"), benchmarkSlurmPipeline)
	real, err := exec.LookPath("sbatch")
	if err != nil {
		t.Skip("sbatch not found")
	}
	// an sbatch that logs the partition of each script it submits and the job id sbatch answered
	bin := filepath.Join(dir, "wrapbin")
	log := filepath.Join(dir, "submitted.log")
	writeFile(t, filepath.Join(bin, "sbatch"), `#!/bin/sh
script=$(cat)
out=$(printf '%s\n' "$script" | `+real+` "$@") || exit $?
part=$(printf '%s\n' "$script" | sed -n 's/^#SBATCH --partition=//p')
array=$(printf '%s\n' "$script" | sed -n 's/^#SBATCH --array=//p')
echo "$part $out $array" >> `+log+`
echo "$out"
`)
	if err := os.Chmod(filepath.Join(bin, "sbatch"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "PCAMFLOW_SLURM_POLL=300ms"}
	out, err := runIn(t, dir, env, "run", "-target", "benchmark.table")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}

	// what sbatch returned: partition => job id of the array task (one task per partition)
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	submitted := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(l)
		if len(f) != 3 || f[2] != "0" {
			t.Fatalf("sbatch log line %q: want PARTITION JOBID 0 (a one-task array)", l)
		}
		id := strings.SplitN(f[1], ";", 2)[0] // --parsable prints id[;cluster]
		submitted[f[0]] = id + "_0"
	}
	if len(submitted) != 2 || submitted["cpu"] == "" || submitted["gpu"] == "" {
		t.Fatalf("sbatch submissions by partition = %v, want one for cpu and one for gpu", submitted)
	}

	// the batch-1 table of the collect node
	ws := filepath.Join(dir, ".pcamflow", "out", "benchmark.table")
	table, err := os.ReadFile(filepath.Join(ws, "table.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(table)), "\n")
	if len(lines) != 4 || lines[0] != "| Partition | Node type | Throughput (img/s) | Job ID |" {
		t.Fatalf("table.md =\n%s\nwant the header, a separator and two rows", table)
	}
	row := regexp.MustCompile(`^\| (\w+) \| (.+) \| ([0-9,]+\.[0-9]) \| ([0-9]+_[0-9]+) \|$`)
	inTable := map[string]string{}
	for _, l := range lines[2:] {
		m := row.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("table row %q does not have the shape | partition | node type | img/s | JOB_TASK |", l)
		}
		inTable[m[1]] = m[4]
		if want := map[string]string{"cpu": "CPU node", "gpu": "GPU node (GPUs "}[m[1]]; !strings.HasPrefix(m[2], want) {
			t.Errorf("node type of %s = %q, want it to start with %q", m[1], m[2], want)
		}
	}
	for part, id := range submitted {
		if inTable[part] != id {
			t.Errorf("table.md gives partition %s job %q; sbatch returned %q", part, inTable[part], id)
		}
	}

	// the run records say the same
	st, err := runIn(t, dir, nil, "status", "-json")
	if err != nil {
		t.Fatalf("status: %v\n%s", err, st)
	}
	var status struct {
		Nodes []struct {
			Node  string `json:"node"`
			JobID string `json:"job_id"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(st), &status); err != nil {
		t.Fatalf("status -json: %v\n%s", err, st)
	}
	var recorded []string
	for _, n := range status.Nodes {
		for part := range submitted {
			if n.Node == `benchmark.inference["`+part+`"]` {
				recorded = append(recorded, part)
				if n.JobID != submitted[part] {
					t.Errorf("the run record of %s has job %q; sbatch returned %q", n.Node, n.JobID, submitted[part])
				}
			}
		}
	}
	sort.Strings(recorded)
	if strings.Join(recorded, ",") != "cpu,gpu" {
		t.Errorf("run records of the benchmark nodes: %v", recorded)
	}

	// the results record the Slurm environment of each job
	data, err = os.ReadFile(filepath.Join(ws, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Nodes []struct {
			Partition string `json:"partition"`
			JobID     string `json:"job_id"`
			Machine   struct {
				SlurmPartition string `json:"slurm_partition"`
				ArrayTask      string `json:"slurm_array_task_id"`
				CUDA           string `json:"cuda_visible_devices"`
				GPUUsed        bool   `json:"gpu_used"`
				BLAS           string `json:"blas"`
			} `json:"machine"`
			Batches []struct {
				Batch int `json:"batch"`
			} `json:"batches"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	for _, n := range res.Nodes {
		m := n.Machine
		if m.SlurmPartition != n.Partition || m.ArrayTask != "0" || m.GPUUsed || !strings.HasPrefix(m.BLAS, "OpenBLAS") || len(n.Batches) != 3 {
			t.Errorf("results of partition %s: %+v", n.Partition, n)
		}
		if (n.Partition == "gpu") != (m.CUDA != "") {
			t.Errorf("partition %s saw CUDA_VISIBLE_DEVICES=%q", n.Partition, m.CUDA)
		}
	}
	if fi, err := os.Stat(filepath.Join(ws, "scaling.png")); err != nil || fi.Size() == 0 {
		t.Errorf("scaling.png: %v", err)
	}

	// run --force re-measures on Slurm too: new jobs, and the table names them
	if err := os.Remove(log); err != nil {
		t.Fatal(err)
	}
	out, err = runIn(t, dir, env, "run", "-target", "benchmark.table", "--force", "benchmark.inference")
	if err != nil {
		t.Fatalf("run --force: %v\n%s", err, out)
	}
	if strings.Count(out, "forced with --force") != 2 || !strings.Contains(out, "ran      benchmark.table") {
		t.Errorf("run --force benchmark.inference did not re-measure both partitions:\n%s", out)
	}
	data, err = os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	table, err = os.ReadFile(filepath.Join(ws, "table.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(l)
		id := strings.SplitN(f[1], ";", 2)[0] + "_0"
		if id == submitted[f[0]] || !strings.Contains(string(table), "| "+f[0]+" | ") || !strings.Contains(string(table), " | "+id+" |") {
			t.Errorf("after --force, partition %s was submitted as %s (before: %s); table.md:\n%s", f[0], id, submitted[f[0]], table)
		}
	}
}
