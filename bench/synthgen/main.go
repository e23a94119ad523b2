// Command synthgen times pcam.Synthesize (the numbers in docs/data.md):
//
//	go run ./bench/synthgen -o DIR [-train 262144 -valid 32768 -test 32768 -seed 1 -deflate 0]
//
// It prints the wall time, the bytes written, the rate and the peak resident memory.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/pcamflow/pcamflow/pcam"
)

func main() {
	var opt pcam.SynthOptions
	out := flag.String("o", "", "output folder")
	flag.Uint64Var(&opt.Seed, "seed", 1, "seed")
	flag.IntVar(&opt.Train, "train", 262144, "train patches")
	flag.IntVar(&opt.Valid, "valid", 32768, "valid patches")
	flag.IntVar(&opt.Test, "test", 32768, "test patches")
	flag.IntVar(&opt.Deflate, "deflate", 0, "deflate level (0 = none)")
	flag.IntVar(&opt.ChunkRows, "chunk", 1, "patches per chunk")
	flag.Parse()
	if *out == "" {
		log.Fatal("-o is required")
	}
	start := time.Now()
	m, err := pcam.Synthesize(*out, opt)
	if err != nil {
		log.Fatal(err)
	}
	el := time.Since(start)
	var size int64
	files, _ := filepath.Glob(filepath.Join(*out, "*"))
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			size += st.Size()
		}
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	n := opt.Train + opt.Valid + opt.Test
	fmt.Printf("patches=%d defects=%d cores=%d seconds=%.1f patches_per_s=%.0f bytes=%d MB_per_s=%.0f peak_rss_MiB=%.0f\n",
		n, len(m.Defects), runtime.GOMAXPROCS(0), el.Seconds(), float64(n)/el.Seconds(), size, float64(size)/1e6/el.Seconds(), float64(ru.Maxrss)/1024)
}
