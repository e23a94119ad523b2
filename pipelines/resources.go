package pipelines

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/pcamflow/pcamflow/slurm"
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

// resourceExamples show a valid value of each attribute in type errors.
var resourceExamples = map[string]string{
	"executor": `"slurm"`, "partition": `"gpu_course"`, "account": `"course123"`, "qos": `"normal"`,
	"gpus": "1", "cpus": "4", "mem": `"8G"`, "time": `"02:00:00"`, "constraint": `"avx512"`,
	"extra_args": `["--exclusive"]`, "retries": "2", "parallel": "8", "retry_time_factor": "2", "retry_mem_factor": "1.5",
}

// Upper bounds of the whole-number resources.
const (
	maxResourceCount = 1000000
	maxRetries       = 100
)

// decodeResources decodes a resources or slurm block. ctx may be nil for literal-only decoding; stage
// resources are evaluated with var, local and pipeline in scope. Every value is checked, and every
// problem reported at the value, with what is accepted.
func decodeResources(body hcl.Body, ctx *hcl.EvalContext) (*Resources, hcl.Diagnostics) {
	schema := &hcl.BodySchema{}
	for _, name := range sortedKeys(resourceAttrs) {
		schema.Attributes = append(schema.Attributes, hcl.AttributeSchema{Name: name})
	}
	content, diags := body.Content(schema)
	diags = betterSuggestions(diags, schema)
	res := &Resources{}
	for _, name := range sortedKeys(content.Attributes) {
		a := content.Attributes[name]
		v, vdiags := a.Expr.Value(ctx)
		if vdiags.HasErrors() {
			diags = append(diags, vdiags...)
			continue
		}
		rng := a.Expr.Range()
		want := resourceAttrs[name]
		// mem and time are text in Slurm's formats: a bare number (mem = 8) is ambiguous, so it is
		// not converted.
		if (name == "mem" || name == "time") && v.IsKnown() && !v.IsNull() && v.Type() == cty.Number {
			diags = append(diags, numberForText(name, v, rng)...)
			continue
		}
		conv, err := convert.Convert(v, want)
		if err != nil || v.IsNull() || !v.IsKnown() || (want == cty.String && v.Type() != cty.String) {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Incorrect attribute value type",
				Detail:  fmt.Sprintf("%s must be a %s, e.g. %s = %s.", name, want.FriendlyName(), name, resourceExamples[name]),
				Subject: rng.Ptr()})
			continue
		}
		diags = append(diags, res.set(name, conv, rng)...)
	}
	return res, diags
}

// numberForText is the diagnostic for mem = 8 or time = 120: Slurm reads a bare number as
// megabytes or minutes, which is rarely what was meant, so the unit must be written.
func numberForText(name string, v cty.Value, rng hcl.Range) hcl.Diagnostics {
	n := v.AsBigFloat().Text('g', 10)
	if name == "mem" {
		return invalidResource(name, rng, "mem is the number %s; write it as a string with its unit, e.g. \"%sG\" "+
			"(Slurm reads a bare number as megabytes: write \"%s\" or \"%sM\" if you mean that).", n, n, n, n)
	}
	return invalidResource(name, rng, "time is the number %s; write it as a string, e.g. \"%s\" (minutes) or \"02:00:00\".", n, n)
}

// invalidResource is the diagnostic for a value of the right type that is not accepted.
func invalidResource(name string, rng hcl.Range, format string, a ...any) hcl.Diagnostics {
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid " + name,
		Detail: fmt.Sprintf(format, a...), Subject: rng.Ptr()}}
}

// count converts a whole-number resource, checking that it is from 0 to limit.
func count(name string, v cty.Value, limit int, rng hcl.Range) (int, hcl.Diagnostics) {
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		return 0, invalidResource(name, rng, "%s must be a whole number, e.g. %s = %s; %s is not.", name, name, resourceExamples[name], bf.Text('g', 10))
	}
	if bf.Sign() < 0 {
		return 0, invalidResource(name, rng, "%s must be zero or more; it is %s.", name, bf.Text('g', 10))
	}
	i, acc := bf.Int64()
	if acc != big.Exact || i > int64(limit) {
		return 0, invalidResource(name, rng, "%s must be at most %d; it is %s.", name, limit, bf.Text('g', 10))
	}
	return int(i), nil
}

// slurmValue checks one text resource with the same rules the sbatch script renderer applies
// (slurm.JobSpec.Validate), and refuses an empty value (leave the attribute out for Slurm's default).
func slurmValue(name, val string, rng hcl.Range) hcl.Diagnostics {
	if val == "" {
		return invalidResource(name, rng, "%s is empty; remove the attribute to use the cluster's default.", name)
	}
	spec := slurm.JobSpec{Command: []string{"true"}}
	switch name {
	case "partition":
		spec.Partition = val
	case "account":
		spec.Account = val
	case "qos":
		spec.QOS = val
	case "constraint":
		spec.Constraint = val
	case "mem":
		spec.Mem = val
	case "time":
		spec.Time = val
	}
	err := spec.Validate()
	if err == nil {
		return nil
	}
	_, msg, _ := strings.Cut(err.Error(), ": ")
	hint := ""
	switch name {
	case "mem":
		hint = " (a number of megabytes, or with a K, M, G or T suffix)"
	case "time":
		hint = " (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS or UNLIMITED)"
	}
	return invalidResource(name, rng, "%s %s%s.", name, msg, hint)
}

// set assigns one converted attribute, checking its value.
func (r *Resources) set(name string, v cty.Value, rng hcl.Range) hcl.Diagnostics {
	var diags hcl.Diagnostics
	switch name {
	case "executor":
		r.Executor = v.AsString()
		if r.Executor != "local" && r.Executor != "slurm" {
			return invalidResource(name, rng, "executor is %q; it must be \"local\" or \"slurm\".", r.Executor)
		}
	case "partition", "account", "qos", "constraint", "mem", "time":
		val := v.AsString()
		if diags = slurmValue(name, val, rng); diags.HasErrors() {
			return diags
		}
		*map[string]*string{"partition": &r.Partition, "account": &r.Account, "qos": &r.QOS,
			"constraint": &r.Constraint, "mem": &r.Mem, "time": &r.Time}[name] = val
	case "gpus", "cpus", "parallel":
		n, d := count(name, v, maxResourceCount, rng)
		*map[string]*int{"gpus": &r.GPUs, "cpus": &r.CPUs, "parallel": &r.Parallel}[name] = n
		return d
	case "retries":
		r.Retries, diags = count(name, v, maxRetries, rng)
	case "retry_time_factor", "retry_mem_factor":
		f, _ := v.AsBigFloat().Float64()
		if f < 1 || f > 100 {
			return invalidResource(name, rng, "%s must be from 1 (no growth) to 100, e.g. 2 doubles it on every retry.", name)
		}
		if name == "retry_time_factor" {
			r.RetryTimeFactor = f
		} else {
			r.RetryMemFactor = f
		}
	case "extra_args":
		var args []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			args = append(args, e.AsString())
		}
		if err := (slurm.JobSpec{Command: []string{"true"}, ExtraArgs: args}).Validate(); err != nil {
			_, msg, _ := strings.Cut(err.Error(), ": ")
			return invalidResource(name, rng, "extra_args: %s; give each sbatch option as one element, e.g. [\"--exclusive\", \"--nice=10\"].", msg)
		}
		r.ExtraArgs = args
	}
	return diags
}
