package cache

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// Restore materialises artifact a at dst: a file for TypeFile, a directory
// for TypeTree. Parent directories are created. The content is assembled
// under a temporary sibling of dst, verifying every object's SHA-256 while
// copying, and then renamed over dst, replacing an existing file, link or
// directory. If an object does not match its digest the error wraps
// ErrCorrupt and names the object path; if one is absent it wraps
// ErrMissing; in both cases dst is left untouched. Afterwards the stat
// cache knows the digests of the restored files, so Digest(dst) does not
// read them again.
func (s *Store) Restore(a Artifact, dst string) error {
	if err := a.validate(); err != nil {
		return fmt.Errorf("cache: restore to %s: %w", dst, err)
	}
	abs, err := filepath.Abs(dst)
	if err != nil {
		return fmt.Errorf("cache: restore to %s: %w", dst, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return fmt.Errorf("cache: restore to %s: %w", dst, err)
	}
	if a.Type == TypeFile {
		err = s.restoreFile(a, abs)
	} else {
		err = s.restoreTree(a, abs)
	}
	if err != nil {
		return fmt.Errorf("cache: restore %s %s to %s: %w", a.Type, a.Digest, dst, err)
	}
	return nil
}

// restoreFile copies the verified object of a to a temporary sibling of abs
// and renames it into place.
func (s *Store) restoreFile(a Artifact, abs string) error {
	f, err := os.CreateTemp(filepath.Dir(abs), ".pcamflow-restore-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if err := s.copyObject(f, a.Digest, a.Size, a.Exec); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := replace(tmp, abs); err != nil {
		return err
	}
	s.learnRestored(abs, a.Digest)
	return nil
}

// copyObject writes the verified object d (size bytes) into f, sets the
// file's mode from exec, fsyncs and closes it.
func (s *Store) copyObject(f *os.File, d string, size int64, exec bool) error {
	err := s.hashObject(s.ObjectPath(d), d, size, f)
	if err == nil {
		err = f.Chmod(fileMode(exec))
	}
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// fileMode is the permission of a restored file.
func fileMode(exec bool) os.FileMode {
	if exec {
		return 0o755
	}
	return 0o644
}

// restoreTree builds the tree of a in a temporary sibling directory of abs
// and renames it into place.
func (s *Store) restoreTree(a Artifact, abs string) error {
	m, err := s.readManifest(a.Digest)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(abs), ".pcamflow-restore-*")
	if err != nil {
		return err
	}
	if err := s.fillTree(tmp, m); err != nil {
		removeAllForce(tmp)
		return err
	}
	if err := replace(tmp, abs); err != nil {
		removeAllForce(tmp)
		return err
	}
	for _, e := range m.Entries {
		if e.Type == entryFile {
			s.learnRestored(filepath.Join(abs, filepath.FromSlash(e.Path)), e.Digest)
		}
	}
	return nil
}

// fillTree creates every manifest entry under dir.
func (s *Store) fillTree(dir string, m manifest) error {
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	for _, e := range m.Entries {
		p := filepath.Join(dir, filepath.FromSlash(e.Path))
		if err := s.createEntry(p, e); err != nil {
			return fmt.Errorf("tree entry %q: %w", e.Path, err)
		}
	}
	return nil
}

// createEntry materialises one manifest entry at p.
func (s *Store) createEntry(p string, e manifestEntry) error {
	if e.Type == entryDir {
		return os.MkdirAll(p, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if e.Type == entrySymlink {
		return os.Symlink(filepath.FromSlash(e.Target), p)
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	return s.copyObject(f, e.Digest, e.Size, e.Exec)
}

// asideSeq makes the names of moved-aside directories unique within a process.
var asideSeq atomic.Int64

// replace renames tmp to dst. When dst is absent, or both are
// non-directories, this is a single atomic rename. Otherwise dst is first
// renamed to a hidden sibling, tmp renamed into place and the old content
// removed; a crash in between leaves dst absent and a ".pcamflow-old-*"
// sibling behind, never a mixture of old and new.
func replace(tmp, dst string) error {
	old, err := os.Lstat(dst)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	tfi, err2 := os.Lstat(tmp)
	if err2 != nil {
		return err2
	}
	if err != nil || (!old.IsDir() && !tfi.IsDir()) {
		if err := os.Rename(tmp, dst); err != nil {
			return err
		}
		return syncDir(filepath.Dir(dst))
	}
	aside := filepath.Join(filepath.Dir(dst), fmt.Sprintf(".pcamflow-old-%d-%d-%d", os.Getpid(), time.Now().UnixNano(), asideSeq.Add(1)))
	if err := os.Rename(dst, aside); err != nil {
		return fmt.Errorf("move existing %s aside: %w", dst, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Rename(aside, dst)
		return err
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return err
	}
	return removeAllForce(aside)
}

// learnRestored records in the stat cache that the file the store just
// wrote at abs has digest d.
func (s *Store) learnRestored(abs, d string) {
	if !s.cacheable(abs) {
		return
	}
	fi, err := os.Lstat(abs)
	if err != nil || !fi.Mode().IsRegular() {
		return
	}
	s.stats.set(abs, fileIDOf(fi), time.Now(), d, flagOwnWrite)
}

// readManifest reads, verifies and decodes the manifest object d.
func (s *Store) readManifest(d string) (manifest, error) {
	var buf bytes.Buffer
	p := s.ObjectPath(d)
	if err := s.hashObject(p, d, -1, &buf); err != nil {
		return manifest{}, err
	}
	m, err := decodeManifest(buf.Bytes())
	if err != nil {
		return manifest{}, fmt.Errorf("object %s: %w: %w", p, err, ErrCorrupt)
	}
	return m, nil
}
