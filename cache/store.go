package cache

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// ErrCorrupt is wrapped by every error that reports an object whose content
// does not match its digest, or a manifest that cannot be decoded.
var ErrCorrupt = errors.New("corrupt object")

// ErrMissing is wrapped by every error that reports an object that is absent
// from the store.
var ErrMissing = errors.New("missing object")

// Sub-directories of a store root. See doc.go for the layout.
const (
	objectsDir   = "objects"
	nodesDir     = "nodes"
	refsDir      = "refs"
	tmpDir       = "tmp"
	locksDir     = "locks"
	statFileName = "statcache"
)

// Store is an open content-addressed store rooted at a workspace directory.
// A Store is safe for concurrent use by multiple goroutines, and several
// processes may open the same directory at the same time.
type Store struct {
	root  string
	stats *statCache
	// confine, when set by ConfineRestores, lists the folders Restore may write in.
	confine []string

	filesHashed   atomic.Int64
	bytesHashed   atomic.Int64
	statHits      atomic.Int64
	objsVerified  atomic.Int64
	bytesVerified atomic.Int64

	keyMu    sync.Mutex
	keyLocks map[string]*keySem
	ws       workspaceLock

	closeOnce sync.Once
	closeErr  error
}

// Open opens the store rooted at dir, creating dir and its sub-directories
// (objects, nodes, refs, tmp, locks) if they do not exist, and loads the
// persistent stat cache on another goroutine (its first use waits for it). An
// unreadable or corrupt stat cache is ignored and rebuilt; it never makes Open
// fail. The returned Store should be closed with Close so that the stat cache
// is written back.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("cache: open store: empty directory name")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("cache: open store %s: %w", dir, err)
	}
	for _, sub := range []string{"", objectsDir, nodesDir, refsDir, tmpDir, locksDir} {
		if err := os.MkdirAll(filepath.Join(abs, sub), 0o755); err != nil {
			return nil, fmt.Errorf("cache: open store %s: %w", abs, err)
		}
	}
	s := &Store{
		root:     abs,
		stats:    newStatCache(filepath.Join(abs, statFileName)),
		keyLocks: make(map[string]*keySem),
	}
	s.ws.fileMu = make(chan struct{}, 1)
	s.stats.loadInBackground()
	return s, nil
}

// Root returns the absolute path of the store's root directory.
func (s *Store) Root() string { return s.root }

// Close writes the stat cache back to disk (merging with entries written by
// other processes meanwhile). It is safe to call Close more than once; later
// calls return the first call's result. The Store must not be used after Close.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.FlushStatCache() })
	return s.closeErr
}

// FlushStatCache writes the in-memory stat cache to dir/statcache if it has
// changed since it was loaded or last flushed. It takes an exclusive file lock,
// merges the entries other processes have written meanwhile (the newer hash of
// a path wins), and replaces the file atomically. Long-running callers may
// call it periodically; Close calls it.
func (s *Store) FlushStatCache() error {
	lockPath := filepath.Join(s.root, locksDir, "statcache.lock")
	return s.stats.flush(lockPath, filepath.Join(s.root, tmpDir))
}

// ObjectPath returns the path of the blob with this digest:
// root/objects/<first 2 hex digits>/<remaining 62 hex digits>. It returns
// the empty string if digest is not 64 lowercase hexadecimal digits.
func (s *Store) ObjectPath(digest string) string {
	if !validHex64(digest) {
		return ""
	}
	return filepath.Join(s.root, objectsDir, digest[:2], digest[2:])
}

// TempDir creates a fresh, empty directory under root/tmp whose name starts
// with prefix, and returns its path. Being on the store's file system, files
// staged there can be renamed into place. The caller removes it; GC removes
// leftovers older than GCOptions.MinTmpAge.
func (s *Store) TempDir(prefix string) (string, error) {
	d, err := os.MkdirTemp(filepath.Join(s.root, tmpDir), prefix+"*")
	if err != nil {
		return "", fmt.Errorf("cache: create temporary directory in %s: %w", filepath.Join(s.root, tmpDir), err)
	}
	return d, nil
}

// HashStats reports how much content hashing the Store has done since Open.
type HashStats struct {
	// FilesHashed is the number of input files whose content was read and hashed.
	FilesHashed int
	// BytesHashed is the number of bytes read while hashing input files.
	BytesHashed int64
	// StatHits is the number of files whose digest came from the stat cache
	// without reading them.
	StatHits int
	// ObjectsVerified is the number of store objects re-hashed by Restore,
	// Verify or Put (when checking an existing object).
	ObjectsVerified int
	// BytesVerified is the number of object bytes read by those verifications.
	BytesVerified int64
}

// HashStats returns the hashing counters accumulated since Open.
func (s *Store) HashStats() HashStats {
	return HashStats{
		FilesHashed:     int(s.filesHashed.Load()),
		BytesHashed:     s.bytesHashed.Load(),
		StatHits:        int(s.statHits.Load()),
		ObjectsVerified: int(s.objsVerified.Load()),
		BytesVerified:   s.bytesVerified.Load(),
	}
}

// validHex64 reports whether s is exactly 64 lowercase hexadecimal digits,
// the form of every digest and cache key in the store.
func validHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
