// Package atomicfile writes files so that readers see either the old content or the new content
// whole, never a partial file: data goes to a temporary file in the same folder, is fsynced, renamed
// over the destination, and the folder is fsynced so that the rename survives a crash. It is the
// one atomic-write helper of pcamflow: packages that must write a file atomically use Write (bytes
// in memory) or WriteFunc (streamed).
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Write replaces path with data (mode perm, or the existing file's mode when it exists), creating
// the parent folder when needed.
func Write(path string, data []byte, perm os.FileMode) error {
	return WriteFunc(path, perm, func(w *bufio.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteExisting is Write into a folder that must exist already: it fails (with an error wrapping
// fs.ErrNotExist) rather than create it, for writers whose missing folder means a mistake.
func WriteExisting(path string, data []byte, perm os.FileMode) error {
	return writeFunc(path, perm, false, func(w *bufio.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFunc replaces path with what write produces (through a 1 MiB buffer), with mode perm or the
// existing file's mode, creating the parent folder when needed. When write or any step fails, the
// temporary file is removed and path is untouched.
func WriteFunc(path string, perm os.FileMode, write func(w *bufio.Writer) error) error {
	return writeFunc(path, perm, true, write)
}

func writeFunc(path string, perm os.FileMode, mkdir bool, write func(w *bufio.Writer) error) error {
	if fi, err := os.Stat(path); err == nil {
		perm = fi.Mode().Perm()
	}
	dir := filepath.Dir(path)
	if mkdir {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	tmp, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	bw := bufio.NewWriterSize(tmp, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err == nil {
		err = SyncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// SyncDir fsyncs a folder so that a rename into it is durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
