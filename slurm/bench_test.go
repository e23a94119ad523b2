package slurm

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// BenchmarkArray submits one array of trivial tasks (/bin/true) to the real cluster, polls it
// until every task finished, and compares with running the same commands locally. Reported:
//
//	submit-s          time of the one sbatch call
//	wall-s            submission to last outcome
//	polls             poll intervals needed
//	cmds/poll         Slurm commands per poll interval (average; max-cmds/poll is the worst)
//	local-seq-s       the same tasks run locally one after another (fork+exec /bin/true)
//	local-par-s       the same tasks run locally with as many at once as the node has CPUs
//	overhead-ms/task  (wall-s - local-par-s) / tasks: what Slurm costs per trivial task here
//
// Environment: PCAMFLOW_BENCH_TASKS (default 1000), PCAMFLOW_BENCH_POLL (poll interval, default
// 1s). Run: go test -run '^$' -bench BenchmarkArray -benchtime 1x ./slurm/
func BenchmarkArray(b *testing.B) {
	requireCluster(b)
	tasks := envInt(b, "PCAMFLOW_BENCH_TASKS", 1000)
	interval := time.Second
	if v := os.Getenv("PCAMFLOW_BENCH_POLL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("PCAMFLOW_BENCH_POLL: %v", err)
		}
		interval = d
	}
	indices := make([]int, tasks)
	for i := range indices {
		indices[i] = i
	}
	for range b.N {
		dir := b.TempDir()
		spec := JobSpec{
			Name: "pcamflow-bench", WorkDir: dir, Output: filepath.Join(dir, "%A_%a.out"),
			Array: &ArraySpec{Indices: indices}, Command: []string{"/bin/true"},
			ResultDir: filepath.Join(dir, "results"),
		}
		c := &CLI{}
		c.AccountingAvailable(context.Background())
		ctx := context.Background()
		start := time.Now()
		id, err := c.Submit(ctx, spec)
		if err != nil {
			b.Fatal(err)
		}
		submit := time.Since(start)
		tr := NewTracker(c)
		if err := tr.Add(id, spec); err != nil {
			b.Fatal(err)
		}
		if err := tr.Wait(ctx, interval, nil); err != nil {
			b.Fatal(err)
		}
		wall := time.Since(start)
		if n := len(FailedIndices(tr.Outcomes(id))); n > 0 {
			b.Fatalf("%d of %d trivial tasks failed", n, tasks)
		}
		st := tr.Stats()
		seq := runLocal(b, tasks, 1)
		par := runLocal(b, tasks, runtime.NumCPU())
		b.ReportMetric(submit.Seconds(), "submit-s")
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(float64(st.Polls), "polls")
		b.ReportMetric(float64(st.Commands)/float64(st.Polls), "cmds/poll")
		b.ReportMetric(float64(st.MaxCommandsPerPoll), "max-cmds/poll")
		b.ReportMetric(seq.Seconds(), "local-seq-s")
		b.ReportMetric(par.Seconds(), "local-par-s")
		b.ReportMetric(float64((wall-par).Milliseconds())/float64(tasks), "overhead-ms/task")
	}
}

// runLocal runs /bin/true n times with the given parallelism and returns the wall time.
func runLocal(b *testing.B, n, parallel int) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := exec.Command("/bin/true").Run(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return time.Since(start)
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q is not a positive integer", name, v)
	}
	return n
}
