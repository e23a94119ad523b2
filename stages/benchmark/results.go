package benchmark

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/pcamflow/pcamflow/model"
)

// Results is what results.json holds: one or more measured nodes (a collect node holds every node
// it combines).
type Results struct {
	// Nodes are the measured nodes, in table order.
	Nodes []NodeResult `json:"nodes"`
}

// NodeResult is the measurement of one node: its engine, its machine and one entry per batch size.
type NodeResult struct {
	// Node is the node's address, e.g. benchmark.inference["cpu"].
	Node string `json:"node"`
	// Engine is "pcamflow" or the command line of an external engine.
	Engine string `json:"engine"`
	// Model describes the model measured (architecture and checkpoint for pcamflow's engine).
	Model string `json:"model"`
	// Data is where patches came from: "random (seed S)" or the dataset folder and split.
	Data string `json:"data"`
	// Partition is the partition attribute, else SLURM_JOB_PARTITION, else "local".
	Partition string `json:"partition"`
	// NodeType is the table's Node type column.
	NodeType string `json:"node_type"`
	// JobID is the Slurm job id as `squeue` shows it: ARRAYJOB_TASK for an array task, else the
	// job id; "" outside Slurm.
	JobID string `json:"job_id"`
	// Machine records where and how the node ran.
	Machine Machine `json:"machine"`
	// Settings are the measurement settings.
	Settings Settings `json:"settings"`
	// Batches holds one entry per batch size, in the order of batch_sizes.
	Batches []BatchResult `json:"batches"`
}

// Settings are the measurement settings of a node.
type Settings struct {
	BatchSizes []int `json:"batch_sizes"`
	Images     int   `json:"images"`
	Warmup     int   `json:"warmup"`
	// Threads is the threads attribute (0: the run's thread count).
	Threads int `json:"threads"`
}

// Machine is the evidence of where a node ran.
type Machine struct {
	Host string `json:"host"`
	CPU  string `json:"cpu"`
	// Cores is the number of logical CPUs the process may use; Threads the kernel threads the
	// measurement used (0 when an external engine did not say).
	Cores   int `json:"cores"`
	Threads int `json:"threads"`
	// BLAS is the library and the kernel OpenBLAS selected (pcamflow's engine), e.g. "OpenBLAS (Haswell)".
	BLAS       string `json:"blas"`
	BLASConfig string `json:"blas_config,omitempty"`
	SIMD       string `json:"simd,omitempty"`
	// CUDAVisibleDevices is CUDA_VISIBLE_DEVICES as the node saw it; GPUUsed says whether the
	// engine computed on a GPU (pcamflow's engine never does).
	CUDAVisibleDevices string `json:"cuda_visible_devices"`
	GPUUsed            bool   `json:"gpu_used"`
	// Device is what the engine said it computed on ("cpu" for pcamflow's engine).
	Device string `json:"device"`
	// Slurm job: partition, job id, array job id and task index (empty outside Slurm).
	SlurmPartition  string `json:"slurm_partition"`
	SlurmJobID      string `json:"slurm_job_id"`
	SlurmArrayJobID string `json:"slurm_array_job_id"`
	SlurmArrayTask  string `json:"slurm_array_task_id"`
	// LoadAverage is the 1-minute load average when the measurement started (from /proc/loadavg).
	LoadAverage string `json:"load_average"`
	// Date is when the measurement started (UTC, RFC 3339).
	Date string `json:"date"`
}

// BatchResult is the measurement of one batch size.
type BatchResult struct {
	Batch int `json:"batch"`
	// Calls is the number of timed calls, Images the images they held, Seconds their total time.
	Calls   int     `json:"calls"`
	Images  int     `json:"images"`
	Seconds float64 `json:"seconds"`
	// ImagesPerSecond is Images / Seconds.
	ImagesPerSecond float64 `json:"images_per_second"`
	// LatencyMS are percentiles of the time of one batch (reading, preprocessing and compute) in
	// milliseconds; warm-up excluded.
	LatencyMS Latency `json:"latency_ms"`
	// Time split over the timed calls, in seconds.
	ReadSeconds       float64 `json:"read_seconds"`
	PreprocessSeconds float64 `json:"preprocess_seconds"`
	ComputeSeconds    float64 `json:"compute_seconds"`
	// Bottleneck names the phase that took the most time, with its share, e.g. "compute (94%)".
	Bottleneck string `json:"bottleneck"`
}

// Latency holds latency percentiles in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Mean float64 `json:"mean"`
}

// call is one timed call: a batch of size batch holding images images, with its phases.
type call struct {
	batch, images             int
	read, preprocess, compute float64 // seconds
	total                     float64 // seconds; at least read+preprocess+compute
	hasSplit                  bool
}

// summarize turns the timed calls of one batch size into its result.
func summarize(batch int, calls []call) BatchResult {
	r := BatchResult{Batch: batch, Calls: len(calls)}
	lat := make([]float64, 0, len(calls))
	split := false
	for _, c := range calls {
		r.Images += c.images
		r.Seconds += c.total
		r.ReadSeconds += c.read
		r.PreprocessSeconds += c.preprocess
		r.ComputeSeconds += c.compute
		split = split || c.hasSplit
		// a call holding several batches counts as that many batches of its mean time
		per := c.total
		if nb := c.images / max(1, c.batch); nb > 1 {
			per /= float64(nb)
		}
		lat = append(lat, per*1000)
	}
	if r.Seconds > 0 {
		r.ImagesPerSecond = float64(r.Images) / r.Seconds
	}
	r.LatencyMS = latency(lat)
	if !split {
		r.ComputeSeconds = r.Seconds
	}
	r.Bottleneck = bottleneck(r)
	return r
}

// latency returns the percentiles (nearest rank) and the mean of xs.
func latency(xs []float64) Latency {
	if len(xs) == 0 {
		return Latency{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := func(p float64) float64 {
		i := int(math.Ceil(p/100*float64(len(s)))) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	var sum float64
	for _, x := range s {
		sum += x
	}
	return Latency{P50: rank(50), P95: rank(95), P99: rank(99), Mean: sum / float64(len(s))}
}

// bottleneck names the phase with the largest share of the time.
func bottleneck(r BatchResult) string {
	total := r.ReadSeconds + r.PreprocessSeconds + r.ComputeSeconds
	if total <= 0 {
		return "unknown"
	}
	name, t := "compute", r.ComputeSeconds
	if r.PreprocessSeconds > t {
		name, t = "preprocessing", r.PreprocessSeconds
	}
	if r.ReadSeconds > t {
		name, t = "reading", r.ReadSeconds
	}
	return fmt.Sprintf("%s (%.0f%%)", name, 100*t/total)
}

// machine records the host, the CPU, the BLAS backend, the GPUs visible and the Slurm job.
func machine(threads int) Machine {
	host, _ := os.Hostname()
	b := model.BLASInfo()
	m := Machine{Host: host, CPU: b.CPU, Cores: runtime.NumCPU(), Threads: threads, BLAS: b.Backend, BLASConfig: b.Config,
		SIMD: b.SIMD, CUDAVisibleDevices: os.Getenv("CUDA_VISIBLE_DEVICES"), Device: "cpu",
		SlurmPartition: os.Getenv("SLURM_JOB_PARTITION"), SlurmJobID: os.Getenv("SLURM_JOB_ID"),
		SlurmArrayJobID: os.Getenv("SLURM_ARRAY_JOB_ID"), SlurmArrayTask: os.Getenv("SLURM_ARRAY_TASK_ID"),
		Date: time.Now().UTC().Format(time.RFC3339)}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(data)); len(f) > 0 {
			m.LoadAverage = f[0]
		}
	}
	return m
}

// jobID is the job id as squeue shows it: ARRAYJOB_TASK for an array task, else the job id.
func (m Machine) jobID() string {
	if m.SlurmArrayJobID != "" && m.SlurmArrayTask != "" {
		return m.SlurmArrayJobID + "_" + m.SlurmArrayTask
	}
	return m.SlurmJobID
}

// nodeType is the default Node type column: GPU or CPU node, with the CPU model and cores.
func (m Machine) nodeType() string {
	cpu := fmt.Sprintf("%s, %d cores", m.CPU, m.Cores)
	if v := m.CUDAVisibleDevices; v != "" && v != "NoDevFiles" && v != "-1" {
		used := "not used"
		if m.GPUUsed {
			used = "used"
		}
		return fmt.Sprintf("GPU node (GPUs %s, %s; %s)", v, used, cpu)
	}
	return fmt.Sprintf("CPU node (%s)", cpu)
}

// label fills the node's partition, job id and node type from the configuration and the machine,
// and checks that a node in a Slurm job runs on the partition it says it measures.
func (r *NodeResult) label(c *config) error {
	m := r.Machine
	if c.partition != "" && m.SlurmPartition != "" && c.partition != m.SlurmPartition {
		return fmt.Errorf("partition = %q but the node ran in Slurm job %s on partition %q: set the resources' partition to the same value (partition = each.value in both places)",
			c.partition, m.jobID(), m.SlurmPartition)
	}
	r.Partition = c.partition
	if r.Partition == "" {
		r.Partition = m.SlurmPartition
	}
	if r.Partition == "" {
		r.Partition = "local"
	}
	r.JobID = m.jobID()
	r.NodeType = c.nodeType
	if r.NodeType == "" {
		r.NodeType = m.nodeType()
	}
	return nil
}
