package cache

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/pcamflow/pcamflow/internal/projectpath"
)

// Restore materialises artifact a at dst: a file for TypeFile, a directory
// for TypeTree. Parent directories are created. The content is assembled
// under a temporary sibling of dst, verifying every object's SHA-256 while
// copying, and then renamed over dst, replacing an existing file, link or
// directory (a link at dst is replaced, never followed). If an object does
// not match its digest the error wraps ErrCorrupt and names the object path;
// if one is absent it wraps ErrMissing; in both cases dst is left untouched.
// After ConfineRestores, a dst outside the allowed folders, or whose parent
// folders lead out of them through a symbolic link, is refused with an error
// wrapping projectpath.ErrEscape and nothing is written. All writes go through
// a handle on dst's folder (os.Root), so a link swapped in meanwhile cannot
// redirect them. Afterwards the stat cache knows the digests of the restored
// files, so Digest(dst) does not read them again.
func (s *Store) Restore(a Artifact, dst string) error {
	if err := a.validate(); err != nil {
		return fmt.Errorf("cache: restore to %s: %w", dst, err)
	}
	abs, err := filepath.Abs(dst)
	if err != nil {
		return fmt.Errorf("cache: restore to %s: %w", dst, err)
	}
	dir, name, err := s.openDestination(abs)
	if err != nil {
		return fmt.Errorf("cache: restore to %s: %w", dst, err)
	}
	defer dir.Close()
	if a.Type == TypeFile {
		err = s.restoreFile(a, dir, name, abs)
	} else {
		err = s.restoreTree(a, dir, name, abs)
	}
	if err != nil {
		return fmt.Errorf("cache: restore %s %s to %s: %w", a.Type, a.Digest, dst, err)
	}
	return nil
}

// ConfineRestores limits Restore to destinations inside dirs (typically the
// project folder) and the store's own root; see Restore. Links in dirs
// themselves are fine: each is resolved when a destination is checked.
func (s *Store) ConfineRestores(dirs ...string) error {
	roots := []string{s.root}
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return fmt.Errorf("cache: confine restores to %s: %w", d, err)
		}
		roots = append(roots, abs)
	}
	s.confine = roots
	return nil
}

// openDestination creates the folder of abs and opens it as an os.Root,
// checking it against the confinement folders when there are any.
func (s *Store) openDestination(abs string) (*os.Root, string, error) {
	if len(s.confine) == 0 {
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			return nil, "", err
		}
		r, err := os.OpenRoot(filepath.Dir(abs))
		return r, filepath.Base(abs), err
	}
	for _, root := range s.confine {
		if rel, ok := projectpath.Within(root, abs); ok && rel != "." {
			return projectpath.OpenParent(root, rel)
		}
	}
	return nil, "", &projectpath.EscapeError{Path: abs}
}

// tempName returns a fresh name for a temporary sibling in a restore folder.
func tempName() string {
	return fmt.Sprintf(".pcamflow-restore-%d-%d", os.Getpid(), asideSeq.Add(1))
}

// restoreFile copies the verified object of a to a temporary sibling of name
// in dir and renames it into place; abs is name's path for the stat cache.
func (s *Store) restoreFile(a Artifact, dir *os.Root, name, abs string) error {
	tmp := tempName()
	f, err := dir.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if err := s.copyObject(f, a.Digest, a.Size, a.Exec); err != nil {
		dir.Remove(tmp)
		return err
	}
	if err := replace(dir, tmp, name); err != nil {
		dir.Remove(tmp)
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

// restoreTree builds the tree of a in a temporary sibling of name in dir and
// renames it into place; abs is name's path for the stat cache.
func (s *Store) restoreTree(a Artifact, dir *os.Root, name, abs string) error {
	m, err := s.readManifest(a.Digest)
	if err != nil {
		return err
	}
	tmp := tempName()
	if err := dir.Mkdir(tmp, 0o755); err != nil {
		return err
	}
	if err := s.fillTree(dir, tmp, m); err != nil {
		removeAllForceIn(dir, tmp)
		return err
	}
	if err := replace(dir, tmp, name); err != nil {
		removeAllForceIn(dir, tmp)
		return err
	}
	for _, e := range m.Entries {
		if e.Type == entryFile {
			s.learnRestored(filepath.Join(abs, filepath.FromSlash(e.Path)), e.Digest)
		}
	}
	return nil
}

// fillTree creates every manifest entry under the folder tmp of dir. The
// entries are written through a handle on tmp, so that no entry (nor a link
// among them) can place a file outside it.
func (s *Store) fillTree(dir *os.Root, tmp string, m manifest) error {
	if err := dir.Chmod(tmp, 0o755); err != nil {
		return err
	}
	tree, err := dir.OpenRoot(tmp)
	if err != nil {
		return err
	}
	defer tree.Close()
	for _, e := range m.Entries {
		if err := s.createEntry(tree, filepath.FromSlash(e.Path), e); err != nil {
			return fmt.Errorf("tree entry %q: %w", e.Path, err)
		}
	}
	return nil
}

// createEntry materialises one manifest entry at p in tree.
func (s *Store) createEntry(tree *os.Root, p string, e manifestEntry) error {
	if e.Type == entryDir {
		return tree.MkdirAll(p, 0o755)
	}
	if err := tree.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if e.Type == entrySymlink {
		return tree.Symlink(filepath.FromSlash(e.Target), p)
	}
	f, err := tree.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	return s.copyObject(f, e.Digest, e.Size, e.Exec)
}

// asideSeq makes the names of temporary and moved-aside entries unique
// within a process.
var asideSeq atomic.Int64

// replace renames tmp to name, both in dir. When name is absent, or both are
// non-directories, this is a single atomic rename. Otherwise name is first
// renamed to a hidden sibling, tmp renamed into place and the old content
// removed; a crash in between leaves name absent and a ".pcamflow-old-*"
// sibling behind, never a mixture of old and new.
func replace(dir *os.Root, tmp, name string) error {
	old, err := dir.Lstat(name)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	tfi, err2 := dir.Lstat(tmp)
	if err2 != nil {
		return err2
	}
	if err != nil || (!old.IsDir() && !tfi.IsDir()) {
		if err := dir.Rename(tmp, name); err != nil {
			return err
		}
		return syncRoot(dir)
	}
	aside := fmt.Sprintf(".pcamflow-old-%d-%d-%d", os.Getpid(), time.Now().UnixNano(), asideSeq.Add(1))
	if err := dir.Rename(name, aside); err != nil {
		return fmt.Errorf("move existing %s aside: %w", name, err)
	}
	if err := dir.Rename(tmp, name); err != nil {
		dir.Rename(aside, name)
		return err
	}
	if err := syncRoot(dir); err != nil {
		return err
	}
	return removeAllForceIn(dir, aside)
}

// syncRoot fsyncs the folder dir so that a rename into it is durable.
func syncRoot(dir *os.Root) error {
	d, err := dir.Open(".")
	if err != nil {
		return fmt.Errorf("open directory %s for fsync: %w", dir.Name(), err)
	}
	if err := errors.Join(d.Sync(), d.Close()); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir.Name(), err)
	}
	return nil
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
