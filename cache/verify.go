package cache

import (
	"errors"
	"fmt"
)

// Has reports whether every object of artifact a is present with the
// expected size: the blob of a file, or the manifest and every blob of a
// tree. It does not re-hash blobs (see Verify), but it does verify and
// decode a tree's manifest; a corrupt manifest is an error wrapping
// ErrCorrupt, and an invalid artifact is an error.
func (s *Store) Has(a Artifact) (bool, error) {
	if err := a.validate(); err != nil {
		return false, fmt.Errorf("cache: has: %w", err)
	}
	if a.Type == TypeFile {
		return s.hasObject(a.Digest, a.Size), nil
	}
	m, err := s.readManifest(a.Digest)
	if errors.Is(err, ErrMissing) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cache: has tree %s: %w", a.Digest, err)
	}
	for _, e := range m.Entries {
		if e.Type == entryFile && !s.hasObject(e.Digest, e.Size) {
			return false, nil
		}
	}
	return true, nil
}

// Verify re-hashes every object of artifact a (a tree's manifest and all its
// blobs). It returns nil if all match, and otherwise the errors of every bad
// object joined, each wrapping ErrCorrupt or ErrMissing and naming the
// object's path.
func (s *Store) Verify(a Artifact) error {
	if err := a.validate(); err != nil {
		return fmt.Errorf("cache: verify: %w", err)
	}
	if a.Type == TypeFile {
		if err := s.hashObject(s.ObjectPath(a.Digest), a.Digest, a.Size, nil); err != nil {
			return fmt.Errorf("cache: verify file %s: %w", a.Digest, err)
		}
		return nil
	}
	m, err := s.readManifest(a.Digest)
	if err != nil {
		return fmt.Errorf("cache: verify tree %s: %w", a.Digest, err)
	}
	var errs []error
	for _, e := range m.Entries {
		if e.Type != entryFile {
			continue
		}
		if err := s.hashObject(s.ObjectPath(e.Digest), e.Digest, e.Size, nil); err != nil {
			errs = append(errs, fmt.Errorf("tree entry %q: %w", e.Path, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cache: verify tree %s: %w", a.Digest, err)
	}
	return nil
}
