// Command infer measures inference latency of the pcamflow model package on the benchmark models
// of bench/train (MLP 27648→128→1, CNN conv3→16, maxpool, conv16→32, maxpool, dense→1): the time
// per patch of Trainer.Predict on random 96×96×3 patches at a given batch size, raw bytes in,
// probabilities out. It prints one JSON line; torch_infer.py prints the same for PyTorch.
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
	batch := flag.Int("batch", 1, "images per Predict call")
	seconds := flag.Float64("seconds", 2, "time budget of the timed calls")
	threads := flag.Int("threads", 2, "kernel threads (OpenBLAS itself runs single-threaded)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	stop, err := benchkit.StartProfile(*cpuprofile)
	if err == nil {
		err = run(*arch, *batch, *seconds, *threads)
		stop()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "infer bench:", err)
		os.Exit(1)
	}
}

func run(arch string, batch int, seconds float64, threads int) error {
	model.SetThreads(threads)
	cfg, _, err := benchkit.Model(arch)
	if err != nil {
		return err
	}
	tr, err := model.New(cfg)
	if err != nil {
		return err
	}
	pix, _ := benchkit.RandomPatches(batch)
	call := func() error { _, err := tr.Predict(pix); return err }
	for range 5 {
		if err := call(); err != nil {
			return err
		}
	}
	t0 := time.Now()
	if err := call(); err != nil {
		return err
	}
	calls := max(5, int(seconds/max(time.Since(t0).Seconds(), 1e-6)))
	t0, c0 := time.Now(), benchkit.CPUSeconds()
	for range calls {
		if err := call(); err != nil {
			return err
		}
	}
	el, cpu := time.Since(t0).Seconds(), benchkit.CPUSeconds()-c0
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"impl": "pcamflow", "arch": arch, "batch": batch, "calls": calls,
		"us_per_patch": 1e6 * el / float64(calls*batch), "ms_per_call": 1000 * el / float64(calls),
		"cpu_us_per_patch": 1e6 * cpu / float64(calls*batch),
		"blas":             model.BLASInfo(),
	})
}
