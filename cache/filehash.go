package cache

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// hashAttempts is how often a file that changes while it is being read is
// re-read before giving up.
const hashAttempts = 3

// errChanged reports a file modified while it was read.
var errChanged = errors.New("file changed while it was being read")

// fileDigest returns the hex SHA-256 of the regular file at abs, whose
// os.Stat result is fi. A valid stat-cache entry answers without reading
// (when store is set, only if the object is also present). Otherwise the file
// is read once: hashed, and with store copied into a new object.
func (s *Store) fileDigest(abs string, fi fs.FileInfo, store bool) (string, error) {
	for attempt := 0; attempt < hashAttempts; attempt++ {
		if attempt > 0 {
			var err error
			if fi, err = os.Stat(abs); err != nil {
				return "", err
			}
		}
		id := fileIDOf(fi)
		if d, ok := s.stats.lookup(abs, id); ok && (!store || s.hasObject(d, id.size)) {
			s.statHits.Add(1)
			return d, nil
		}
		d, err := s.hashFile(abs, id, store)
		if errors.Is(err, errChanged) {
			continue
		}
		return d, err
	}
	return "", fmt.Errorf("%s: %w (%d attempts)", abs, errChanged, hashAttempts)
}

// hashFile reads the file at abs, expected to have identity id, and returns
// its digest; with store it also publishes the content as an object. If the
// file's identity differs after reading it returns errChanged and stores
// nothing in the stat cache (an object written meanwhile is still consistent
// with its name, as its digest is computed from the bytes copied).
func (s *Store) hashFile(abs string, id fileID, store bool) (_ string, err error) {
	start := time.Now()
	f, err := os.Open(abs)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var tmp *os.File
	if store {
		if tmp, err = os.CreateTemp(filepath.Join(s.root, tmpDir), "obj-*"); err != nil {
			return "", fmt.Errorf("create temporary object: %w", err)
		}
		defer func() {
			if err != nil { // on success the file has been renamed or removed
				tmp.Close()
				os.Remove(tmp.Name())
			}
		}()
	}
	var w io.Writer
	if tmp != nil {
		w = tmp
	}
	d, n, err := hashReader(f, w)
	s.filesHashed.Add(1)
	s.bytesHashed.Add(n)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", abs, err)
	}
	after, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("stat %s: %w", abs, err)
	}
	if fileIDOf(after) != id || n != id.size {
		return "", errChanged
	}
	if store {
		if err := s.publishTemp(tmp, d, n); err != nil {
			return "", err
		}
	}
	if s.cacheable(abs) {
		s.stats.set(abs, id, start, d, 0)
	}
	return d, nil
}

// publishTemp fsyncs and closes the finished temporary object tmp holding
// size bytes with digest d, and renames it into objects/ unless an intact
// copy (right size) is already there.
func (s *Store) publishTemp(tmp *os.File, d string, size int64) error {
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(serr, cerr); err != nil {
		return fmt.Errorf("write temporary object %s: %w", tmp.Name(), err)
	}
	if s.hasObject(d, size) {
		return os.Remove(tmp.Name())
	}
	dst := s.ObjectPath(d)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("create object directory: %w", err)
	}
	if err := publish(tmp.Name(), dst, 0o444); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dst))
}

// putBlob stores data (whose hex SHA-256 is d) as an object unless an
// object of the right size already exists.
func (s *Store) putBlob(d string, data []byte) error {
	if s.hasObject(d, int64(len(data))) {
		return nil
	}
	if err := writeFileAtomic(filepath.Join(s.root, tmpDir), s.ObjectPath(d), data, 0o444); err != nil {
		return fmt.Errorf("store object %s: %w", d, err)
	}
	return nil
}

// hasObject reports whether the object d exists as a regular file of the
// given size. An object of the wrong size is treated as absent so that Put
// replaces it.
func (s *Store) hasObject(d string, size int64) bool {
	fi, err := os.Lstat(s.ObjectPath(d))
	return err == nil && fi.Mode().IsRegular() && fi.Size() == size
}

// cacheable reports whether the stat cache should remember the file at abs:
// not files under root/tmp, whose staging names are never seen again.
func (s *Store) cacheable(abs string) bool {
	return !strings.HasPrefix(abs, filepath.Join(s.root, tmpDir)+string(filepath.Separator))
}
