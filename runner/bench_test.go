package runner_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/runner"
	"github.com/pcamflow/pcamflow/stages"
)

// The plan and no-op benchmarks of the runner: a fan-out of 10,000 nodes into one join, all cached.
// The nodes are of a trivial in-process kind (benchKind), so the one-time setup run costs seconds,
// not 10,000 processes. This file compiles against the runner before and after the architecture
// change of issue 8, so bench/arch/compare.sh runs it on both in one session.

// benchKind writes its i attribute to its one managed output.
type benchKind struct{}

func (benchKind) Name() string    { return "bench" }
func (benchKind) Version() string { return "1" }
func (benchKind) Doc() string     { return "benchmark kind" }
func (benchKind) Attrs() []stages.Attr {
	return []stages.Attr{
		{Name: "i", Type: cty.Number, Required: true, Doc: "index"},
		{Name: "deps", Type: cty.DynamicPseudoType, Default: cty.EmptyTupleVal, Doc: "upstream values"},
	}
}
func (benchKind) Expose(_ cty.Value, outs map[string]stages.Output) cty.Value {
	if outs == nil {
		return cty.ObjectVal(map[string]cty.Value{"out": cty.UnknownVal(cty.String)})
	}
	return cty.ObjectVal(map[string]cty.Value{"out": cty.StringVal(outs["out.txt"].Path)})
}
func (benchKind) Prepare(cty.Value, stages.RangeFunc) (*stages.Task, hcl.Diagnostics) {
	return &stages.Task{Outputs: map[string]stages.Output{"out.txt": {}}}, nil
}
func (benchKind) Execute(_ context.Context, env *stages.Env) error {
	return os.WriteFile(env.OutputPaths["out.txt"], []byte(env.Config.GetAttr("i").AsBigFloat().String()), 0o644)
}

// benchPipeline is the 10,000-node fan-out and its join; seed changes every key.
func benchPipeline(n int, seed int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "pipeline \"bench\" {\n  seed = %d\n}\n\n", seed)
	refs := make([]string, n)
	for i := range n {
		fmt.Fprintf(&b, "bench \"n%d\" {\n  i = %d\n}\n\n", i, i)
		refs[i] = fmt.Sprintf("bench.n%d.out", i)
	}
	fmt.Fprintf(&b, "bench \"join\" {\n  i    = -1\n  deps = [%s]\n}\n", strings.Join(refs, ", "))
	return []byte(b.String())
}

var benchSetup struct {
	once  sync.Once
	dir   string
	p     *pipelines.Pipeline
	store *cache.Store
	err   error
}

// benchWorkspace runs the fan-out once (shared by the benchmarks of one process) and returns the
// loaded pipeline and the store where it is all cached.
func benchWorkspace(b *testing.B) (string, *pipelines.Pipeline, *cache.Store) {
	s := &benchSetup
	s.once.Do(func() {
		s.dir, s.err = os.MkdirTemp("", "pcamflow-bench-runner-")
		if s.err != nil {
			return
		}
		reg := stages.NewRegistry(benchKind{})
		p, diags := pipelines.Load(filepath.Join(s.dir, "bench.hcl"), benchPipeline(10000, 1), reg, pipelines.Options{})
		if diags.HasErrors() {
			s.err = diags
			return
		}
		s.p = p
		if s.store, s.err = cache.Open(filepath.Join(s.dir, ".pcamflow")); s.err != nil {
			return
		}
		r, err := runner.New(p, s.store, nil, s.dir, runner.Options{Jobs: 2})
		if err != nil {
			s.err = err
			return
		}
		sum, err := r.Run(context.Background())
		if err == nil && !sum.OK() {
			err = fmt.Errorf("setup run failed")
		}
		s.err = err
	})
	if s.err != nil {
		b.Fatal(s.err)
	}
	return s.dir, s.p, s.store
}

// BenchmarkPlan10k plans the cached 10,001-node pipeline (the full plan: every key computed).
func BenchmarkPlan10k(b *testing.B) {
	dir, p, store := benchWorkspace(b)
	b.ResetTimer()
	for range b.N {
		r, err := runner.New(p, store, nil, dir, runner.Options{})
		if err != nil {
			b.Fatal(err)
		}
		plan, err := r.Plan(context.Background())
		if err != nil || len(plan) != 10001 {
			b.Fatalf("plan: %d nodes, %v", len(plan), err)
		}
	}
}

// BenchmarkPlanChanged10k plans the pipeline after a change of the pipeline seed: every node will
// run, and each says why.
func BenchmarkPlanChanged10k(b *testing.B) {
	dir, _, store := benchWorkspace(b)
	p, diags := pipelines.Load(filepath.Join(dir, "bench.hcl"), benchPipeline(10000, 2), stages.NewRegistry(benchKind{}), pipelines.Options{})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	b.ResetTimer()
	for range b.N {
		r, err := runner.New(p, store, nil, dir, runner.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Plan(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNoopRun10k runs the cached pipeline through the whole walk (no fingerprint fast path):
// every node is checked, restored where needed and found cached.
func BenchmarkNoopRun10k(b *testing.B) {
	dir, p, store := benchWorkspace(b)
	b.ResetTimer()
	for range b.N {
		r, err := runner.New(p, store, nil, dir, runner.Options{Jobs: 2})
		if err != nil {
			b.Fatal(err)
		}
		sum, err := r.Run(context.Background())
		if err != nil || len(sum.Nodes) != 10001 {
			b.Fatalf("run: %v", err)
		}
	}
}
