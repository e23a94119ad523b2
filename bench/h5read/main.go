// Command h5read measures random-order batch reads of one PCAM split with the pcam package, for
// comparison with h5py (see run.sh). With -synth it first writes a synthetic split to read.
//
//	go run ./bench/h5read -dir DIR -split valid -batch 128 -batches 200 [-synth N -deflate 1 -contiguous]
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/pprof"
	"time"

	"github.com/pcamflow/pcamflow/pcam"
)

func main() {
	dir := flag.String("dir", "", "folder with the official-layout files")
	split := flag.String("split", "valid", "split to read")
	batch := flag.Int("batch", 128, "batch size")
	batches := flag.Int("batches", 200, "number of batches to read")
	seed := flag.Uint64("seed", 1, "seed of the random order")
	synth := flag.Int("synth", 0, "first synthesize a split of this many patches into -dir")
	deflate := flag.Int("deflate", 0, "with -synth: deflate level (0 = none)")
	chunk := flag.Int("chunk", 1, "with -synth: patches per chunk")
	contiguous := flag.Bool("contiguous", false, "with -synth: contiguous layout")
	from := flag.String("from", "", "copy the split from this folder into -dir with the -deflate/-chunk/-contiguous storage, then exit")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the read loop to this file")
	flag.Parse()
	if *dir == "" {
		log.Fatal("-dir is required")
	}
	wopt := pcam.WriteOptions{ChunkRows: *chunk, Deflate: *deflate, Contiguous: *contiguous}
	if *synth > 0 || *from != "" {
		if err := prepare(*dir, *from, pcam.Split(*split), *synth, wopt); err != nil {
			log.Fatal(err)
		}
		return
	}
	r, err := pcam.OpenH5(*dir, pcam.Split(*split))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	perm := permutation(r.Len(), *seed)
	pix := make([]byte, *batch*pcam.PatchBytes)
	lab := make([]uint8, *batch)
	var checksum uint64
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	n := 0
	for b := 0; b < *batches; b++ {
		idx := perm[(b**batch)%(len(perm)-*batch):][:*batch]
		if err := r.Read(idx, pix, lab); err != nil {
			log.Fatal(err)
		}
		checksum += uint64(pix[(argmax(idx)+1)*pcam.PatchBytes-1]) // h5py's sorted batch ends with the largest index
		n += len(idx)
	}
	el := time.Since(start).Seconds()
	fmt.Printf("go-pcam layout=%q images=%d seconds=%.3f images_per_s=%.0f checksum=%d\n", r.Layout(), n, el, float64(n)/el, checksum)
}

// permutation returns a seeded random permutation (xorshift Fisher-Yates; any fixed order will do).
func permutation(n int, seed uint64) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	s := seed*0x9e3779b97f4a7c15 | 1
	for i := n - 1; i > 0; i-- {
		s ^= s << 13
		s ^= s >> 7
		s ^= s << 17
		j := int(s % uint64(i+1))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// prepare writes the split into dir with storage opt: copied from the folder from, or else synthesized
// (n patches, no defects needed here).
func prepare(dir, from string, split pcam.Split, n int, opt pcam.WriteOptions) error {
	if from == "" {
		tmp, err := os.MkdirTemp(dir, "synth")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		so := pcam.SynthOptions{Seed: 1, NoDefects: true}
		switch split {
		case pcam.Train:
			so.Train = n
		case pcam.Valid:
			so.Valid = n
		default:
			so.Test = n
		}
		if _, err := pcam.Synthesize(tmp, so); err != nil {
			return err
		}
		from = tmp
	}
	r, err := pcam.OpenH5(from, split)
	if err != nil {
		return err
	}
	defer r.Close()
	return pcam.WriteSplit(dir, split, r, opt)
}

// argmax returns the position of the largest value.
func argmax(v []int) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
