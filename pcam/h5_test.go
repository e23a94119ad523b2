package pcam

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// testPatches returns n deterministic pseudo-random patches and alternating labels.
func testPatches(n int, seed uint64) ([]byte, []uint8) {
	rng := rand.New(rand.NewPCG(seed, 1))
	pix := make([]byte, n*PatchBytes)
	for i := range pix {
		pix[i] = byte(rng.Uint32())
	}
	// Make part of each patch compressible so that deflate has something to do.
	for p := 0; p < n; p++ {
		clear(pix[p*PatchBytes : p*PatchBytes+PatchBytes/2])
	}
	labels := make([]uint8, n)
	for i := range labels {
		labels[i] = uint8(i % 2)
	}
	return pix, labels
}

// writeTestSplit writes the patches as split in dir, in writes of uneven sizes.
func writeTestSplit(t *testing.T, dir string, split Split, pix []byte, labels []uint8, opt WriteOptions) {
	t.Helper()
	w, err := CreateSplit(dir, split, len(labels), opt)
	if err != nil {
		t.Fatal(err)
	}
	for start, step := 0, 1; start < len(labels); start, step = start+step, step+2 {
		end := min(start+step, len(labels))
		if err := w.Write(pix[start*PatchBytes:end*PatchBytes], labels[start:end]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestH5RoundTripLayouts(t *testing.T) {
	const n = 23
	pix, labels := testPatches(n, 7)
	cases := []struct {
		name   string
		opt    WriteOptions
		layout string
	}{
		{"contiguous", WriteOptions{Contiguous: true}, "contiguous"},
		{"chunk1", WriteOptions{}, "chunked (1,96,96,3)"},
		{"chunk1-deflate", WriteOptions{Deflate: 4}, "chunked (1,96,96,3) deflate"},
		{"chunk5", WriteOptions{ChunkRows: 5}, "chunked (5,96,96,3)"},
		{"chunk7-deflate", WriteOptions{ChunkRows: 7, Deflate: 1}, "chunked (7,96,96,3) deflate"},
		{"chunk64-deflate", WriteOptions{ChunkRows: 64, Deflate: 1}, "chunked (23,96,96,3) deflate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTestSplit(t, dir, Valid, pix, labels, c.opt)
			r, err := OpenH5(dir, Valid)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if r.Len() != n || r.Layout() != c.layout {
				t.Fatalf("Len %d layout %q, want %d %q", r.Len(), r.Layout(), n, c.layout)
			}
			checkRead(t, r, []int{22, 0, 5, 5, 6, 7, 21, 3, 14, 13}, pix, labels)
			all := make([]int, n)
			for i := range all {
				all[i] = i
			}
			checkRead(t, r, all, pix, labels)
			// The generic H5Dread path must agree with the layout-specific fast paths.
			r.chunks.ok, r.raw = false, nil
			checkRead(t, r, []int{22, 0, 5, 5, 6, 7, 21, 3, 14, 13}, pix, labels)
			leftovers, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
			if len(leftovers) != 0 {
				t.Fatalf("temporary files left behind: %v", leftovers)
			}
		})
	}
}

// checkRead reads indices from r and compares with the expected patches and labels.
func checkRead(t *testing.T, r Reader, indices []int, pix []byte, labels []uint8) {
	t.Helper()
	got := make([]byte, len(indices)*PatchBytes)
	gotLab := make([]uint8, len(indices))
	if err := r.Read(indices, got, gotLab); err != nil {
		t.Fatal(err)
	}
	for i, idx := range indices {
		if !bytes.Equal(got[i*PatchBytes:(i+1)*PatchBytes], pix[idx*PatchBytes:(idx+1)*PatchBytes]) {
			t.Fatalf("patch at position %d (index %d) differs", i, idx)
		}
		if gotLab[i] != labels[idx] {
			t.Fatalf("label at position %d (index %d) is %d, want %d", i, idx, gotLab[i], labels[idx])
		}
	}
}

func TestH5WriterDeterministic(t *testing.T) {
	pix, labels := testPatches(9, 3)
	var sums [2][]byte
	for k := range sums {
		dir := t.TempDir()
		writeTestSplit(t, dir, Train, pix, labels, WriteOptions{Deflate: 1})
		p := SplitFiles(dir, Train)
		x, _ := os.ReadFile(p.X)
		y, _ := os.ReadFile(p.Y)
		sums[k] = append(x, y...)
	}
	if !bytes.Equal(sums[0], sums[1]) {
		t.Fatal("two writes of the same data gave different file bytes")
	}
}

func TestSplitWriterCountMismatch(t *testing.T) {
	dir := t.TempDir()
	pix, labels := testPatches(3, 1)
	w, err := CreateSplit(dir, Test, 4, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(pix, labels); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err == nil {
		t.Fatal("Close after 3 of 4 patches succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("aborted write left files: %v", entries)
	}
}

// sha256Hex returns the hex SHA-256 of b.
func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
