// Command tpe benchmarks pcamflow's samplers (package hpo) on known test
// functions: for every function, sampler and seed it runs a sequential study
// of -trials trials and prints one CSV row with the best value found and the
// sampler's overhead per trial: the loop's wall time, and the process's CPU
// time (getrusage), each minus the time spent in the test function. optuna_ref.py prints the same rows for Optuna; run.sh
// runs both and summarises them.
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"math"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/pcamflow/pcamflow/hpo"
)

// samplers maps the names accepted by -samplers to constructors.
var samplers = map[string]func(hpo.Space, int64) hpo.Sampler{
	"random": func(s hpo.Space, seed int64) hpo.Sampler { return hpo.NewRandom(s, seed) },
	"tpe":    func(s hpo.Space, seed int64) hpo.Sampler { return hpo.NewTPE(s, seed, hpo.TPEOptions{}) },
	"tpe-mv": func(s hpo.Space, seed int64) hpo.Sampler {
		return hpo.NewTPE(s, seed, hpo.TPEOptions{Multivariate: true})
	},
	"tpe-norm": func(s hpo.Space, seed int64) hpo.Sampler {
		return hpo.NewTPE(s, seed, hpo.TPEOptions{NormalizedKernels: true})
	},
}

func main() {
	seeds := flag.Int("seeds", 30, "number of seeds")
	first := flag.Int("first-seed", 0, "first seed")
	trials := flag.Int("trials", 50, "trials per study")
	names := flag.String("samplers", "tpe,random", "comma-separated samplers: tpe, random, tpe-mv, tpe-norm")
	funcs := flag.String("functions", "branin,hartmann6,mixed4", "comma-separated test functions")
	flag.Parse()
	w := csv.NewWriter(os.Stdout)
	_ = w.Write([]string{"impl", "function", "sampler", "seed", "best", "overhead_us_per_trial", "cpu_us_per_trial"})
	for _, fn := range functions {
		if !contains(*funcs, fn.name) {
			continue
		}
		for _, name := range strings.Split(*names, ",") {
			mk, ok := samplers[name]
			if !ok {
				fmt.Fprintf(os.Stderr, "tpe: unknown sampler %q\n", name)
				os.Exit(2)
			}
			for seed := *first; seed < *first+*seeds; seed++ {
				best, overhead, cpu, err := study(mk(fn.space, int64(seed)), fn.f, *trials)
				if err != nil {
					fmt.Fprintf(os.Stderr, "tpe: %s/%s seed %d: %v\n", fn.name, name, seed, err)
					os.Exit(1)
				}
				_ = w.Write([]string{"pcamflow", fn.name, name, fmt.Sprint(seed),
					fmt.Sprintf("%.9g", best), fmt.Sprintf("%.1f", overhead.Seconds()*1e6/float64(*trials)),
					fmt.Sprintf("%.1f", cpu.Seconds()*1e6/float64(*trials))})
			}
			w.Flush()
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		fmt.Fprintln(os.Stderr, "tpe:", err)
		os.Exit(1)
	}
}

// study runs trials sequential trials of s on f and returns the best value
// and the wall and CPU time spent outside f (proposals and bookkeeping).
func study(s hpo.Sampler, f func(hpo.Point) float64, trials int) (best float64, wall, cpu time.Duration, err error) {
	var hist []hpo.Observation
	best = math.Inf(1)
	var inF time.Duration
	cpu0 := cpuTime()
	start := time.Now()
	for i := 0; i < trials; i++ {
		p, err := s.Propose(i, hist)
		if err != nil {
			return 0, 0, 0, err
		}
		t0 := time.Now()
		v := f(p)
		inF += time.Since(t0)
		best = math.Min(best, v)
		hist = append(hist, hpo.Observation{Point: p, Value: v, State: hpo.Complete})
	}
	wall = time.Since(start) - inF
	cpu = cpuTime() - cpu0 - inF
	return best, wall, cpu, nil
}

// cpuTime is the user+system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func contains(list, name string) bool {
	for _, x := range strings.Split(list, ",") {
		if x == name {
			return true
		}
	}
	return false
}
