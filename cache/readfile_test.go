package cache

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestReadSmallFile checks readSmallFile against os.ReadFile: contents of several sizes around
// its first buffer, a missing file and a folder.
func TestReadSmallFile(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 2047, 2048, 2049, 100_000} {
		p := filepath.Join(dir, "f")
		want := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
		if err := os.WriteFile(p, want, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := readSmallFile(p)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("size %d: got %d bytes, %v; want %d bytes", n, len(got), err, n)
		}
	}
	missing := filepath.Join(dir, "missing")
	_, err := readSmallFile(missing)
	_, werr := os.ReadFile(missing)
	if !errors.Is(err, fs.ErrNotExist) || err.Error() != werr.Error() {
		t.Errorf("missing file: %v; want %v", err, werr)
	}
	if _, err := readSmallFile(dir); err == nil {
		t.Error("reading a folder: no error")
	}
}
