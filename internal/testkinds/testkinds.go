// Package testkinds holds stage kinds that exist only for tests: they are never in the registry of
// the pcamflow binary (stages/builtin), and tests register them next to the built-in kinds
// (builtin.Registry(testkinds.All()...), cli.MainWithKinds). "fanout" proves dynamic nodes
// (DESIGN.md §7): its node runs children of another stage through Env.Children. "counter" is a
// Budgeted kind whose nodes count epochs in a resume folder, to prove budgets and promotion.
package testkinds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/pcamflow/pcamflow/stages"
)

// All returns the test kinds.
func All() []stages.Kind { return []stages.Kind{Fanout{}, Counter{}, Seeded{}} }

// Fanout is the "fanout" test kind. Its node asks Env.Children to run `count` children of the stage
// named by `base`, in `batches` Run calls, at most `parallel` at once, and writes one line per child
// (address, state, output digests) to its digests.txt output. A command base gets CHILD=i in its env
// and outputs ["out/<name>-child-i.txt"]; a base with a tag attribute gets tag = "i"; any other base
// (train) gives every child the base configuration unchanged. With `budgets`, child i runs
// to budgets[i]; with `prune`, every odd child is pruned after it ran.
type Fanout struct{}

var (
	_ stages.Spawner  = Fanout{}
	_ stages.Fixtured = Fanout{}
)

// Name implements stages.Kind.
func (Fanout) Name() string { return "fanout" }

// Version implements stages.Kind.
func (Fanout) Version() string { return "1" }

// Doc implements stages.Kind.
func (Fanout) Doc() string { return "Test kind: runs children of another stage (dynamic nodes)." }

// Attrs implements stages.Kind.
func (Fanout) Attrs() []stages.Attr {
	return []stages.Attr{
		{Name: "base", Type: cty.String, Default: cty.StringVal(""), Doc: "Address of the stage the children are variants of."},
		{Name: "base_ref", Type: cty.DynamicPseudoType, Default: cty.NullVal(cty.DynamicPseudoType), Doc: "A reference to the base stage instead of base (its address comes from stages.ChildReferents)."},
		{Name: "count", Type: cty.Number, Default: cty.NumberIntVal(2), Doc: "Number of children."},
		{Name: "parallel", Type: cty.Number, Default: cty.NumberIntVal(0), Doc: "Children at once (0: -j)."},
		{Name: "batches", Type: cty.Number, Default: cty.NumberIntVal(1), Doc: "Run calls the children are split into."},
		{Name: "budgets", Type: cty.List(cty.Number), Default: cty.ListValEmpty(cty.Number), Doc: "Budget of child i."},
		{Name: "prune", Type: cty.Bool, Default: cty.False, Doc: "Prune every odd child after it ran."},
		{Name: "seed_offset", Type: cty.Number, Default: cty.NumberIntVal(0), Doc: "Added to the pipeline seed for every child."},
		{Name: "concurrent", Type: cty.Bool, Default: cty.False, Doc: "Make every Run call twice, all calls at once (the same children proposed concurrently)."},
		{Name: "objective", Type: cty.DynamicPseudoType, Default: cty.NullVal(cty.DynamicPseudoType),
			Doc: `{ metric = "score", goal = "maximize" } like a sweep's: recorded only, so that ` + "`runs`" + ` shows the children's objective.`},
	}
}

// Expose implements stages.Kind.
func (Fanout) Expose(_ cty.Value, outs map[string]stages.Output) cty.Value {
	if outs == nil {
		return cty.ObjectVal(map[string]cty.Value{"digests": cty.UnknownVal(cty.String)})
	}
	return cty.ObjectVal(map[string]cty.Value{"digests": cty.StringVal(outs["digests.txt"].Path)})
}

// Prepare implements stages.Kind.
func (Fanout) Prepare(cfg cty.Value, at stages.RangeFunc) (*stages.Task, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	if n, ok := intAttr(cfg, "count"); ok && n < 1 {
		diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid count",
			Detail: "count must be at least 1.", Subject: at("count")})
	}
	if n, ok := intAttr(cfg, "batches"); ok && n < 1 {
		diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid batches",
			Detail: "batches must be at least 1.", Subject: at("batches")})
	}
	return &stages.Task{Outputs: map[string]stages.Output{"digests.txt": {}}}, diags
}

// ChildParallelism implements stages.Spawner.
func (Fanout) ChildParallelism(cfg cty.Value) int {
	n, _ := intAttr(cfg, "parallel")
	return n
}

// Execute implements stages.Kind.
func (Fanout) Execute(ctx context.Context, env *stages.Env) error {
	if env.Children == nil {
		return errors.New("fanout needs Env.Children (the runner offers it to nodes it executes)")
	}
	bases, ok := env.Children.(stages.ChildBases)
	if !ok {
		return errors.New("the runner's Children does not implement stages.ChildBases")
	}
	baseAddr := env.Config.GetAttr("base").AsString()
	if !env.Config.GetAttr("base_ref").IsNull() {
		refs, ok := env.Children.(stages.ChildReferents)
		if !ok {
			return errors.New("the runner's Children does not implement stages.ChildReferents")
		}
		addr, err := refs.Referent("base_ref")
		if err != nil {
			return err
		}
		baseAddr = addr
	}
	if w, ok := env.Children.(stages.ChildWaves); ok {
		fmt.Fprintf(env.Log, "waves: %v\n", w.Waves())
	}
	base, err := bases.BaseConfig(baseAddr)
	if err != nil {
		return err
	}
	count, _ := intAttr(env.Config, "count")
	batches, _ := intAttr(env.Config, "batches")
	offset, _ := intAttr(env.Config, "seed_offset")
	var budgets []int
	_ = gocty.FromCtyValue(env.Config.GetAttr("budgets"), &budgets)
	name := strings.TrimPrefix(env.Node, "fanout.")
	specs := make([]stages.ChildSpec, count)
	for i := range specs {
		cfg, err := childConfig(base, baseAddr, name, i)
		if err != nil {
			return err
		}
		specs[i] = stages.ChildSpec{Base: baseAddr, Config: cfg, Seed: env.Seed + int64(offset), Label: "child " + strconv.Itoa(i)}
		if i < len(budgets) {
			specs[i].Budget = budgets[i]
		}
	}
	per := (count + batches - 1) / batches
	if env.Config.GetAttr("concurrent").True() {
		if err := runConcurrently(ctx, env.Children, specs, per); err != nil {
			return err
		}
	}
	var lines []string
	for start := 0; start < count; start += per {
		batch := specs[start:min(start+per, count)]
		outs, err := env.Children.Run(ctx, batch)
		if err != nil {
			return err
		}
		for j, o := range outs {
			fmt.Fprintf(env.Log, "%s: %s %s\n", batch[j].Label, o.Addr, o.State)
			if o.State == stages.ChildFailed {
				return fmt.Errorf("%s (%s) failed: %v", batch[j].Label, o.Addr, o.Err)
			}
			if env.Config.GetAttr("prune").True() && (start+j)%2 == 1 {
				if err := env.Children.Prune(ctx, o, "pruned by the fanout test kind"); err != nil {
					return err
				}
			}
			lines = append(lines, o.Addr+" "+digests(o.Outputs))
		}
	}
	return os.WriteFile(env.OutputPaths["digests.txt"], []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

// Fixture implements stages.Fixtured.
func (Fanout) Fixture() stages.Fixture {
	return stages.Fixture{
		Pipeline: `
command "leaf" {
  run     = ["sh", "-c", "echo leaf $CHILD > out/under_test-child-$CHILD.txt"]
  outputs = ["out/under_test-child-.txt"]
}

fanout "under_test" {
  base     = "command.leaf"
  count    = 3
  parallel = 2
}
`,
		Failing: `
command "leaf" {
  run     = ["sh", "-c", "exit 7"]
  outputs = ["out/never.txt"]
}

fanout "under_test" {
  base  = "command.leaf"
  count = 2
}
`,
		Invalid: []string{`
command "leaf" {
  run = ["true"]
}

fanout "under_test" {
  base  = "command.leaf"
  count = 0
}
`},
	}
}

// runConcurrently makes every Run call twice, all at once, and fails when an outcome failed.
func runConcurrently(ctx context.Context, children stages.Children, specs []stages.ChildSpec, per int) error {
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(specs))
	for range 2 {
		for start := 0; start < len(specs); start += per {
			wg.Add(1)
			go func(batch []stages.ChildSpec) {
				defer wg.Done()
				outs, err := children.Run(ctx, batch)
				if err != nil {
					errs <- err
					return
				}
				for _, o := range outs {
					if o.State == stages.ChildFailed {
						errs <- fmt.Errorf("%s failed: %v", o.Addr, o.Err)
					}
				}
			}(specs[start:min(start+per, len(specs))])
		}
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// childConfig derives child i's configuration from the base stage's.
func childConfig(base cty.Value, baseAddr, name string, i int) (cty.Value, error) {
	attrs := base.AsValueMap()
	if strings.HasPrefix(baseAddr, "command.") {
		env := map[string]cty.Value{}
		if e := attrs["env"]; !e.IsNull() && e.LengthInt() > 0 {
			env = e.AsValueMap()
		}
		env["CHILD"] = cty.StringVal(strconv.Itoa(i))
		attrs["env"] = cty.MapVal(env)
		attrs["outputs"] = cty.ListVal([]cty.Value{cty.StringVal(fmt.Sprintf("out/%s-child-%d.txt", name, i))})
		return cty.ObjectVal(attrs), nil
	}
	if _, ok := attrs["tag"]; !ok {
		return base, nil // any other kind (train, say): every child is the base configuration
	}
	attrs["tag"] = cty.StringVal(strconv.Itoa(i))
	return cty.ObjectVal(attrs), nil
}

// digests lists a child's outputs as name=type:digest12, sorted.
func digests(outs map[string]stages.Output) string {
	var parts []string
	for name, o := range outs {
		d := o.Digest
		if len(d) > 12 {
			d = d[:12]
		}
		parts = append(parts, name+"="+o.Type+":"+d)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func intAttr(cfg cty.Value, name string) (int, bool) {
	if !cfg.IsKnown() || cfg.IsNull() {
		return 0, false
	}
	v := cfg.GetAttr(name)
	if !v.IsKnown() || v.IsNull() {
		return 0, false
	}
	var n int
	if gocty.FromCtyValue(v, &n) != nil {
		return 0, false
	}
	return n, true
}

// Counter is the "counter" test kind: a Budgeted kind whose node "trains" `epochs` epochs (or
// Env.Budget when set), one line "TAG epoch N" per epoch appended to the project file `log`,
// keeping its progress in the resume folder so that a larger budget continues where a smaller one
// stopped, and logging the metric "score" per epoch (Env.Metrics; see score). Its output
// result.txt says how many epochs the node ran in total.
type Counter struct{}

var (
	_ stages.Budgeted = Counter{}
	_ stages.Fixtured = Counter{}
)

// Name implements stages.Kind.
func (Counter) Name() string { return "counter" }

// Version implements stages.Kind.
func (Counter) Version() string { return "1" }

// Doc implements stages.Kind.
func (Counter) Doc() string { return "Test kind: counts epochs in a resume folder (budgets)." }

// Attrs implements stages.Kind.
func (Counter) Attrs() []stages.Attr {
	return []stages.Attr{
		{Name: "epochs", Type: cty.Number, Default: cty.NumberIntVal(3), Doc: "Epochs without a budget."},
		{Name: "tag", Type: cty.String, Default: cty.StringVal(""), Doc: "Names the node in the log."},
		{Name: "log", Type: cty.String, Default: cty.StringVal("epochs.log"), NotInKey: true, Doc: "Project file the epochs are logged to."},
	}
}

// Expose implements stages.Kind.
func (Counter) Expose(_ cty.Value, outs map[string]stages.Output) cty.Value {
	if outs == nil {
		return cty.ObjectVal(map[string]cty.Value{"result": cty.UnknownVal(cty.String)})
	}
	return cty.ObjectVal(map[string]cty.Value{"result": cty.StringVal(outs["result.txt"].Path)})
}

// Prepare implements stages.Kind.
func (Counter) Prepare(cfg cty.Value, at stages.RangeFunc) (*stages.Task, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	if n, ok := intAttr(cfg, "epochs"); ok && n < 1 {
		diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid epochs",
			Detail: "epochs must be at least 1.", Subject: at("epochs")})
	}
	return &stages.Task{Outputs: map[string]stages.Output{"result.txt": {}}}, diags
}

// SupportsBudget implements stages.Budgeted.
func (Counter) SupportsBudget(cty.Value) bool { return true }

// Execute implements stages.Kind.
func (Counter) Execute(_ context.Context, env *stages.Env) error {
	target, _ := intAttr(env.Config, "epochs")
	if env.Budget > 0 {
		target = env.Budget
	}
	tag := env.Config.GetAttr("tag").AsString()
	statePath := filepath.Join(env.ResumeDir, "state.json")
	if err := os.MkdirAll(env.ResumeDir, 0o755); err != nil {
		return err
	}
	var st struct{ Epochs int }
	if b, err := os.ReadFile(statePath); err == nil {
		_ = json.Unmarshal(b, &st)
		fmt.Fprintf(env.Log, "resuming from epoch %d\n", st.Epochs)
	}
	logPath := filepath.Join(env.ProjectDir, env.Config.GetAttr("log").AsString())
	for st.Epochs < target {
		st.Epochs++
		f, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		fmt.Fprintf(f, "%s epoch %d\n", tag, st.Epochs)
		f.Close()
		if env.Metrics != nil {
			env.Metrics(st.Epochs, map[string]float64{"score": score(tag, st.Epochs)})
		}
		b, _ := json.Marshal(st)
		if err := os.WriteFile(statePath, b, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(env.OutputPaths["result.txt"], []byte(fmt.Sprintf("%s epochs=%d\n", tag, target)), 0o644)
}

// score is the metric "score" a counter node logs after each epoch: the tag's number (0 for a tag
// that is not a number) divided by 10, plus the epoch divided by 100 (child 2 at epoch 3: 0.23).
func score(tag string, epoch int) float64 {
	n, _ := strconv.Atoi(tag)
	return float64(n)/10 + float64(epoch)/100
}

// Fixture implements stages.Fixtured.
func (Counter) Fixture() stages.Fixture {
	return stages.Fixture{
		Pipeline: `
counter "under_test" {
  epochs = 2
  tag    = "t"
}
`,
		Failing: `
counter "under_test" {
  epochs = 2
  log    = "no-such-folder/epochs.log"
}
`,
		Invalid: []string{`
counter "under_test" {
  epochs = 0
}
`},
	}
}

// Seeded is the "seeded" test kind: a stages.Seeded kind whose seed nodes write their seed to
// value.txt and whose aggregate node writes every seed's value, one per line, to all.txt.
type Seeded struct{}

var (
	_ stages.Seeded   = Seeded{}
	_ stages.Fixtured = Seeded{}
)

// Name implements stages.Kind.
func (Seeded) Name() string { return "seeded" }

// Version implements stages.Kind.
func (Seeded) Version() string { return "1" }

// Doc implements stages.Kind.
func (Seeded) Doc() string { return "Test kind: one node per seed plus an aggregate." }

// Attrs implements stages.Kind.
func (Seeded) Attrs() []stages.Attr {
	return []stages.Attr{
		{Name: "seeds", Type: cty.List(cty.Number), Default: cty.NullVal(cty.List(cty.Number)), Doc: "Seeds."},
		{Name: "fail", Type: cty.Bool, Default: cty.False, Doc: "Fail every seed node."},
	}
}

// Expose implements stages.Kind.
func (Seeded) Expose(_ cty.Value, outs map[string]stages.Output) cty.Value {
	if outs == nil {
		return cty.ObjectVal(map[string]cty.Value{"value": cty.UnknownVal(cty.String)})
	}
	return cty.ObjectVal(map[string]cty.Value{"value": cty.StringVal(outs["value.txt"].Path)})
}

// Prepare implements stages.Kind.
func (Seeded) Prepare(cty.Value, stages.RangeFunc) (*stages.Task, hcl.Diagnostics) {
	return &stages.Task{Outputs: map[string]stages.Output{"value.txt": {}}}, nil
}

// Execute implements stages.Kind.
func (Seeded) Execute(_ context.Context, env *stages.Env) error {
	if env.Config.GetAttr("fail").True() {
		return errors.New("failing on purpose")
	}
	return os.WriteFile(env.OutputPaths["value.txt"], []byte(strconv.FormatInt(env.Seed, 10)+"\n"), 0o644)
}

// SeedsAttr implements stages.Seeded.
func (Seeded) SeedsAttr() string { return "seeds" }

// AggregateOutputs implements stages.Seeded.
func (Seeded) AggregateOutputs() map[string]stages.Output {
	return map[string]stages.Output{"all.txt": {}}
}

// Aggregate implements stages.Seeded.
func (Seeded) Aggregate(_ context.Context, env *stages.Env) error {
	var seeds []string
	for s := range env.Parts {
		seeds = append(seeds, s)
	}
	sort.Slice(seeds, func(i, j int) bool { a, _ := strconv.Atoi(seeds[i]); b, _ := strconv.Atoi(seeds[j]); return a < b })
	var b strings.Builder
	for _, s := range seeds {
		data, err := os.ReadFile(env.Parts[s]["value.txt"].Path)
		if err != nil {
			return err
		}
		b.Write(data)
	}
	return os.WriteFile(env.OutputPaths["all.txt"], []byte(b.String()), 0o644)
}

// ExposeAggregate implements stages.Seeded.
func (Seeded) ExposeAggregate(_ cty.Value, outs map[string]stages.Output, _ map[string]map[string]stages.Output) cty.Value {
	if outs == nil {
		return cty.ObjectVal(map[string]cty.Value{"all": cty.UnknownVal(cty.String)})
	}
	return cty.ObjectVal(map[string]cty.Value{"all": cty.StringVal(outs["all.txt"].Path)})
}

// Fixture implements stages.Fixtured.
func (Seeded) Fixture() stages.Fixture {
	return stages.Fixture{
		Pipeline: `
seeded "under_test" {
  seeds = [1, 2]
}
`,
		Failing: `
seeded "under_test" {
  seeds = [1, 2]
  fail  = true
}
`,
	}
}
