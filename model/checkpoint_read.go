package model

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"math/rand/v2"
)

// ckptReader reads fields through a hash, naming the field on a short read.
type ckptReader struct {
	r   io.Reader
	h   hash.Hash
	buf [8]byte
	// into, when set, holds the buffers the tensors are read into (a new trainer's); otherwise
	// tensors are staged in buffers that grow as data arrives.
	into [][]float32
}

func newCkptReader(r io.Reader) *ckptReader {
	h := sha256.New()
	return &ckptReader{r: io.TeeReader(bufio.NewReaderSize(r, 1<<16), h), h: h}
}

func (c *ckptReader) full(b []byte, what string) error {
	if _, err := io.ReadFull(c.r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return ckptErr("file ends inside %s (truncated?)", what)
		}
		return fmt.Errorf("reading checkpoint %s: %w", what, err)
	}
	return nil
}

func (c *ckptReader) u32(what string) (uint32, error) {
	err := c.full(c.buf[:4], what)
	return binary.LittleEndian.Uint32(c.buf[:4]), err
}

func (c *ckptReader) u64(what string) (uint64, error) {
	err := c.full(c.buf[:8], what)
	return binary.LittleEndian.Uint64(c.buf[:8]), err
}

// blob reads a u32 length then that many bytes, refusing lengths above limit before allocating.
func (c *ckptReader) blob(what string, limit int) ([]byte, error) {
	n, err := c.u32(what + " length")
	if err != nil {
		return nil, err
	}
	if int64(n) > int64(limit) {
		return nil, ckptErr("%s claims %d bytes, more than the limit of %d", what, n, limit)
	}
	b := make([]byte, n)
	return b, c.full(b, what)
}

// readHeader checks magic and version and returns the config JSON.
func (c *ckptReader) readHeader() ([]byte, error) {
	var m [len(ckptMagic)]byte
	if err := c.full(m[:], "magic header"); err != nil {
		return nil, err
	}
	if string(m[:]) != ckptMagic {
		return nil, ckptErr("not a pcamflow checkpoint (bad magic header %q)", m[:])
	}
	v, err := c.u32("version")
	if err != nil {
		return nil, err
	}
	if v != ckptVersion {
		return nil, ckptErr("format version %d is not supported (this build reads version %d)", v, ckptVersion)
	}
	return c.blob("config", maxConfigBytes)
}

// LoadTrainer builds a trainer from the configuration stored in a checkpoint and restores its
// state; it is how a saved model is opened for inference or to resume training. Nothing is
// allocated for the model until the whole file has been validated, and tensor data is buffered
// as it arrives, so memory use is bounded by the actual file size even for a crafted header.
func LoadTrainer(r io.Reader) (*Trainer, error) { return loadTrainer(r, -1) }

// loadTrainer is LoadTrainer for a stream of size bytes (-1: unknown). When the tensors the
// header declares fit in size, it allocates the trainer first and reads them in place: the file
// is as large as the model, so a crafted header cannot make it allocate more than the file holds.
// A failure discards the trainer.
func loadTrainer(r io.Reader, size int64) (*Trainer, error) {
	c := newCkptReader(r)
	cfg, err := c.readConfig()
	if err != nil {
		return nil, err
	}
	specs := checkpointTensors(cfg)
	var t *Trainer
	if size >= 0 && size >= tensorBytes(specs) {
		if t, err = newTrainer(cfg, false); err != nil {
			return nil, ckptErr("stored config is invalid: %v", err)
		}
		for _, b := range t.tensors() {
			c.into = append(c.into, b.data)
		}
	}
	st, err := c.readBody(specs)
	if err != nil {
		return nil, err
	}
	if t == nil {
		if t, err = newTrainer(cfg, false); err != nil {
			return nil, ckptErr("stored config is invalid: %v", err)
		}
	}
	if err := t.commit(st); err != nil {
		return nil, err
	}
	return t, nil
}

// tensorBytes is the number of bytes of tensor data that specs describe.
func tensorBytes(specs []tensorSpec) int64 {
	var n int64
	for _, s := range specs {
		k := int64(4)
		for _, d := range s.shape {
			k *= int64(d)
		}
		n += k
	}
	return n
}

// Load restores the state saved by Save into t. The checkpoint must describe the same network
// (same parameter names and shapes, same optimiser buffers); otherwise, or when the file is
// truncated, corrupted or crafted, Load returns an error wrapping ErrCheckpoint and t is unchanged.
// The stored config's other fields (learning rate, scheduler parameters) do not replace t's.
func (t *Trainer) Load(r io.Reader) error {
	c := newCkptReader(r)
	cfg, err := c.readConfig()
	if err != nil {
		return err
	}
	if cfg.Arch != t.cfg.Arch {
		return ckptErr("checkpoint holds a %q network, this trainer is %q", cfg.Arch, t.cfg.Arch)
	}
	st, err := c.readBody(checkpointTensors(t.cfg))
	if err != nil {
		return err
	}
	return t.commit(st)
}

// readConfig reads the header and the stored config, resolved and validated.
func (c *ckptReader) readConfig() (Config, error) {
	var cfg Config
	raw, err := c.readHeader()
	if err != nil {
		return cfg, err
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return cfg, ckptErr("config is not valid JSON: %v", err)
	}
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return cfg, ckptErr("stored config is invalid: %v", err)
	}
	return cfg, nil
}

// stagedState is a fully read and checksummed checkpoint body, not yet applied to a trainer.
type stagedState struct {
	meta, sched, rng []byte
	epoch            int
	steps, optT      int64
	lr               float64
	tensors          [][]float32
}

// readBody reads everything after the config, checks every tensor against specs, and verifies
// the checksum and the end of the file.
func (c *ckptReader) readBody(specs []tensorSpec) (*stagedState, error) {
	st := &stagedState{}
	var err error
	if st.meta, err = c.blob("metadata", maxMetaBytes); err != nil {
		return nil, err
	}
	if len(st.meta) > 0 && !json.Valid(st.meta) {
		return nil, ckptErr("metadata is not valid JSON")
	}
	if st.sched, err = c.blob("scheduler state", maxSchedBytes); err != nil {
		return nil, err
	}
	if st.rng, err = c.blob("RNG state", maxRNGBytes); err != nil {
		return nil, err
	}
	var cnt [4]uint64
	for i, what := range []string{"epoch", "step count", "optimiser step", "learning rate"} {
		if cnt[i], err = c.u64(what); err != nil {
			return nil, err
		}
	}
	if cnt[0] > math.MaxInt32 || cnt[1] > math.MaxInt64/2 || cnt[2] > math.MaxInt64/2 {
		return nil, ckptErr("implausible counters (epoch %d, steps %d, optimiser step %d)", cnt[0], cnt[1], cnt[2])
	}
	st.epoch, st.steps, st.optT, st.lr = int(cnt[0]), int64(cnt[1]), int64(cnt[2]), math.Float64frombits(cnt[3])
	if !(st.lr >= 0) || math.IsInf(st.lr, 0) { // 0 is the end of a cosine schedule with eta_min 0
		return nil, ckptErr("learning rate %v is negative or not finite", st.lr)
	}
	if st.tensors, err = c.readTensors(specs); err != nil {
		return nil, err
	}
	want := c.h.Sum(nil)
	var got [sha256.Size]byte
	if err := c.full(got[:], "checksum"); err != nil {
		return nil, err
	}
	if !bytes.Equal(want, got[:]) {
		return nil, ckptErr("checksum mismatch: the file is corrupted")
	}
	if n, _ := c.r.Read(got[:1]); n != 0 {
		return nil, ckptErr("unexpected bytes after the checksum")
	}
	return st, nil
}

// commit applies a staged checkpoint to t, after decoding the RNG and scheduler states.
func (t *Trainer) commit(st *stagedState) error {
	var src rand.PCG
	if err := src.UnmarshalBinary(st.rng); err != nil {
		return ckptErr("RNG state: %v", err)
	}
	sched := NewScheduler(t.cfg.Scheduler, t.cfg.Optimizer.LearningRate)
	if err := sched.unmarshal(st.sched); err != nil {
		return ckptErr("%v", err)
	}
	bufs := t.tensors()
	if len(bufs) != len(st.tensors) {
		return ckptErr("%d tensors read, this network has %d", len(st.tensors), len(bufs))
	}
	for i, b := range bufs {
		if len(b.data) != len(st.tensors[i]) {
			return ckptErr("tensor %s has %d values, expected %d", b.name, len(st.tensors[i]), len(b.data))
		}
	}
	for i, b := range bufs {
		if len(b.data) > 0 && &b.data[0] != &st.tensors[i][0] { // not read in place
			copy(b.data, st.tensors[i])
		}
	}
	*t.src = src
	t.sched = sched
	t.meta = st.meta
	t.epoch, t.steps, t.opt.t, t.lr = st.epoch, st.steps, st.optT, st.lr
	return nil
}

// readTensors reads every tensor, checking its name and shape against specs first.
func (c *ckptReader) readTensors(specs []tensorSpec) ([][]float32, error) {
	n, err := c.u32("tensor count")
	if err != nil {
		return nil, err
	}
	if int64(n) != int64(len(specs)) {
		return nil, ckptErr("%d tensors stored, this network has %d", n, len(specs))
	}
	out := make([][]float32, len(specs))
	var b2 [2]byte
	for i, want := range specs {
		if err := c.full(b2[:], fmt.Sprintf("name length of tensor %d", i)); err != nil {
			return nil, err
		}
		nl := int(binary.LittleEndian.Uint16(b2[:]))
		if nl > maxNameBytes {
			return nil, ckptErr("tensor %d name of %d bytes is too long", i, nl)
		}
		name := make([]byte, nl)
		if err := c.full(name, fmt.Sprintf("name of tensor %d", i)); err != nil {
			return nil, err
		}
		if string(name) != want.name {
			return nil, ckptErr("tensor %d is %q, expected %q (different architecture?)", i, name, want.name)
		}
		size, err := c.checkShape(want.name, want.shape)
		if err != nil {
			return nil, err
		}
		if c.into != nil {
			if len(c.into[i]) != size {
				return nil, ckptErr("tensor %s has %d values, the network %d", want.name, size, len(c.into[i]))
			}
			out[i] = c.into[i]
			err = c.floatsInto(out[i], want.name)
		} else {
			out[i], err = c.floats(size, want.name)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkShape reads rank, dimensions and element count and compares them with the expected shape.
func (c *ckptReader) checkShape(name string, shape []int) (int, error) {
	var rb [1]byte
	if err := c.full(rb[:], "rank of "+name); err != nil {
		return 0, err
	}
	if int(rb[0]) != len(shape) {
		return 0, ckptErr("tensor %s has rank %d, expected %d", name, rb[0], len(shape))
	}
	got := make([]uint64, len(shape))
	size := uint64(1)
	for i := range shape {
		d, err := c.u32("shape of " + name)
		if err != nil {
			return 0, err
		}
		got[i] = uint64(d)
	}
	for i, d := range shape {
		if got[i] != uint64(d) {
			return 0, ckptErr("tensor %s has shape %v, expected %v", name, got, shape)
		}
		size *= uint64(d)
	}
	cnt, err := c.u64("element count of " + name)
	if err != nil {
		return 0, err
	}
	if cnt != size {
		return 0, ckptErr("tensor %s claims %d elements, its shape %v holds %d", name, cnt, shape, size)
	}
	return int(size), nil
}

// floatsInto reads len(dst) little-endian float32 values into dst, 64 KiB at a time.
func (c *ckptReader) floatsInto(dst []float32, name string) error {
	buf := make([]byte, 1<<16)
	for i := 0; i < len(dst); {
		k := min(len(buf)/4, len(dst)-i)
		if err := c.full(buf[:4*k], "data of "+name); err != nil {
			return err
		}
		out := dst[i : i+k]
		for j := range out {
			out[j] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*j:]))
		}
		i += k
	}
	return nil
}

// floats reads n little-endian float32 values. The result grows as data arrives (64 KiB at a
// time), so a header that claims more data than the file holds costs no more than the file size.
func (c *ckptReader) floats(n int, name string) ([]float32, error) {
	buf := make([]byte, 1<<16)
	var dst []float32
	for len(dst) < n {
		k := min(len(buf)/4, n-len(dst))
		if err := c.full(buf[:4*k], "data of "+name); err != nil {
			return nil, err
		}
		for j := 0; j < k; j++ {
			dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(buf[4*j:])))
		}
	}
	return dst, nil
}
