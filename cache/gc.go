package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// GCOptions control GC.
type GCOptions struct {
	// KeepAllRecords keeps every node record, not only those a ref points to.
	KeepAllRecords bool
	// MinTmpAge is the age (by modification time) a top-level entry of
	// root/tmp must exceed to be removed. Zero removes all of them.
	MinTmpAge time.Duration
	// DryRun computes the statistics without removing anything.
	DryRun bool
}

// GCStats counts what GC removed (or, with DryRun, would remove).
type GCStats struct {
	// RecordsRemoved is the number of node record files removed.
	RecordsRemoved int
	// ObjectsRemoved is the number of blobs (including manifests) removed.
	ObjectsRemoved int
	// TmpRemoved is the number of top-level entries of root/tmp removed.
	TmpRemoved int
	// BytesFreed is the total size of the regular files removed: record
	// files, objects and files under removed tmp entries.
	BytesFreed int64
}

// GC removes the node records no ref points to (unless KeepAllRecords),
// then every object that no remaining record references (a tree's manifest
// keeps its blobs), then tmp entries older than MinTmpAge. It decides
// everything before removing anything: a kept record or tree manifest that
// cannot be read aborts GC with an error naming it and nothing is removed.
// The caller must hold LockWorkspace(ctx, true), so that no run is
// publishing objects whose record is not yet written.
func (s *Store) GC(opt GCOptions) (GCStats, error) {
	var st GCStats
	recs, err := s.recordsToRemove(opt.KeepAllRecords)
	if err != nil {
		return st, fmt.Errorf("cache: gc: %w", err)
	}
	objs, err := s.objectsToRemove(recs.live)
	if err != nil {
		return st, fmt.Errorf("cache: gc: %w", err)
	}
	tmps, err := s.tmpToRemove(opt.MinTmpAge)
	if err != nil {
		return st, fmt.Errorf("cache: gc: %w", err)
	}
	st.RecordsRemoved, st.ObjectsRemoved, st.TmpRemoved = len(recs.remove), len(objs), len(tmps)
	for _, c := range [][]doomed{recs.remove, objs, tmps} {
		for _, d := range c {
			st.BytesFreed += d.bytes
		}
	}
	if opt.DryRun {
		return st, nil
	}
	var errs []error
	for _, c := range [][]doomed{recs.remove, objs, tmps} {
		for _, d := range c {
			if err := removeAllForce(d.path); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return st, fmt.Errorf("cache: gc: %w", err)
	}
	return st, nil
}

// doomed is a file or directory GC will remove and the bytes that frees.
type doomed struct {
	path  string
	bytes int64
}

// recordPlan is the record phase's outcome: records to remove and the set
// of digests (outputs, manifests) referenced by the records kept.
type recordPlan struct {
	remove []doomed
	live   map[string]bool
}

// recordsToRemove lists record files and decides which go.
func (s *Store) recordsToRemove(keepAll bool) (recordPlan, error) {
	plan := recordPlan{live: make(map[string]bool)}
	refs, err := s.Refs()
	if err != nil {
		return plan, err
	}
	wanted := make(map[string]bool, len(refs))
	for _, k := range refs {
		wanted[k] = true
	}
	err = forEachShardFile(filepath.Join(s.root, nodesDir), func(p string, fi fs.FileInfo) error {
		key, ok := strings.CutSuffix(fi.Name(), ".json")
		if !ok || !validHex64(key) {
			return nil // not a record file
		}
		if !keepAll && !wanted[key] {
			plan.remove = append(plan.remove, doomed{path: p, bytes: fi.Size()})
			return nil
		}
		return s.markRecord(key, plan.live)
	})
	return plan, err
}

// markRecord adds the digests the record key references to live.
func (s *Store) markRecord(key string, live map[string]bool) error {
	r, ok, err := s.GetRecord(key)
	if err != nil || !ok {
		return err
	}
	for name, o := range r.Outputs {
		live[o.Digest] = true
		if o.Type != TypeTree {
			continue
		}
		m, err := s.readManifest(o.Digest)
		if errors.Is(err, ErrMissing) {
			continue
		}
		if err != nil {
			return fmt.Errorf("record %s output %q: %w", key, name, err)
		}
		for _, e := range m.Entries {
			if e.Type == entryFile {
				live[e.Digest] = true
			}
		}
	}
	return nil
}

// objectsToRemove lists the objects not in live.
func (s *Store) objectsToRemove(live map[string]bool) ([]doomed, error) {
	var out []doomed
	err := forEachShardFile(filepath.Join(s.root, objectsDir), func(p string, fi fs.FileInfo) error {
		d := filepath.Base(filepath.Dir(p)) + fi.Name()
		if validHex64(d) && !live[d] {
			out = append(out, doomed{path: p, bytes: fi.Size()})
		}
		return nil
	})
	return out, err
}

// tmpToRemove lists the top-level tmp entries older than minAge.
func (s *Store) tmpToRemove(minAge time.Duration) ([]doomed, error) {
	dir := filepath.Join(s.root, tmpDir)
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	cutoff := time.Now().Add(-minAge)
	var out []doomed
	for _, de := range des {
		fi, err := de.Info()
		if err != nil {
			continue // vanished meanwhile
		}
		if minAge > 0 && !fi.ModTime().Before(cutoff) {
			continue
		}
		p := filepath.Join(dir, de.Name())
		out = append(out, doomed{path: p, bytes: treeBytes(p)})
	}
	return out, nil
}

// treeBytes sums the sizes of the regular files at or under p.
func treeBytes(p string) int64 {
	var n int64
	_ = filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// forEachShardFile calls fn for each regular file in the sub-directories of
// dir (the two-level objects/ and nodes/ layouts), in directory order.
func forEachShardFile(dir string, fn func(p string, fi fs.FileInfo) error) error {
	shards, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, sh := range shards {
		if !sh.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, sh.Name()))
		if err != nil {
			return err
		}
		for _, f := range files {
			fi, err := f.Info()
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			if err := fn(filepath.Join(dir, sh.Name(), f.Name()), fi); err != nil {
				return err
			}
		}
	}
	return nil
}
