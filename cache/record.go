package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Record is the committed result of one DAG node execution, stored under its
// cache key.
type Record struct {
	// Key is the node's cache key, 64 lowercase hex digits.
	Key string `json:"key"`
	// Node is the node's address, e.g. "command.prep".
	Node string `json:"node"`
	// Kind is the stage kind.
	Kind string `json:"kind"`
	// Version is the stage kind's implementation version.
	Version string `json:"version"`
	// Components are the named parts of the key, for "why does it rerun" diffs.
	Components map[string]string `json:"components"`
	// Outputs are the node's published outputs by name.
	Outputs map[string]Output `json:"outputs"`
	// Value is an opaque result value; the cache does not interpret it.
	Value json.RawMessage `json:"value,omitempty"`
	// RunID identifies the run that executed the node.
	RunID string `json:"run_id"`
	// Host is the machine the node ran on.
	Host string `json:"host"`
	// LogPath is where the execution's log was written.
	LogPath string `json:"log_path"`
	// Started and Finished bracket the execution.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
}

// Output is a published artifact together with where it is materialised.
type Output struct {
	Artifact
	// Path is where the output lives, project-relative or absolute.
	Path string `json:"path"`
}

// recordPath returns the file of the record with this key.
func (s *Store) recordPath(key string) string {
	return filepath.Join(s.root, nodesDir, key[:2], key+".json")
}

// PutRecord commits r under r.Key. It first checks that every output's
// objects are present (Has); if one is not, or the key is not 64 lowercase
// hex digits, it returns an error and writes nothing. The record file is
// written to a temporary file, fsynced and renamed, replacing any existing
// record of the same key, so readers see the old or the new record whole.
func (s *Store) PutRecord(r *Record) error {
	if r == nil {
		return errors.New("cache: put record: nil record")
	}
	if !validHex64(r.Key) {
		return fmt.Errorf("cache: put record for node %q: key %q is not 64 lowercase hex digits", r.Node, r.Key)
	}
	if err := s.checkOutputs(r); err != nil {
		return fmt.Errorf("cache: put record %s (node %q): %w", r.Key, r.Node, err)
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("cache: put record %s (node %q): encode: %w", r.Key, r.Node, err)
	}
	data = append(data, '\n')
	if err := writeFileAtomic(filepath.Join(s.root, tmpDir), s.recordPath(r.Key), data, 0o644); err != nil {
		return fmt.Errorf("cache: put record %s (node %q): %w", r.Key, r.Node, err)
	}
	return nil
}

// checkOutputs verifies that all objects of every output exist, in output
// name order so that the error is deterministic.
func (s *Store) checkOutputs(r *Record) error {
	names := make([]string, 0, len(r.Outputs))
	for n := range r.Outputs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		o := r.Outputs[n]
		ok, err := s.Has(o.Artifact)
		if err != nil {
			return fmt.Errorf("output %q: %w", n, err)
		}
		if !ok {
			return fmt.Errorf("output %q (%s %s): %w", n, o.Type, o.Digest, ErrMissing)
		}
	}
	return nil
}

// GetRecord returns the record stored under key. ok is false, with a nil
// error, if there is none. An unreadable or unparsable record file, or one
// whose key field disagrees with its name, is an error naming the file.
func (s *Store) GetRecord(key string) (r *Record, ok bool, err error) {
	if !validHex64(key) {
		return nil, false, fmt.Errorf("cache: get record: key %q is not 64 lowercase hex digits", key)
	}
	p := s.recordPath(key)
	data, err := readSmallFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("cache: read record %s: %w", p, err)
	}
	r, err = decodeRecord(data)
	if err != nil {
		return nil, false, fmt.Errorf("cache: record file %s is corrupt (delete it or run gc): %w", p, err)
	}
	if r.Key != key {
		return nil, false, fmt.Errorf("cache: record file %s holds key %q, expected %q", p, r.Key, key)
	}
	return r, true, nil
}

// decodeRecord parses a record file and checks its artifacts are well formed.
func decodeRecord(data []byte) (*Record, error) {
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	for n, o := range r.Outputs {
		if err := o.validate(); err != nil {
			return nil, fmt.Errorf("output %q: %w", n, err)
		}
	}
	return &r, nil
}
