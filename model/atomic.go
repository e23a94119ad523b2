package model

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
)

// WriteFileAtomic creates or replaces path with what write produces, never leaving a partial
// file: it writes a temporary file in the same directory, fsyncs it, renames it over path and
// fsyncs the directory. On any error the temporary file is removed and path is untouched.
func WriteFileAtomic(path string, write func(w *bufio.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err = write(bw); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", tmp, path, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("syncing directory %s: %w", dir, err)
		}
	}
	return nil
}

// SaveFile writes the checkpoint to path atomically (see WriteFileAtomic).
func (t *Trainer) SaveFile(path string) error {
	return WriteFileAtomic(path, func(w *bufio.Writer) error { return t.Save(w) })
}

// LoadFile restores t from the checkpoint at path (see Load).
func (t *Trainer) LoadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening checkpoint: %w", err)
	}
	defer f.Close()
	if err := t.Load(f); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return nil
}

// LoadTrainerFile opens the checkpoint at path with LoadTrainer. Knowing the file's size, it reads
// the tensors straight into the new trainer once the header's sizes are found to fit in the file.
func LoadTrainerFile(path string) (*Trainer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening checkpoint: %w", err)
	}
	defer f.Close()
	size := int64(-1)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	t, err := loadTrainer(f, size)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return t, nil
}
