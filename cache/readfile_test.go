package cache

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
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

// TestStoreFilesAreNotFollowed checks the readers of the store's own files against what is not
// one of them: a symbolic link (to an endless device or to a real file) is not followed, a FIFO
// does not block, and a missing file is fs.ErrNotExist.
func TestStoreFilesAreNotFollowed(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{"to-zero": "/dev/zero", "to-file": target}
	for name, to := range links {
		if err := os.Symlink(to, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	readers := map[string]func(string) ([]byte, error){"readSmallFile": readSmallFile, "readStoreFile": readStoreFile}
	for rname, read := range readers {
		for _, name := range []string{"to-zero", "to-file", "fifo"} {
			done := make(chan error, 1)
			go func() { _, err := read(filepath.Join(dir, name)); done <- err }()
			select {
			case err := <-done:
				// readSmallFile reads a FIFO without writers as empty (its callers reject empty
				// refs and records); everything else is an error.
				if err == nil && !(rname == "readSmallFile" && name == "fifo") {
					t.Errorf("%s(%s): no error", rname, name)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s(%s) did not return", rname, name)
			}
		}
		if _, err := read(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s(missing) = %v, want fs.ErrNotExist", rname, err)
		}
		if got, err := read(target); err != nil || len(got) != 65 {
			t.Errorf("%s(regular file) = %d bytes, %v", rname, len(got), err)
		}
	}
}

// TestStoreWithHostileFiles opens a store whose stat cache and ref index are symbolic links to an
// endless device: they are ignored (Open works, LastComponents answers from the files).
func TestStoreWithHostileFiles(t *testing.T) {
	s := refIndexFixture(t)
	for _, f := range []string{statFileName, refIndexFile} {
		p := filepath.Join(s.root, f)
		os.Remove(p)
		if err := os.Symlink("/dev/zero", p); err != nil {
			t.Fatal(err)
		}
	}
	s2, err := Open(s.root)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.stats.len() != 0 {
		t.Error("a stat cache read through a symbolic link")
	}
	checkLastComponents(t, s2, "index replaced by a link to /dev/zero")
}
