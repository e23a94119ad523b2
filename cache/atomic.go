package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// testHookBeforeRename, when set by a test, is called just before a finished
// temporary file is renamed into its final place. Returning an error aborts
// the publication as a crash at that point would, leaving the temporary file.
var testHookBeforeRename func(tmp, dst string) error

// writeFileAtomic writes data to dst through a temporary file created in
// tmpDir (which must be on dst's file system): write, fsync, chmod to perm,
// rename over dst, fsync dst's directory. Readers see the old file or the
// complete new one, never a partial write.
func writeFileAtomic(tmpDir, dst string, data []byte, perm fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("create directory for %s: %w", dst, err)
	}
	f, err := os.CreateTemp(tmpDir, "write-*")
	if err != nil {
		return fmt.Errorf("create temporary file for %s: %w", dst, err)
	}
	tmp := f.Name()
	if err := writeSyncClose(f, data); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write temporary file for %s: %w", dst, err)
	}
	if err := publish(tmp, dst, perm); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dst))
}

// writeSyncClose writes data to f, fsyncs and closes it.
func writeSyncClose(f *os.File, data []byte) error {
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	return errors.Join(werr, serr, cerr)
}

// publish sets perm on the finished temporary file tmp and renames it to dst.
// On failure tmp is removed (unless a test hook simulated a crash).
func publish(tmp, dst string, perm fs.FileMode) error {
	if err := os.Chmod(tmp, perm); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("set mode of temporary file %s: %w", tmp, err)
	}
	if testHookBeforeRename != nil {
		if err := testHookBeforeRename(tmp, dst); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rename %s to %s: %w", tmp, dst, err)
	}
	return nil
}

// syncDir fsyncs a directory so that a rename into it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s for fsync: %w", dir, err)
	}
	serr := d.Sync()
	cerr := d.Close()
	if err := errors.Join(serr, cerr); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// removeAllForce removes path like os.RemoveAll, first making directories
// writable so that read-only trees (for example staged outputs of a command
// that chmod'ed its results) can be removed too.
func removeAllForce(path string) error {
	if err := os.RemoveAll(path); err == nil {
		return nil
	}
	_ = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(path)
}

// removeAllForceIn is removeAllForce for the entry name of dir, working
// through dir so that it never leaves it.
func removeAllForceIn(dir *os.Root, name string) error {
	if err := dir.RemoveAll(name); err == nil {
		return nil
	}
	_ = fs.WalkDir(dir.FS(), filepath.ToSlash(name), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = dir.Chmod(filepath.FromSlash(p), 0o700)
		}
		return nil
	})
	return dir.RemoveAll(name)
}
