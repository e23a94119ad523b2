package audit

import (
	"fmt"
	"os"
	"path/filepath"
)

// writeFileAtomic writes data to path via a temporary file in the same directory, fsync and rename,
// so readers never see a half-written file.
func writeFileAtomic(path string, data []byte) error {
	return writeAtomic(path, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// writeAtomic creates a temporary file next to path, lets fill write it, syncs and renames it.
func writeAtomic(path string, fill func(*os.File) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("audit: create temporary file for %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = fill(f); err != nil {
		return fmt.Errorf("audit: write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("audit: sync %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("audit: close %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("audit: rename into %s: %w", path, err)
	}
	return nil
}

// readFile reads a whole file with an error that names it.
func readFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit: read %s: %w", path, err)
	}
	return b, nil
}
