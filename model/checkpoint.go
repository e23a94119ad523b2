package model

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
)

// Checkpoint format, version 1 (all integers little-endian):
//
//	magic      8 bytes "PCFCKPT\n"
//	version    u32 = 1
//	config     u32 length (≤ 1 MiB) + resolved Config as JSON
//	meta       u32 length (≤ 64 MiB) + metadata JSON (may be empty)
//	scheduler  u32 length (≤ 64 KiB) + SchedulerState as JSON
//	rng        u32 length (≤ 256) + PCG state (encoding.BinaryMarshaler form)
//	counters   u64 epoch, u64 steps, u64 optimiser step, f64 learning rate
//	tensors    u32 count, then per tensor: u16 name length (≤ 256) + name, u8 rank (1..4),
//	           u32 per dimension, u64 element count, float32 elements
//	checksum   32 bytes: SHA-256 of every byte before it
//
// The tensors are the parameters, then the batch-norm running statistics, then the optimiser
// buffers, in the fixed order of the Config. A reader checks every length, name and shape against
// what the Config implies before allocating anything, so a truncated or crafted file fails with a
// clear error and never causes a large allocation.
const (
	ckptMagic      = "PCFCKPT\n"
	ckptVersion    = 1
	maxConfigBytes = 1 << 20
	maxMetaBytes   = 64 << 20
	maxSchedBytes  = 64 << 10
	maxRNGBytes    = 256
	maxNameBytes   = 256
)

// ErrCheckpoint is wrapped by every error about a malformed or mismatched checkpoint.
var ErrCheckpoint = errors.New("invalid checkpoint")

func ckptErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrCheckpoint, fmt.Sprintf(format, a...))
}

// tensorSpec is the checkpoint name and shape of one stored tensor.
type tensorSpec struct {
	name  string
	shape []int
}

// checkpointTensors lists every checkpointed tensor of a resolved config, in file order:
// parameters, batch-norm running statistics, then optimiser buffers (Adam m then v, or SGD's
// momentum). It allocates nothing, so a loader can validate a file before building the model.
func checkpointTensors(cfg Config) []tensorSpec {
	var out []tensorSpec
	ps := cfg.paramSpecs()
	for _, p := range ps {
		out = append(out, tensorSpec{"param/" + p.name, p.shape})
	}
	for _, s := range cfg.stateSpecs() {
		out = append(out, tensorSpec{"state/" + s.name, s.shape})
	}
	var kinds []string
	switch {
	case cfg.Optimizer.Name == "adam" || cfg.Optimizer.Name == "adamw":
		kinds = []string{"opt.m/", "opt.v/"}
	case cfg.Optimizer.Momentum > 0:
		kinds = []string{"opt.m/"}
	}
	for _, k := range kinds {
		for _, p := range ps {
			out = append(out, tensorSpec{k + p.name, p.shape})
		}
	}
	return out
}

// tensors returns the live buffers in checkpointTensors order.
func (t *Trainer) tensors() []namedBuf {
	var bufs []namedBuf
	names := make([]string, len(t.params))
	for i, p := range t.params {
		bufs = append(bufs, namedBuf{"param/" + p.spec.name, p.data})
		names[i] = p.spec.name
	}
	for _, s := range t.state {
		bufs = append(bufs, namedBuf{"state/" + s.spec.name, s.data})
	}
	return append(bufs, t.opt.buffers(names)...)
}

// Save writes the complete training state (weights, batch-norm statistics, optimiser state,
// scheduler state, RNG state, counters, learning rate, metadata and resolved config) to w in the
// versioned checkpoint format. Saving then loading restores the state bit for bit.
func (t *Trainer) Save(w io.Writer) error {
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(w, h), 1<<16)
	cw := &ckptWriter{w: bw}
	cfg, err := json.Marshal(t.cfg)
	if err != nil {
		return fmt.Errorf("saving checkpoint: encoding config: %w", err)
	}
	sched, err := t.sched.marshal()
	if err != nil {
		return fmt.Errorf("saving checkpoint: encoding scheduler: %w", err)
	}
	rng, err := t.src.MarshalBinary()
	if err != nil {
		return fmt.Errorf("saving checkpoint: encoding RNG: %w", err)
	}
	cw.raw([]byte(ckptMagic))
	cw.u32(ckptVersion)
	for _, b := range [][]byte{cfg, t.meta, sched, rng} {
		cw.u32(uint32(len(b)))
		cw.raw(b)
	}
	cw.u64(uint64(t.epoch))
	cw.u64(uint64(t.steps))
	cw.u64(uint64(t.opt.t))
	cw.u64(math.Float64bits(t.lr))
	bufs, specs := t.tensors(), checkpointTensors(t.cfg)
	if len(bufs) != len(specs) {
		return fmt.Errorf("saving checkpoint: internal error: %d buffers for %d tensor specs", len(bufs), len(specs))
	}
	cw.u32(uint32(len(bufs)))
	for i, b := range bufs {
		cw.tensor(b, specs[i].shape)
	}
	if cw.err == nil {
		cw.err = bw.Flush()
	}
	if cw.err == nil {
		_, cw.err = w.Write(h.Sum(nil))
	}
	if cw.err != nil {
		return fmt.Errorf("saving checkpoint: %w", cw.err)
	}
	return nil
}

// ckptWriter writes little-endian fields and remembers the first error.
type ckptWriter struct {
	w   io.Writer
	err error
	buf [8]byte
}

func (c *ckptWriter) raw(b []byte) {
	if c.err == nil {
		_, c.err = c.w.Write(b)
	}
}
func (c *ckptWriter) u32(v uint32) { binary.LittleEndian.PutUint32(c.buf[:4], v); c.raw(c.buf[:4]) }
func (c *ckptWriter) u64(v uint64) { binary.LittleEndian.PutUint64(c.buf[:8], v); c.raw(c.buf[:8]) }

func (c *ckptWriter) tensor(b namedBuf, shape []int) {
	binary.LittleEndian.PutUint16(c.buf[:2], uint16(len(b.name)))
	c.raw(c.buf[:2])
	c.raw([]byte(b.name))
	c.raw([]byte{byte(len(shape))})
	for _, d := range shape {
		c.u32(uint32(d))
	}
	c.u64(uint64(len(b.data)))
	chunk := make([]byte, 0, 1<<16)
	for i, v := range b.data {
		chunk = binary.LittleEndian.AppendUint32(chunk, math.Float32bits(v))
		if len(chunk) == cap(chunk) || i == len(b.data)-1 {
			c.raw(chunk)
			chunk = chunk[:0]
		}
	}
}
