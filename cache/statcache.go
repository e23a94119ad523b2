package cache

import (
	"encoding/hex"
	"sync"
	"time"
)

// racyWindow is how close to the moment of hashing a file's mtime may be
// before its cache entry is distrusted (git's "racily clean" problem): a write
// that lands in the same timestamp tick as the hashed version would leave
// size and times unchanged, so such entries are re-hashed on the next lookup.
const racyWindow = 2 * time.Second

// maxStatEntries bounds the persistent stat cache; on flush the entries
// hashed longest ago are dropped beyond this count.
const maxStatEntries = 1 << 20

// fileID is what must be unchanged for a cached digest to stay valid.
type fileID struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64 // nanoseconds since the Unix epoch
}

// statEntry is one stat-cache record: a file's identity when it was hashed,
// when that was, and the resulting digest.
type statEntry struct {
	id       fileID
	hashedAt int64 // wall clock, nanoseconds, taken before the file was first stat'ed
	digest   [32]byte
	flags    uint8
}

// flagOwnWrite marks an entry for a file the store itself wrote (Restore)
// from a private temporary name: its content is known without the racy check.
const flagOwnWrite = 1

// trusted reports whether the entry may be used for a file whose identity is
// id now.
func (e statEntry) trusted(id fileID) bool {
	if e.id != id {
		return false
	}
	return e.flags&flagOwnWrite != 0 || e.hashedAt-id.mtime > int64(racyWindow)
}

// statCache maps absolute file paths to stat entries. The in-memory map is
// loaded from and merged back into a file shared by all processes.
type statCache struct {
	path string

	mu      sync.Mutex
	entries map[string]statEntry
	dirty   map[string]bool // paths set since the last load or flush

	// loaded, when not nil, is closed once a load started by loadInBackground has finished;
	// every method waits for it first.
	loaded chan struct{}
}

func newStatCache(path string) *statCache {
	return &statCache{path: path, entries: make(map[string]statEntry), dirty: make(map[string]bool)}
}

// loadInBackground loads the cache file on another goroutine (reading a cache of 10,000 files
// takes tens of milliseconds, which a command overlaps with loading its pipeline). It must be
// called before any other method.
func (c *statCache) loadInBackground() {
	c.loaded = make(chan struct{})
	go func() {
		defer close(c.loaded)
		c.load()
	}()
}

// wait returns once a background load has finished.
func (c *statCache) wait() {
	if c.loaded != nil {
		<-c.loaded
	}
}

// lookup returns the cached hex digest of the file at abs if the entry is
// still valid for identity id.
func (c *statCache) lookup(abs string, id fileID) (string, bool) {
	c.wait()
	c.mu.Lock()
	e, ok := c.entries[abs]
	c.mu.Unlock()
	if !ok || !e.trusted(id) {
		return "", false
	}
	return hex.EncodeToString(e.digest[:]), true
}

// set records that the file at abs with identity id, hashed starting at
// hashedAt, has the given hex digest. Invalid digests are ignored.
func (c *statCache) set(abs string, id fileID, hashedAt time.Time, digest string, flags uint8) {
	var e statEntry
	if n, err := hex.Decode(e.digest[:], []byte(digest)); err != nil || n != 32 {
		return
	}
	e.id, e.hashedAt, e.flags = id, hashedAt.UnixNano(), flags
	c.wait()
	c.mu.Lock()
	c.entries[abs] = e
	c.dirty[abs] = true
	c.mu.Unlock()
}

// len returns the number of entries held in memory.
func (c *statCache) len() int {
	c.wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
