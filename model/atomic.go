package model

import (
	"bufio"
	"fmt"
	"os"

	"github.com/pcamflow/pcamflow/internal/atomicfile"
)

// SaveFile writes the checkpoint to path atomically: a reader sees the old file or the new one whole.
func (t *Trainer) SaveFile(path string) error {
	return atomicfile.WriteFunc(path, 0o644, func(w *bufio.Writer) error { return t.Save(w) })
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
