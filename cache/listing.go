package cache

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Listing answers record and ref look-ups for a command that makes many of them (plan), from
// directory listings read once instead of one failing open per missing record or ref: a fresh
// workspace has none of them. A record shard (the folder of the keys sharing their first two hex
// digits) is listed the first time a key in it is looked up; the refs folder at the first ref
// look-up. A record or ref that the listing holds is read from its file as GetRecord and GetRef
// read it, so errors and results are theirs; one created after its folder was listed is not seen
// (a plan is a snapshot). When a folder cannot be listed, the look-ups fall back to the files.
type Listing struct {
	s  *Store
	mu sync.Mutex
	// shards holds, by shard name, the keys of the record files present; a nil set means the
	// shard could not be listed.
	shards map[string]map[string]bool
	// refs holds the encoded names of the ref files present; refsListed says whether it was
	// listed, refs stays nil when it could not be.
	refs       map[string]bool
	refsListed bool
	// index is the ref index when it was current at its first use (see LastComponents).
	index     *refIndex
	indexOnce sync.Once
}

// Listing returns an empty listing of the store's records and refs, filled as it is used.
func (s *Store) Listing() *Listing {
	return &Listing{s: s, shards: map[string]map[string]bool{}}
}

// GetRecord is Store.GetRecord, answered without opening a file when the key's shard holds no
// record file of that key.
func (l *Listing) GetRecord(key string) (*Record, bool, error) {
	if !validHex64(key) {
		return l.s.GetRecord(key)
	}
	if keys := l.shard(key[:2]); keys != nil && !keys[key] {
		return nil, false, nil
	}
	return l.s.GetRecord(key)
}

// GetRef is Store.GetRef, answered without opening a file when the refs folder holds no file of
// that name.
func (l *Listing) GetRef(name string) (string, bool, error) {
	if !l.MayHaveRef(name) {
		return "", false, nil
	}
	return l.s.GetRef(name)
}

// MayHaveRef reports whether the ref name may exist: false only when the listing of the refs
// folder holds no file of that name.
func (l *Listing) MayHaveRef(name string) bool {
	refs := l.refNames()
	return refs == nil || name == "" || refs[encodeRefName(name)]
}

// shard returns the record keys of one shard, listing it on first use; nil if it could not be
// listed (the caller then reads the file).
func (l *Listing) shard(name string) map[string]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if keys, ok := l.shards[name]; ok {
		return keys
	}
	keys := listNames(filepath.Join(l.s.root, nodesDir, name), func(n string) (string, bool) {
		key, ok := strings.CutSuffix(n, ".json")
		return key, ok && validHex64(key)
	})
	l.shards[name] = keys
	return keys
}

// refNames returns the encoded names of the ref files, listing them on first use; nil if the
// folder could not be listed.
func (l *Listing) refNames() map[string]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.refsListed {
		l.refsListed = true
		l.refs = listNames(filepath.Join(l.s.root, refsDir), func(n string) (string, bool) { return n, true })
	}
	return l.refs
}

// listNames returns the set of the names of dir's entries, mapped through keep; an empty set if
// dir does not exist, nil if it cannot be read. Entries of every type are kept: reading the file
// decides (a folder where a record should be stays the error it was).
func listNames(dir string, keep func(string) (string, bool)) map[string]bool {
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}
	}
	if err != nil {
		return nil
	}
	names := make(map[string]bool, len(des))
	for _, de := range des {
		if n, ok := keep(de.Name()); ok {
			names[n] = true
		}
	}
	return names
}
