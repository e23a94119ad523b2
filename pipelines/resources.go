package pipelines

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Resources says where a stage runs and with what: the resources block of a stage, or the
// pipeline-wide defaults of the top-level slurm block. Zero values mean "not set". Resources are
// never part of a cache key.
type Resources struct {
	Executor   string   // "local" or "slurm"; "" = local unless the run overrides it
	Partition  string   // Slurm partition
	Account    string   // Slurm account
	QOS        string   // Slurm quality of service
	GPUs       int      // number of GPUs (--gres=gpu:N)
	CPUs       int      // CPUs per task
	Mem        string   // memory, e.g. "4G"
	Time       string   // time limit, e.g. "02:00:00"
	Constraint string   // node features
	ExtraArgs  []string // further sbatch options, verbatim
	Retries    int      // attempts after the first failure
	Parallel   int      // Slurm array throttle: at most this many tasks at once (%N)
	// RetryTimeFactor and RetryMemFactor multiply the time limit and memory of each retry (1: same).
	RetryTimeFactor, RetryMemFactor float64
	DeclRange                       hcl.Range
}

// Merge returns r with every field that o sets replaced by o's value (o wins).
func (r Resources) Merge(o Resources) Resources {
	str := func(a *string, b string) {
		if b != "" {
			*a = b
		}
	}
	num := func(a *int, b int) {
		if b != 0 {
			*a = b
		}
	}
	str(&r.Executor, o.Executor)
	str(&r.Partition, o.Partition)
	str(&r.Account, o.Account)
	str(&r.QOS, o.QOS)
	str(&r.Mem, o.Mem)
	str(&r.Time, o.Time)
	str(&r.Constraint, o.Constraint)
	num(&r.GPUs, o.GPUs)
	num(&r.CPUs, o.CPUs)
	num(&r.Retries, o.Retries)
	num(&r.Parallel, o.Parallel)
	if o.RetryTimeFactor != 0 {
		r.RetryTimeFactor = o.RetryTimeFactor
	}
	if o.RetryMemFactor != 0 {
		r.RetryMemFactor = o.RetryMemFactor
	}
	if len(o.ExtraArgs) > 0 {
		r.ExtraArgs = append([]string{}, o.ExtraArgs...)
	}
	r.DeclRange = o.DeclRange
	return r
}

var resourceAttrs = map[string]cty.Type{
	"executor": cty.String, "partition": cty.String, "account": cty.String, "qos": cty.String,
	"gpus": cty.Number, "cpus": cty.Number, "mem": cty.String, "time": cty.String,
	"constraint": cty.String, "extra_args": cty.List(cty.String), "retries": cty.Number,
	"parallel": cty.Number, "retry_time_factor": cty.Number, "retry_mem_factor": cty.Number,
}

// decodeResources decodes a resources or slurm block. ctx may be nil for literal-only decoding; stage
// resources are evaluated with var, local and pipeline in scope.
func decodeResources(body hcl.Body, ctx *hcl.EvalContext) (*Resources, hcl.Diagnostics) {
	schema := &hcl.BodySchema{}
	for _, name := range sortedKeys(resourceAttrs) {
		schema.Attributes = append(schema.Attributes, hcl.AttributeSchema{Name: name})
	}
	content, diags := body.Content(schema)
	res := &Resources{}
	for _, name := range sortedKeys(content.Attributes) {
		a := content.Attributes[name]
		v, vdiags := a.Expr.Value(ctx)
		if vdiags.HasErrors() {
			diags = append(diags, vdiags...)
			continue
		}
		v, err := convert.Convert(v, resourceAttrs[name])
		if err != nil || v.IsNull() {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Incorrect attribute value type",
				Detail: fmt.Sprintf("%s must be a %s.", name, resourceAttrs[name].FriendlyName()), Subject: a.Expr.Range().Ptr()})
			continue
		}
		diags = append(diags, res.set(name, v, a.Expr.Range())...)
	}
	return res, diags
}

// set assigns one converted attribute.
func (r *Resources) set(name string, v cty.Value, rng hcl.Range) hcl.Diagnostics {
	num := func() int {
		i, _ := toInt64(v)
		return int(i)
	}
	switch name {
	case "executor":
		r.Executor = v.AsString()
		if r.Executor != "local" && r.Executor != "slurm" {
			return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid executor",
				Detail: fmt.Sprintf("executor is %q; it must be \"local\" or \"slurm\".", r.Executor), Subject: rng.Ptr()}}
		}
	case "partition":
		r.Partition = v.AsString()
	case "account":
		r.Account = v.AsString()
	case "qos":
		r.QOS = v.AsString()
	case "gpus":
		r.GPUs = num()
	case "cpus":
		r.CPUs = num()
	case "mem":
		r.Mem = v.AsString()
	case "time":
		r.Time = v.AsString()
	case "constraint":
		r.Constraint = v.AsString()
	case "retries":
		r.Retries = num()
	case "parallel":
		r.Parallel = num()
	case "retry_time_factor", "retry_mem_factor":
		f, _ := v.AsBigFloat().Float64()
		if f < 1 || f > 100 {
			return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid " + name,
				Detail: name + " must be from 1 (no growth) to 100, e.g. 2 doubles it on every retry.", Subject: rng.Ptr()}}
		}
		if name == "retry_time_factor" {
			r.RetryTimeFactor = f
		} else {
			r.RetryMemFactor = f
		}
	case "extra_args":
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			r.ExtraArgs = append(r.ExtraArgs, e.AsString())
		}
	}
	if (name == "gpus" || name == "cpus" || name == "retries" || name == "parallel") && num() < 0 {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid " + name,
			Detail: name + " must be zero or more.", Subject: rng.Ptr()}}
	}
	return nil
}
