package cache

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// manifestFormat names the version of the tree manifest encoding.
const manifestFormat = "pcamflow-tree-v1"

// Manifest entry types.
const (
	entryFile    = "file"
	entryDir     = "dir"
	entrySymlink = "symlink"
)

// manifest is the canonical description of a tree: entries sorted by path.
type manifest struct {
	Format  string          `json:"format"`
	Entries []manifestEntry `json:"entries"`
}

// manifestEntry is one file, empty directory or symbolic link of a tree.
// Path is relative, slash-separated and clean. Directories are listed only
// when empty (others are implied by the paths beneath them).
type manifestEntry struct {
	Path   string `json:"path"`
	Type   string `json:"type"`
	Digest string `json:"digest,omitempty"`
	Size   int64  `json:"size,omitempty"`
	Exec   bool   `json:"exec,omitempty"`
	Target string `json:"target,omitempty"`
}

// encode returns the canonical JSON of m; entries must already be sorted.
func (m manifest) encode() ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// decodeManifest parses and validates a manifest blob.
func decodeManifest(blob []byte) (manifest, error) {
	var m manifest
	dec := json.NewDecoder(bytes.NewReader(blob))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return manifest{}, fmt.Errorf("decode tree manifest: %w", err)
	}
	if err := m.validate(); err != nil {
		return manifest{}, err
	}
	return m, nil
}

// validate checks the format, that paths are valid, relative, strictly
// increasing (hence unique), and that each entry is well formed for its type.
func (m manifest) validate() error {
	if m.Format != manifestFormat {
		return fmt.Errorf("tree manifest: format %q, want %q", m.Format, manifestFormat)
	}
	for i, e := range m.Entries {
		if !fs.ValidPath(e.Path) || e.Path == "." {
			return fmt.Errorf("tree manifest entry %d: invalid path %q", i, e.Path)
		}
		if i > 0 && m.Entries[i-1].Path >= e.Path {
			return fmt.Errorf("tree manifest: entries %q and %q not in strictly increasing order", m.Entries[i-1].Path, e.Path)
		}
		if err := e.validate(); err != nil {
			return fmt.Errorf("tree manifest entry %q: %w", e.Path, err)
		}
	}
	return nil
}

// validate checks the fields that each entry type requires and allows.
func (e manifestEntry) validate() error {
	switch e.Type {
	case entryFile:
		if !validHex64(e.Digest) || e.Size < 0 || e.Target != "" {
			return fmt.Errorf("file entry needs a 64-hex digest, a size >= 0 and no target")
		}
	case entryDir:
		if e.Digest != "" || e.Size != 0 || e.Exec || e.Target != "" {
			return fmt.Errorf("dir entry must have no digest, size, exec or target")
		}
	case entrySymlink:
		if e.Digest != "" || e.Size != 0 || e.Exec {
			return fmt.Errorf("symlink entry must have no digest, size or exec")
		}
		return checkLinkTarget(e.Path, e.Target)
	default:
		return fmt.Errorf("unknown entry type %q", e.Type)
	}
	return nil
}

// checkLinkTarget rejects a symbolic link target that is empty, absolute, or
// that lexically leaves the tree when resolved from the link's directory.
func checkLinkTarget(rel, target string) error {
	if target == "" {
		return fmt.Errorf("symbolic link has an empty target")
	}
	if path.IsAbs(target) || strings.HasPrefix(target, "/") {
		return fmt.Errorf("symbolic link target %q is absolute; only relative links inside the tree can be stored", target)
	}
	resolved := path.Join(path.Dir(rel), target)
	if resolved == ".." || strings.HasPrefix(resolved, "../") {
		return fmt.Errorf("symbolic link target %q points outside the tree", target)
	}
	return nil
}
