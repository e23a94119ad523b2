// Package benchmark implements the "benchmark" stage kind: inference throughput and latency of a
// model on the machine (or Slurm partition) a node runs on, per batch size, with the time split into
// reading, preprocessing and compute and the bottleneck named, and with the machine, the BLAS kernel
// and the Slurm job recorded as evidence.
//
// A node measures one of two engines: pcamflow's own (model = a model reference; the prediction
// path of `pcamflow infer`) or an external program (command = [...]) that prints one JSON line per
// timed call, {"batch": B, "images": N, "seconds": S}. A third form, collect = [benchmark.X, ...],
// measures nothing: it combines the results of other benchmark stages (every instance of a for_each
// stage) into one table and one scaling plot. Every output is a measurement (stages.Measured).
package benchmark

import (
	"context"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/stages"
)

// Output names of a benchmark node.
const (
	outResults = "results.json"
	outTable   = "table.md"
	outBatches = "batches.md"
	outPlot    = "scaling.png"
)

var outputNames = []string{outResults, outTable, outBatches, outPlot}

// Kind is the benchmark stage kind.
type Kind struct{}

// New returns the benchmark kind.
func New() stages.Kind { return Kind{} }

// Name implements stages.Kind.
func (Kind) Name() string { return "benchmark" }

// Version implements stages.Kind.
func (Kind) Version() string { return "1" }

// Doc implements stages.Kind.
func (Kind) Doc() string {
	return "Measures inference throughput (images/s) and per-batch latency (p50/p95/p99) of a model for each batch size, " +
		"with the time split into reading, preprocessing and compute and the bottleneck named, on the machine or Slurm " +
		"partition the node runs on (host, CPU, threads, BLAS kernel, GPUs visible, partition and job id are recorded). " +
		"model = a model reference measures pcamflow's engine; command = [...] measures any program that prints JSON lines " +
		`{"batch": B, "images": N, "seconds": S}; collect = [benchmark.X, ...] combines other benchmark stages into one ` +
		"table. Outputs results.json, table.md (| Partition | Node type | Throughput (img/s) | Job ID | at batch 1), " +
		"batches.md (every batch size) and scaling.png; all of them are measurements, never compared by verify."
}

// Attrs implements stages.Kind.
func (Kind) Attrs() []stages.Attr {
	return []stages.Attr{
		{Name: "model", Type: cty.DynamicPseudoType, Default: cty.NullVal(cty.DynamicPseudoType),
			Doc: `The model to measure with pcamflow's engine: train.NAME, train.NAME["SEED"] or sweep.NAME.champion.`},
		{Name: "command", Type: cty.List(cty.String), Default: cty.NullVal(cty.List(cty.String)),
			Doc: `Instead of model: a program (argv) that measures another engine and prints one JSON line per timed call, {"batch": B, "images": N, "seconds": S}.`},
		{Name: "collect", Type: cty.DynamicPseudoType, Default: cty.NullVal(cty.DynamicPseudoType),
			Doc: "Instead of model or command: benchmark stages (benchmark.X, or a list of them) whose results are combined into one table and plot."},
		{Name: "batch_sizes", Type: cty.List(cty.Number), Default: cty.ListVal([]cty.Value{cty.NumberIntVal(1), cty.NumberIntVal(8), cty.NumberIntVal(32), cty.NumberIntVal(128)}),
			Doc: "Batch sizes to measure, each from 1 to 65536."},
		{Name: "images", Type: cty.Number, Default: cty.NumberIntVal(2048),
			Doc: "Images measured per batch size after the warm-up (rounded up to whole batches)."},
		{Name: "warmup", Type: cty.Number, Default: cty.NumberIntVal(64),
			Doc: "Images run before measuring each batch size, not counted (rounded up to whole batches; 0: none)."},
		{Name: "threads", Type: cty.Number, Default: cty.NumberIntVal(0),
			Doc: "Kernel threads the measurement must use (0: the run's). pcamflow's engine checks it against the process's thread count; a command gets it as PCAMFLOW_THREADS and OMP_NUM_THREADS."},
		{Name: "data", Type: cty.DynamicPseudoType, Default: cty.NullVal(cty.DynamicPseudoType),
			Doc: "dataset.NAME or data_audit.NAME.clean to read patches from; default: random PCAM-shaped patches from the pipeline seed, in memory."},
		{Name: "split", Type: cty.String, Default: cty.StringVal("test"),
			Doc: "The split of data to read."},
		{Name: "partition", Type: cty.String, Default: cty.StringVal(""),
			Doc: `The Slurm partition the node measures, part of its key (write partition = each.value next to the resources' partition); a node in a Slurm job checks it against SLURM_JOB_PARTITION.`},
		{Name: "node_type", Type: cty.String, Default: cty.StringVal(""),
			Doc: `The Node type column of the table, e.g. "GPU node (A100)"; default: derived from the GPUs visible and the CPU model.`},
	}
}

// MeasuredOutputs implements stages.Measured: every output holds timings.
func (Kind) MeasuredOutputs() []string { return append([]string(nil), outputNames...) }

// Expose implements stages.Kind: kind = "benchmark", the partition, and the paths of the outputs.
func (Kind) Expose(cfg cty.Value, outs map[string]stages.Output) cty.Value {
	v := map[string]cty.Value{"kind": cty.StringVal("benchmark"), "partition": cfg.GetAttr("partition")}
	for _, attr := range []struct{ name, out string }{{"results", outResults}, {"table", outTable}, {"batches", outBatches}, {"scaling", outPlot}} {
		v[attr.name] = cty.UnknownVal(cty.String)
		if outs != nil {
			v[attr.name] = cty.StringVal(outs[attr.out].Path)
		}
	}
	return cty.ObjectVal(v)
}

// Prepare implements stages.Kind.
func (Kind) Prepare(cfg cty.Value, at stages.RangeFunc) (*stages.Task, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	for _, e := range check(cfg) {
		diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid benchmark configuration",
			Detail: e.Error() + ".", Subject: at(e.attr)})
	}
	task := &stages.Task{Outputs: map[string]stages.Output{}}
	for _, n := range outputNames {
		task.Outputs[n] = stages.Output{}
	}
	if !diags.HasErrors() {
		task.Inputs, task.Optional = inputs(cfg)
	}
	return task, diags
}

// Execute implements stages.Kind.
func (Kind) Execute(ctx context.Context, env *stages.Env) error {
	c, err := decode(env.Config)
	if err != nil {
		return err
	}
	var res *Results
	switch {
	case c.collect != nil:
		res, err = collect(c)
	case c.command != nil:
		res, err = measureCommand(ctx, env, c)
	default:
		res, err = measureModel(ctx, env, c)
	}
	if err != nil {
		return err
	}
	return writeOutputs(env, res)
}
