// Command train measures training throughput (images/s) of the pcamflow model package on the
// benchmark models of docs/bench-train.md: the MLP 27648→128→1 and the small CNN
// (conv3→16, maxpool, conv16→32, maxpool, dense→1), float32, Adam, random 96×96×3 batches.
// It prints one JSON line; torch_bench.py prints the same for PyTorch.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/pcamflow/pcamflow/bench/internal/benchkit"
	"github.com/pcamflow/pcamflow/model"
)

func main() {
	arch := flag.String("arch", "mlp", "mlp or cnn")
	batch := flag.Int("batch", 0, "batch size (default 128 for mlp, 64 for cnn)")
	steps := flag.Int("steps", 30, "timed steps")
	warmup := flag.Int("warmup", 3, "untimed warm-up steps")
	threads := flag.Int("threads", 2, "kernel threads (OpenBLAS itself runs single-threaded)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	stop, err := benchkit.StartProfile(*cpuprofile)
	if err == nil {
		err = run(*arch, *batch, *steps, *warmup, *threads)
		stop()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(arch string, batch, steps, warmup, threads int) error {
	model.SetThreads(threads)
	cfg, defBatch, err := benchkit.Model(arch)
	if err != nil {
		return err
	}
	if batch == 0 {
		batch = defBatch
	}
	tr, err := model.New(cfg)
	if err != nil {
		return err
	}
	pix, labels := benchkit.RandomPatches(batch)
	for range warmup {
		if _, err := tr.Step(pix, labels); err != nil {
			return err
		}
	}
	start, cpu0 := time.Now(), benchkit.CPUSeconds()
	for range steps {
		if _, err := tr.Step(pix, labels); err != nil {
			return err
		}
	}
	el, cpu := time.Since(start).Seconds(), benchkit.CPUSeconds()-cpu0
	info := model.BLASInfo()
	if info.Warning != "" {
		fmt.Fprintln(os.Stderr, "bench: warning:", info.Warning)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"impl": "pcamflow", "arch": arch, "batch": batch, "steps": steps,
		"images_per_s": float64(steps*batch) / el, "ms_per_step": 1000 * el / float64(steps),
		"cpu_ms_per_step": 1000 * cpu / float64(steps),
		"blas":            info, "params": tr.NumParams(),
	})
}
