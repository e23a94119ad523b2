package runner_test

import (
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestPlanScalesLinearly loads and plans the fan-out plus join at N and 4N nodes and compares the
// allocations (count and bytes) of the two: linear planning allocates about 4 times as much, a
// quadratic part 16 times. Allocations, not time, so that a loaded machine cannot make it fail.
// It also bounds the join's reason, which once listed every upstream node (2.4 MB at 100,000).
func TestPlanScalesLinearly(t *testing.T) {
	if testing.Short() {
		t.Skip("plans 10,000 nodes")
	}
	const n = 2000
	cpus := map[int][]int64{}
	measure := func(n int) (allocs, bytes uint64, reason string) {
		dir := t.TempDir()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		cpu := cpuTime()
		plan := planFanout(t, dir, n)
		cpus[n] = append(cpus[n], cpuTime()-cpu)
		runtime.ReadMemStats(&after)
		join := plan[len(plan)-1]
		if join.Node != "command.join" || len(join.Reasons) != 1 {
			t.Fatalf("last node %s, reasons %q", join.Node, join.Reasons)
		}
		return after.Mallocs - before.Mallocs, after.TotalAlloc - before.TotalAlloc, join.Reasons[0]
	}
	measure(n / 4) // warm up: one-time allocations (function tables, regexps) must not count
	a1, b1, r1 := measure(n)
	a4, b4, r4 := measure(4 * n)
	t.Logf("N=%d: %d allocations, %d bytes; 4N: %d allocations, %d bytes (ratios %.2f, %.2f)",
		n, a1, b1, a4, b4, float64(a4)/float64(a1), float64(b4)/float64(b1))
	// Linear is 4; allow for map growth steps and constant parts, well below quadratic (16).
	if float64(a4) > 6*float64(a1) || float64(b4) > 6*float64(b1) {
		t.Errorf("planning 4x the nodes costs %.1fx the allocations and %.1fx the bytes: not linear",
			float64(a4)/float64(a1), float64(b4)/float64(b1))
	}
	// CPU time, the less noisy of two runs at each size, with a generous bound: the machine may be
	// shared, but a quadratic part would cost 16 times as much.
	measure(n)
	measure(4 * n)
	c1, c4 := slices.Min(cpus[n]), slices.Min(cpus[4*n])
	t.Logf("CPU time: %.0f ms at N, %.0f ms at 4N (ratio %.2f)", float64(c1)/1e6, float64(c4)/1e6, float64(c4)/float64(c1))
	if c1 > 0 && float64(c4) > 10*float64(c1) {
		t.Errorf("planning 4x the nodes takes %.1fx the CPU time: not linear", float64(c4)/float64(c1))
	}
	if !strings.HasPrefix(r4, "inputs from 8,000 upstream nodes will be recomputed first (command.shard[\"0\"], ") || len(r4) > 200 {
		t.Errorf("join reason at 4N = %q (%d bytes), want a short summary", r4, len(r4))
	}
	if len(r4) != len(r1) {
		t.Errorf("the join's reason grows with N: %d bytes at N, %d at 4N", len(r1), len(r4))
	}
}
