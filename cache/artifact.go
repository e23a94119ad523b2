package cache

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Artifact types.
const (
	// TypeFile is the Type of an artifact that is a single regular file.
	TypeFile = "file"
	// TypeTree is the Type of an artifact that is a directory tree.
	TypeTree = "tree"
)

// Artifact is a published output: a single file or a directory tree.
type Artifact struct {
	// Type is TypeFile or TypeTree.
	Type string `json:"type"`
	// Digest is the hex SHA-256 of the file content or, for a tree, of its
	// canonical manifest blob.
	Digest string `json:"digest"`
	// Size is the total number of bytes of file content.
	Size int64 `json:"size"`
	// Files is 1 for a file and the number of regular files for a tree.
	Files int `json:"files"`
	// Exec is the file's owner-executable bit (always false for a tree; tree
	// entries carry their own bits in the manifest).
	Exec bool `json:"exec,omitempty"`
}

// validate checks that a is well formed: a known type and a 64-hex digest.
func (a Artifact) validate() error {
	if a.Type != TypeFile && a.Type != TypeTree {
		return fmt.Errorf("artifact %q: unknown type %q (want %q or %q)", a.Digest, a.Type, TypeFile, TypeTree)
	}
	if !validHex64(a.Digest) {
		return fmt.Errorf("artifact of type %s: digest %q is not 64 lowercase hex digits", a.Type, a.Digest)
	}
	return nil
}

// Put publishes the regular file or directory at path into the object store
// and returns its Artifact. A symbolic link given as path itself is
// followed; links inside a tree are recorded as links (see doc.go). Every
// object is written to root/tmp, fsynced and renamed into objects/, so a
// crash never leaves a partial object. Putting content that is already
// stored is cheap and leaves the store unchanged; a file whose stat-cache
// entry is valid and whose object exists is not read at all.
func (s *Store) Put(path string) (Artifact, error) {
	a, err := s.artifact(path, true)
	if err != nil {
		return Artifact{}, fmt.Errorf("cache: put %s: %w", path, err)
	}
	return a, nil
}

// Digest returns the Artifact that Put(path) would return, without storing
// anything, using the stat cache to avoid re-reading unchanged files. A
// missing path yields an error wrapping fs.ErrNotExist.
func (s *Store) Digest(path string) (Artifact, error) {
	a, err := s.artifact(path, false)
	if err != nil {
		return Artifact{}, fmt.Errorf("cache: digest %s: %w", path, err)
	}
	return a, nil
}

// artifact implements Put (store=true) and Digest (store=false).
func (s *Store) artifact(path string, store bool) (Artifact, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Artifact{}, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return Artifact{}, err
	}
	switch {
	case fi.Mode().IsRegular():
		digest, err := s.fileDigest(abs, fi, store)
		if err != nil {
			return Artifact{}, err
		}
		return Artifact{Type: TypeFile, Digest: digest, Size: fi.Size(), Files: 1, Exec: isExec(fi.Mode())}, nil
	case fi.IsDir():
		return s.treeArtifact(abs, store)
	default:
		return Artifact{}, fmt.Errorf("%s is a %s, not a regular file or directory", abs, fi.Mode().Type())
	}
}

// isExec reports whether the owner-executable bit is set.
func isExec(m fs.FileMode) bool { return m&0o100 != 0 }

// treeArtifact walks the directory abs, digests (and with store, publishes)
// every file, then builds the manifest and publishes it too.
func (s *Store) treeArtifact(abs string, store bool) (Artifact, error) {
	files, err := walkTree(abs)
	if err != nil {
		return Artifact{}, err
	}
	m := manifest{Format: manifestFormat, Entries: make([]manifestEntry, 0, len(files))}
	a := Artifact{Type: TypeTree}
	for _, f := range files {
		e := f.entry
		if e.Type == entryFile {
			d, err := s.fileDigest(f.abs, f.info, store)
			if err != nil {
				return Artifact{}, err
			}
			e.Digest = d
			a.Size += e.Size
			a.Files++
		}
		m.Entries = append(m.Entries, e)
	}
	blob, err := m.encode()
	if err != nil {
		return Artifact{}, err
	}
	a.Digest = sha256Hex(blob)
	if store {
		if err := s.putBlob(a.Digest, blob); err != nil {
			return Artifact{}, err
		}
	}
	return a, nil
}
