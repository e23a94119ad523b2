package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// trainSteps runs k steps over consecutive 16-image batches of the toy data, calling EndEpoch
// every 4 steps.
func trainSteps(t *testing.T, tr *Trainer, from, k int) {
	t.Helper()
	pix, labels := toyData(tr.cfg.Input, 16*(from+k), 5)
	ib := tr.imageBytes()
	for s := from; s < from+k; s++ {
		if _, err := tr.Step(pix[s*16*ib:(s+1)*16*ib], labels[s*16:(s+1)*16]); err != nil {
			t.Fatal(err)
		}
		if (s+1)%4 == 0 {
			loss, _, err := tr.Evaluate(pix[:16*ib], labels[:16])
			if err != nil {
				t.Fatal(err)
			}
			tr.EndEpoch(loss)
		}
	}
}

func saveBytes(t *testing.T, tr *Trainer) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := tr.Save(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func plateauCNN() Config {
	c := smallCNN()
	c.Scheduler = SchedulerConfig{Name: "reduce_on_plateau", Factor: 0.5, Patience: ip(0)}
	return c
}

// TestDeterminism: same seed and batches give bit-identical checkpoints; another seed does not.
func TestDeterminism(t *testing.T) {
	for _, cfg := range []Config{smallMLP(), plateauCNN()} {
		a, b := mustNew(t, cfg), mustNew(t, cfg)
		trainSteps(t, a, 0, 6)
		trainSteps(t, b, 0, 6)
		if !bytes.Equal(saveBytes(t, a), saveBytes(t, b)) {
			t.Errorf("%s: two runs with the same seed differ", cfg.Arch)
		}
		cfg.Seed = 2
		c := mustNew(t, cfg)
		trainSteps(t, c, 0, 6)
		if bytes.Equal(saveBytes(t, a), saveBytes(t, c)) {
			t.Errorf("%s: runs with different seeds are identical", cfg.Arch)
		}
	}
}

// TestResumeEqualsUninterrupted: save after k steps, reload in a new trainer, continue, and
// compare with a run that never stopped, bit for bit (weights, optimiser, scheduler, RNG).
func TestResumeEqualsUninterrupted(t *testing.T) {
	for _, cfg := range []Config{smallMLP(), plateauCNN()} {
		full := mustNew(t, cfg)
		trainSteps(t, full, 0, 10)

		first := mustNew(t, cfg)
		trainSteps(t, first, 0, 6)
		if err := first.SetMeta(json.RawMessage(`{"epoch_metrics":[0.5]}`)); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "ckpt.bin")
		if err := first.SaveFile(path); err != nil {
			t.Fatal(err)
		}
		resumed, err := LoadTrainerFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(resumed.Meta()) != `{"epoch_metrics":[0.5]}` || resumed.Epoch() != 1 || resumed.Steps() != 6 {
			t.Fatalf("restored meta %s, epoch %d, steps %d", resumed.Meta(), resumed.Epoch(), resumed.Steps())
		}
		// the round trip itself is exact
		if !bytes.Equal(saveBytes(t, first), saveBytes(t, resumed)) {
			t.Fatalf("%s: save → load → save is not bit-identical", cfg.Arch)
		}
		if err := resumed.SetMeta(nil); err != nil {
			t.Fatal(err)
		}
		trainSteps(t, resumed, 6, 4)
		if !bytes.Equal(saveBytes(t, full), saveBytes(t, resumed)) {
			t.Errorf("%s: resumed run differs from the uninterrupted one", cfg.Arch)
		}
		// Load into a trainer built from the same config works too.
		other := mustNew(t, cfg)
		if err := other.LoadFile(path); err != nil {
			t.Fatal(err)
		}
		trainSteps(t, other, 6, 4)
		other.SetMeta(nil)
		if !bytes.Equal(saveBytes(t, full), saveBytes(t, other)) {
			t.Errorf("%s: Load into a fresh trainer then continuing differs", cfg.Arch)
		}
	}
}

// tensorHeader returns the offset of the rank byte of the named tensor in a checkpoint.
func tensorHeader(t *testing.T, file []byte, name string) int {
	t.Helper()
	i := bytes.Index(file, []byte(name))
	if i < 0 {
		t.Fatalf("tensor %s not found", name)
	}
	return i + len(name)
}

// TestLoadRejectsBadFiles: every malformed file fails with ErrCheckpoint and leaves the trainer
// unchanged.
func TestLoadRejectsBadFiles(t *testing.T) {
	tr := mustNew(t, smallMLP())
	trainSteps(t, tr, 0, 2)
	good := saveBytes(t, tr)
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	rank := tensorHeader(t, good, "param/fc1.weight")
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "magic"},
		{"bad magic", mod(func(b []byte) []byte { b[0] = 'X'; return b }), "bad magic"},
		{"future version", mod(func(b []byte) []byte { b[8] = 9; return b }), "version 9"},
		{"huge config", mod(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[12:], 1<<31); return b }), "config claims"},
		{"absurd element count", mod(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[rank+1+8:], 1e12)
			return b
		}), "claims 1000000000000 elements"},
		{"wrong shape", mod(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[rank+1:], 7); return b }), "shape"},
		{"wrong rank", mod(func(b []byte) []byte { b[rank] = 3; return b }), "rank 3"},
		{"flipped data bit", mod(func(b []byte) []byte { b[len(b)-100] ^= 1; return b }), "checksum"},
		{"trailing bytes", append(append([]byte(nil), good...), 0), "after the checksum"},
		{"truncated in data", good[:len(good)/2], "truncated"},
		{"truncated checksum", good[:len(good)-5], "truncated"},
	}
	before := saveBytes(t, tr)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tr.Load(bytes.NewReader(tc.file))
			if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrCheckpoint mentioning %q", err, tc.want)
			}
			if _, err := LoadTrainer(bytes.NewReader(tc.file)); !errors.Is(err, ErrCheckpoint) {
				t.Errorf("LoadTrainer error %v, want ErrCheckpoint", err)
			}
		})
	}
	// every truncation point fails
	for n := 0; n < len(good); n += 97 {
		if err := tr.Load(bytes.NewReader(good[:n])); !errors.Is(err, ErrCheckpoint) {
			t.Fatalf("truncated to %d bytes: %v", n, err)
		}
	}
	if !bytes.Equal(before, saveBytes(t, tr)) {
		t.Error("a failed Load changed the trainer")
	}
	// a different architecture is refused
	other := smallMLP()
	other.HiddenUnits = []int{8}
	if err := mustNew(t, other).Load(bytes.NewReader(good)); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "shape") {
		t.Errorf("loading into a narrower MLP: %v", err)
	}
	if err := mustNew(t, smallCNN()).Load(bytes.NewReader(good)); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("loading an MLP into a CNN: %v", err)
	}
}

// TestCraftedHeaderAllocatesLittle: a file whose config and tensor header claim ~900 MB of
// weights but hold none must fail without allocating anywhere near that.
func TestCraftedHeaderAllocatesLittle(t *testing.T) {
	cfg := Config{Arch: ArchMLP, HiddenUnits: []int{8192}}.Defaults()
	cfgJSON, _ := json.Marshal(cfg)
	var b bytes.Buffer
	w := &ckptWriter{w: &b}
	w.raw([]byte(ckptMagic))
	w.u32(ckptVersion)
	for _, blob := range [][]byte{cfgJSON, nil, []byte(`{"base_lr":0.001,"lr":0.001,"epoch":0,"bad_epochs":0,"cooldown_left":0}`), []byte("pcg:0123456789abcdef")} {
		w.u32(uint32(len(blob)))
		w.raw(blob)
	}
	for range 3 {
		w.u64(0)
	}
	w.u64(0x3F50624DD2F1A9FC) // 0.001
	w.u32(uint32(len(checkpointTensors(cfg))))
	w.tensor(namedBuf{name: "param/fc1.weight"}, []int{27648, 8192})
	file := b.Bytes()
	// tensor() wrote count 0 for the empty buffer: claim the full size instead
	binary.LittleEndian.PutUint64(file[len(file)-8:], 27648*8192)

	// as a stream, and as a file (whose loader reads in place when the file is large enough)
	path := filepath.Join(t.TempDir(), "crafted.ckpt")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, load := range []func() error{
		func() error { _, err := LoadTrainer(bytes.NewReader(file)); return err },
		func() error { _, err := LoadTrainerFile(path); return err },
	} {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		err := load()
		runtime.ReadMemStats(&m1)
		if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "truncated") {
			t.Fatalf("error %v, want a truncation error", err)
		}
		if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 16<<20 {
			t.Errorf("rejecting the crafted file allocated %d bytes", alloc)
		}
	}
}

// TestDeterminismAcrossThreadCounts: the kernels split work into fixed blocks, so the number of
// kernel threads does not change a single bit.
func TestDeterminismAcrossThreadCounts(t *testing.T) {
	old := numWorkers()
	defer SetThreads(old)
	// 32×32 inputs, so that products and convolutions really are split into several blocks
	mlp, cnn, fused := smallMLP(), plateauCNN(), fusedCNN()
	mlp.Input, cnn.Input = Input{Height: 32, Width: 32, Channels: 3}, Input{Height: 32, Width: 32, Channels: 3}
	fused.Input = cnn.Input
	for _, cfg := range []Config{mlp, cnn, fused} {
		if g := (convGeom{n: 16, h: 32, w: 32}); cfg.Arch == ArchCNN && g.rowChunks() < 2 {
			t.Fatalf("test geometry gives %d conv chunks per image", g.rowChunks())
		}
		var files [][]byte
		for _, n := range []int{1, 3} {
			SetThreads(n)
			tr := mustNew(t, cfg)
			trainSteps(t, tr, 0, 5)
			files = append(files, saveBytes(t, tr))
		}
		if !bytes.Equal(files[0], files[1]) {
			t.Errorf("%s: 1 and 3 threads give different checkpoints", cfg.Arch)
		}
	}
}

// TestLoadTrainerFileReadsInPlace: a checkpoint file loads (straight into the new trainer) to the
// same state as the stream loader, and a flipped byte in its tensor data fails the checksum.
func TestLoadTrainerFileReadsInPlace(t *testing.T) {
	for _, cfg := range []Config{smallMLP(), plateauCNN()} {
		tr := mustNew(t, cfg)
		trainSteps(t, tr, 0, 3)
		want := saveBytes(t, tr)
		path := filepath.Join(t.TempDir(), "m.ckpt")
		if err := tr.SaveFile(path); err != nil {
			t.Fatal(err)
		}
		fromFile, err := LoadTrainerFile(path)
		if err != nil {
			t.Fatal(err)
		}
		fromStream, err := LoadTrainer(bytes.NewReader(want))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(saveBytes(t, fromFile), want) || !bytes.Equal(saveBytes(t, fromStream), want) {
			t.Errorf("%s: a loaded checkpoint saves differently", cfg.Arch)
		}
		bad := append([]byte(nil), want...)
		bad[len(bad)-33] ^= 1 // the last byte of the last tensor's data, just before the checksum
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadTrainerFile(path); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "checksum") {
			t.Errorf("%s: a corrupted file gave %v, want a checksum error", cfg.Arch, err)
		}
	}
}

// TestCheckpointAtTheEndOfACosineScheduleLoads: cosine annealing with eta_min 0 reaches a learning
// rate of 0 at epoch t_max; the checkpoint of that epoch must load (a run to a budget continues
// from it), and a negative rate must still be refused.
func TestCheckpointAtTheEndOfACosineScheduleLoads(t *testing.T) {
	cfg := smallMLP()
	cfg.Scheduler = SchedulerConfig{Name: "cosine", TMax: 1}
	tr := mustNew(t, cfg)
	trainSteps(t, tr, 0, 4) // one epoch: the rate is now 0
	if tr.LearningRate() != 0 {
		t.Fatalf("learning rate %v after t_max epochs, want 0", tr.LearningRate())
	}
	path := filepath.Join(t.TempDir(), "ckpt.bin")
	if err := tr.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadTrainerFile(path)
	if err != nil {
		t.Fatalf("loading the checkpoint at the end of the cosine schedule: %v", err)
	}
	if !bytes.Equal(saveBytes(t, tr), saveBytes(t, back)) {
		t.Fatal("save → load → save is not bit-identical")
	}
	if err := NewScheduler(cfg.Scheduler, 1e-3).SetState(SchedulerState{BaseLR: 1e-3, LR: -1e-3}); err == nil {
		t.Fatal("a negative learning rate was accepted")
	}
}
