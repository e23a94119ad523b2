package benchmark

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/pcamflow/pcamflow/model"
	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/predict"
	"github.com/pcamflow/pcamflow/stages"
)

// poolPatches is the number of random patches kept in memory when no data is given; batches cycle
// through them.
const poolPatches = 256

// patchSource gives batches of patches for the measurement, cycling over its patches.
type patchSource interface {
	// read fills pix with len(pix)/PatchBytes patches, continuing where the last read stopped.
	read(pix []byte) error
	describe() string
	close()
}

// randomSource cycles over a pool of random patches generated from a seed.
type randomSource struct {
	pool []byte
	pos  int
	seed int64
}

func newRandomSource(seed int64) *randomSource {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x62656e6368)) // "bench"
	pool := make([]byte, poolPatches*pcam.PatchBytes)
	for i := range pool {
		pool[i] = byte(rng.Uint32())
	}
	return &randomSource{pool: pool, seed: seed}
}

func (s *randomSource) read(pix []byte) error {
	for off := 0; off < len(pix); off += pcam.PatchBytes {
		copy(pix[off:off+pcam.PatchBytes], s.pool[s.pos*pcam.PatchBytes:])
		s.pos = (s.pos + 1) % poolPatches
	}
	return nil
}

func (s *randomSource) describe() string {
	return fmt.Sprintf("random patches (seed %d, %d in memory)", s.seed, poolPatches)
}
func (s *randomSource) close() {}

// splitSource cycles over the patches of a dataset split, read through the prediction path's
// sources (HDF5, Kaggle TIFF or PNG folders).
type splitSource struct {
	src  *predict.ReaderSource
	pos  int
	what string
}

func (s *splitSource) read(pix []byte) error {
	n := len(pix) / pcam.PatchBytes
	for done := 0; done < n; {
		k := min(n-done, s.src.Len()-s.pos)
		if err := s.src.Read(s.pos, pix[done*pcam.PatchBytes:(done+k)*pcam.PatchBytes], nil); err != nil {
			return err
		}
		done += k
		s.pos = (s.pos + k) % s.src.Len()
	}
	return nil
}

func (s *splitSource) describe() string { return s.what }
func (s *splitSource) close()           { s.src.Close() }

// openSource opens the configured data, or random patches from the pipeline seed.
func openSource(env *stages.Env, c *config) (patchSource, error) {
	if c.data == nil {
		return newRandomSource(env.Seed), nil
	}
	src, err := predict.OpenSplit(*c.data, c.split)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	return &splitSource{src: src, what: fmt.Sprintf("%s split of %s (%d patches)", c.split, c.data.Dir, src.Len())}, nil
}

// measureModel measures pcamflow's own engine (the prediction path of `pcamflow infer`) on the
// model's best checkpoint.
func measureModel(ctx context.Context, env *stages.Env, c *config) (*Results, error) {
	threads := max(1, env.Threads)
	if c.threads > 0 && c.threads != threads {
		return nil, fmt.Errorf("threads = %d but this process runs its kernels on %d threads (one setting for the whole process): "+
			"run with `pcamflow run --threads %d`, or set threads = 0 to measure with the run's thread count", c.threads, threads, c.threads)
	}
	m := c.model.Abs(env.ProjectDir)
	names, members := m.Members()
	ckpt := members[0].Best
	mdl, err := predict.Load(ckpt)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	defer mdl.Close()
	src, err := openSource(env, c)
	if err != nil {
		return nil, err
	}
	defer src.close()
	cfg := mdl.Config()
	desc := string(cfg.Arch)
	if len(names) > 1 || names[0] != "" {
		desc += fmt.Sprintf(" (seed %s of %d)", firstNonEmpty(m.BestSeed, names[0]), len(names))
	}
	r := NodeResult{Node: env.Node, Engine: "pcamflow", Model: desc, Data: src.describe(), Machine: machine(threads),
		Settings: Settings{BatchSizes: c.batches, Images: c.images, Warmup: c.warmup, Threads: c.threads}}
	if err := r.label(c); err != nil {
		return nil, err
	}
	fmt.Fprintf(env.Log, "benchmark %s: pcamflow engine, %s, %s; %s, %d threads, %s; partition %s, job %q\n", env.Node, desc,
		src.describe(), r.Machine.CPU, threads, r.Machine.BLAS, r.Partition, r.JobID)
	for _, b := range c.batches {
		res, err := measureBatch(ctx, mdl, src, b, c)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(env.Log, "  batch %4d: %10.1f img/s, latency p50 %.3f ms p95 %.3f ms p99 %.3f ms, bottleneck %s\n",
			b, res.ImagesPerSecond, res.LatencyMS.P50, res.LatencyMS.P95, res.LatencyMS.P99, res.Bottleneck)
		r.Batches = append(r.Batches, res)
	}
	return &Results{Nodes: []NodeResult{r}}, nil
}

// measureBatch runs the warm-up and the timed calls of one batch size. Each call reads a batch,
// preprocesses it and computes it, one after the other (no prefetching), so the phases add up to
// the call's time.
func measureBatch(ctx context.Context, mdl *predict.Model, src patchSource, batch int, c *config) (BatchResult, error) {
	pix := make([]byte, batch*pcam.PatchBytes)
	warm := ceilDiv(c.warmup, batch)
	timed := ceilDiv(c.images, batch)
	calls := make([]call, 0, timed)
	for i := range warm + timed {
		if err := ctx.Err(); err != nil {
			return BatchResult{}, err
		}
		var ph model.Phases
		t0 := time.Now()
		if err := src.read(pix); err != nil {
			return BatchResult{}, fmt.Errorf("reading a batch of %d: %w", batch, err)
		}
		t1 := time.Now()
		if _, err := mdl.PredictTimed(pix, &ph); err != nil {
			return BatchResult{}, err
		}
		t2 := time.Now()
		if i < warm {
			continue
		}
		pred := t2.Sub(t1).Seconds()
		pre := ph.Preprocess.Seconds()
		calls = append(calls, call{batch: batch, images: batch, read: t1.Sub(t0).Seconds(), preprocess: pre,
			compute: pred - pre, total: t2.Sub(t0).Seconds(), hasSplit: true})
	}
	return summarize(batch, calls), nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
