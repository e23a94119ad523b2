package pcam

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

// collect streams all batches and returns the visited indices and batch sizes.
func collect(t *testing.T, r Reader, opt BatchOptions, pix []byte) ([]int, []int) {
	t.Helper()
	s, err := StreamBatches(context.Background(), r, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var seen, sizes []int
	for {
		b, ok, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return seen, sizes
		}
		for k, idx := range b.Indices {
			if string(b.Pix[k*PatchBytes:(k+1)*PatchBytes]) != string(pix[idx*PatchBytes:(idx+1)*PatchBytes]) {
				t.Fatalf("batch %d position %d: wrong pixels for index %d", b.Number, k, idx)
			}
		}
		seen = append(seen, b.Indices...)
		sizes = append(sizes, len(b.Indices))
	}
}

func TestStreamBatches(t *testing.T) {
	const n = 50
	pix, labels := testPatches(n, 9)
	dir := t.TempDir()
	writeTestSplit(t, dir, Train, pix, labels, WriteOptions{Deflate: 1})
	r, err := OpenH5(dir, Train)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	seq, sizes := collect(t, r, BatchOptions{Size: 16}, pix)
	if !slices.IsSorted(seq) || len(seq) != n || !slices.Equal(sizes, []int{16, 16, 16, 2}) {
		t.Fatalf("sequential: order %v sizes %v", seq, sizes)
	}
	a, _ := collect(t, r, BatchOptions{Size: 7, Shuffle: true, Seed: 3, Prefetch: 1}, pix)
	b, _ := collect(t, r, BatchOptions{Size: 7, Shuffle: true, Seed: 3, Prefetch: 4}, pix)
	c, _ := collect(t, r, BatchOptions{Size: 7, Shuffle: true, Seed: 4}, pix)
	if !slices.Equal(a, b) || slices.Equal(a, c) || slices.IsSorted(a) {
		t.Fatal("shuffled order must depend on the seed only")
	}
	sorted := slices.Sorted(slices.Values(a))
	if !slices.Equal(sorted, seq) {
		t.Fatal("a shuffled epoch must visit every index exactly once")
	}
	sub, sizes := collect(t, r, BatchOptions{Size: 4, Indices: []int{49, 3, 3, 10, 20}, DropLast: true}, pix)
	if !slices.Equal(sub, []int{49, 3, 3, 10}) || len(sizes) != 1 {
		t.Fatalf("subset with DropLast: %v %v", sub, sizes)
	}
	if _, err := StreamBatches(context.Background(), r, BatchOptions{Size: 4, Indices: []int{50}}); err == nil {
		t.Fatal("out-of-range index accepted")
	}
	if _, err := StreamBatches(context.Background(), r, BatchOptions{}); err == nil {
		t.Fatal("zero batch size accepted")
	}
}

func TestStreamBatchesCancel(t *testing.T) {
	pix, labels := testPatches(40, 2)
	dir := t.TempDir()
	writeTestSplit(t, dir, Train, pix, labels, WriteOptions{})
	r, err := OpenH5(dir, Train)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := StreamBatches(ctx, r, BatchOptions{Size: 2, Prefetch: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	cancel()
	for i := 0; i < 30; i++ {
		if _, _, err = s.Next(); err != nil {
			break
		}
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("after cancel Next returned %v, want context.Canceled", err)
	}
	s.Close()
}

// eofReader is a Reader whose patch at bad fails with an error that wraps io.EOF, as a decoder's
// error for a corrupt file does (x/image/tiff returns io.EOF for an IFD that runs past the end).
type eofReader struct{ n, bad int }

func (r eofReader) Len() int       { return r.n }
func (r eofReader) Source() string { return "mem:eof" }
func (r eofReader) Close() error   { return nil }
func (r eofReader) Read(indices []int, pix []byte, labels []uint8) error {
	for _, i := range indices {
		if i == r.bad {
			return fmt.Errorf("mem:eof/%d.tif: decoding patch %d: %w", i, i, io.EOF)
		}
	}
	return nil
}

// TestStreamReadErrorIsNotTheEnd: a read error that wraps io.EOF must reach the caller as an error,
// every time it asks, and never look like the end of the stream (it used to: an epoch or a validation
// pass ended silently at the first corrupt patch).
func TestStreamReadErrorIsNotTheEnd(t *testing.T) {
	s, err := StreamBatches(context.Background(), eofReader{n: 600, bad: 400}, BatchOptions{Size: 256})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	batches := 0
	for {
		_, ok, err := s.Next()
		if err != nil {
			if !strings.Contains(err.Error(), "mem:eof/400.tif") {
				t.Errorf("error %q does not name the file", err)
			}
			break
		}
		if !ok {
			t.Fatalf("the stream ended after %d batches without reporting the corrupt patch", batches)
		}
		batches++
	}
	if batches != 1 {
		t.Errorf("%d batches before the error, want 1", batches)
	}
	for range 3 {
		if _, ok, err := s.Next(); err == nil || ok {
			t.Fatalf("Next after the error returned ok=%v err=%v, want the error again", ok, err)
		}
	}
}
