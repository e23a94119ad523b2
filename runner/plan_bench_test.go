package runner_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/runner"
	"github.com/pcamflow/pcamflow/stages/builtin"
)

// fanoutSource is a for_each command stage of n instances and one command stage reading all of
// their outputs: the shape of issue 13 item 5.
func fanoutSource(n, seed int) []byte {
	return []byte(fmt.Sprintf(`pipeline "fan" {
  seed = %d
}

command "shard" {
  for_each = range(%d)
  run      = ["sh", "-c", "echo ${each.key} > out/${each.key}.txt"]
  outputs  = ["out/${each.key}.txt"]
}

command "join" {
  run     = ["sh", "-c", "cat out/*.txt | wc -l > all.txt"]
  inputs  = [for s in command.shard : s.outputs[0]]
  outputs = ["all.txt"]
}
`, seed, n))
}

// planFanout loads and plans the fan-out of n in a fresh workspace under dir.
func planFanout(tb testing.TB, dir string, n int) []runner.PlannedNode {
	p, diags := pipelines.Load(filepath.Join(dir, "fan.hcl"), fanoutSource(n, 1), builtin.Registry(), pipelines.Options{})
	if diags.HasErrors() {
		tb.Fatal(diags)
	}
	store, err := cache.Open(filepath.Join(dir, ".pcamflow"))
	if err != nil {
		tb.Fatal(err)
	}
	defer store.Close()
	r, err := runner.New(p, store, nil, dir, runner.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	plan, err := r.Plan(context.Background())
	if err != nil || len(plan) != n+1 {
		tb.Fatalf("plan: %d nodes, %v", len(plan), err)
	}
	return plan
}

// BenchmarkPlanFanout loads and plans a for_each fan-out of N command nodes plus a join that
// reads them all, in a workspace where nothing ran (every key is computed).
func BenchmarkPlanFanout(b *testing.B) {
	for _, n := range []int{10000, 30000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dir := b.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "fan.hcl"), fanoutSource(n, 1), 0o644); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu := cpuTime()
			for range b.N {
				planFanout(b, dir, n)
			}
			b.ReportMetric(float64(cpuTime()-cpu)/1e6/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime is the user plus system CPU time of the process so far, in nanoseconds: on a machine
// shared with other jobs it says more than the wall time.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
