// Package benchkit holds what the Go benchmark commands share: the benchmark models, random
// patches, an optional CPU profile and the process's CPU time, which a shared machine distorts
// less than wall time.
package benchkit

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/pcamflow/pcamflow/model"
)

// StartProfile starts a CPU profile into path (nothing when path is empty) and returns the
// function that stops it.
func StartProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting the CPU profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// CPUSeconds is the CPU time (user + system) the process has used so far.
func CPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// Model returns the configuration of a benchmark model (the same in every benchmark and in
// bench/train/torch_bench.py) and its training batch size: "mlp" is 27648→128→ReLU→1 with batch
// 128, "cnn" conv3→16 ReLU maxpool, conv16→32 ReLU maxpool, dense 18432→1 with batch 64; both
// with Adam at learning rate 1e-4 and seed 1.
func Model(arch string) (model.Config, int, error) {
	cfg := model.Config{Arch: arch, Seed: 1, Optimizer: model.OptimizerConfig{Name: "adam", LearningRate: 1e-4}}
	switch arch {
	case model.ArchMLP:
		cfg.HiddenUnits = []int{128}
		return cfg, 128, nil
	case model.ArchCNN:
		cfg.Channels = []int{16, 32}
		return cfg, 64, nil
	}
	return cfg, 0, fmt.Errorf("unknown arch %q (mlp or cnn)", arch)
}

// RandomPatches returns n random 96×96×3 patches (HWC bytes) and n random labels, the same for
// the same n.
func RandomPatches(n int) ([]byte, []uint8) {
	r := rand.New(rand.NewPCG(1, 2))
	pix := make([]byte, n*96*96*3)
	labels := make([]uint8, n)
	for i := range pix {
		pix[i] = byte(r.IntN(256))
	}
	for i := range labels {
		labels[i] = uint8(r.IntN(2))
	}
	return pix, labels
}
