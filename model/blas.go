package model

/*
#cgo LDFLAGS: -lopenblas
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
char* openblas_get_corename(void);
char* openblas_get_config(void);
int blas_thread_shutdown_(void);

// OpenBLAS starts its thread pool when the library is loaded, before main, and each of its
// threads spins (sched_yield) for about 2^28 cycles waiting for work before it sleeps: about
// 0.1 s of CPU time per thread in every pcamflow process, which a plan of 10,000 nodes (0.5 s on
// two cores) felt. pcamflow never uses OpenBLAS' threads (ensureBLAS pins it to one thread; the
// kernels of this package split the work themselves), so the pool is pinned to one thread and
// stopped as the program starts: the constructors of the program run after those of the
// libraries it links and before the Go runtime starts. OpenBLAS would start the pool again by
// itself if it were ever asked for more threads.
__attribute__((constructor)) static void pcamflow_stop_blas_pool(void) {
	openblas_set_num_threads(1);
	blas_thread_shutdown_();
}
*/
import "C"

import (
	"bufio"
	"os"
	"strings"
	"sync"

	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

// blasImpl is the BLAS used by gorgonia (through G.Use) and by the hand-written kernels of this
// package, so that every matrix product of a step runs on the same OpenBLAS.
var blasImpl netlib.Implementation

var blasOnce sync.Once

// ensureBLAS installs OpenBLAS as gorgonia's and tensor's BLAS and pins it to one thread, once
// per process: OpenBLAS' own threading gives different bits at different thread counts and is
// slow on the small products of a convnet. Parallelism comes from the package's kernels instead
// (see SetThreads), which split every product into fixed blocks.
func ensureBLAS() {
	blasOnce.Do(func() {
		G.Use(blasImpl)
		C.openblas_set_num_threads(1)
	})
}

// SetThreads sets the number of goroutines the training and inference kernels use (default:
// GOMAXPROCS at start-up; values below 1 mean 1). Results are bit-identical at every thread count;
// they depend only on the OpenBLAS kernel chosen for the CPU (see BLASInfo).
func SetThreads(n int) {
	ensureBLAS()
	workers.Store(int32(max(1, n)))
}

// BLASDescription names the numerical backend of a run, for its run record.
type BLASDescription struct {
	// Backend is the BLAS library and the kernel OpenBLAS selected for this CPU, e.g. "OpenBLAS (SkylakeX)".
	Backend string `json:"backend"`
	// Config is OpenBLAS' own build description.
	Config string `json:"config"`
	// OpenBLASThreads is OpenBLAS' own thread count, always 1 (see SetThreads).
	OpenBLASThreads int `json:"openblas_threads"`
	// Threads is the number of kernel goroutines in force (it does not change results).
	Threads int `json:"threads"`
	// CPU is the "model name" line of /proc/cpuinfo, or "unknown".
	CPU string `json:"cpu"`
	// SIMD is the instruction set of the package's own C kernels: "avx2+fma" or "sse2" (the
	// inference dense layers round differently with and without fused multiply-adds; the
	// optimisers give the same bits on both).
	SIMD string `json:"simd"`
	// Warning is non-empty when OpenBLAS fell back to its generic Prescott kernels on a CPU with
	// AVX2 or AVX-512 (OpenBLAS 0.3.21 does not recognise recent Xeons): training then runs about
	// 3× slower than with OPENBLAS_CORETYPE set, which must be exported before the process starts.
	Warning string `json:"warning,omitempty"`
}

// BLASInfo describes the BLAS backend, the thread counts, the CPU model and the instruction set
// of the package's C kernels, for run records. Bitwise reproducibility holds between runs with the
// same Backend and SIMD (OpenBLAS picks its kernel by CPU model, OPENBLAS_CORETYPE overrides the
// choice; SIMD follows the CPU's features), whatever the thread count.
func BLASInfo() BLASDescription {
	ensureBLAS()
	core := C.GoString(C.openblas_get_corename())
	d := BLASDescription{
		Backend:         "OpenBLAS (" + core + ")",
		Config:          strings.TrimSpace(C.GoString(C.openblas_get_config())),
		OpenBLASThreads: int(C.openblas_get_num_threads()),
		Threads:         numWorkers(),
		CPU:             cpuModel(),
		SIMD:            simdName(),
	}
	if strings.EqualFold(core, "Prescott") {
		switch flags := cpuFlags(); {
		case flags["avx512f"] && flags["avx512bw"] && flags["avx512vl"]:
			d.Warning = "OpenBLAS uses its generic Prescott kernels on an AVX-512 CPU; export OPENBLAS_CORETYPE=SkylakeX for much faster training"
		case flags["avx2"]:
			d.Warning = "OpenBLAS uses its generic Prescott kernels on an AVX2 CPU; export OPENBLAS_CORETYPE=Haswell for much faster training"
		}
	}
	return d
}

// cpuinfoField returns the first value of a /proc/cpuinfo field, or "".
func cpuinfoField(name string) string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// cpuModel reads the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	if m := cpuinfoField("model name"); m != "" {
		return m
	}
	return "unknown"
}

// cpuFlags returns the feature flags of the first CPU.
func cpuFlags() map[string]bool {
	flags := map[string]bool{}
	for _, f := range strings.Fields(cpuinfoField("flags")) {
		flags[f] = true
	}
	return flags
}
