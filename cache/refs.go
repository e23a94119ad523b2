package cache

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// maxRefName bounds an encoded ref name so that it fits a file name.
const maxRefName = 240

// SetRef points the ref name at key, replacing its previous value
// atomically. Names may contain any characters (e.g. "pcam/sweep.hpo[3]");
// they are percent-encoded into a single file name under root/refs. An
// empty or over-long name, or a key that is not 64 lowercase hex digits, is
// an error.
func (s *Store) SetRef(name, key string) error {
	p, err := s.refPath(name)
	if err != nil {
		return err
	}
	if !validHex64(key) {
		return fmt.Errorf("cache: set ref %q: key %q is not 64 lowercase hex digits", name, key)
	}
	if err := writeFileAtomic(filepath.Join(s.root, tmpDir), p, []byte(key+"\n"), 0o644); err != nil {
		return fmt.Errorf("cache: set ref %q: %w", name, err)
	}
	return nil
}

// GetRef returns the key the ref name points to; ok is false if the ref does
// not exist. A ref file that does not hold a valid key is an error naming it.
func (s *Store) GetRef(name string) (key string, ok bool, err error) {
	p, err := s.refPath(name)
	if err != nil {
		return "", false, err
	}
	key, err = readRef(p)
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("cache: get ref %q: %w", name, err)
	}
	return key, true, nil
}

// Refs returns every ref, name to key. A malformed ref file is an error.
func (s *Store) Refs() (map[string]string, error) {
	dir := filepath.Join(s.root, refsDir)
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cache: list refs in %s: %w", dir, err)
	}
	refs := make(map[string]string, len(des))
	for _, de := range des {
		name, ok := decodeRefName(de.Name())
		if !ok || !de.Type().IsRegular() {
			continue // not written by SetRef
		}
		key, err := readRef(filepath.Join(dir, de.Name()))
		if err != nil {
			return nil, fmt.Errorf("cache: list refs: %w", err)
		}
		refs[name] = key
	}
	return refs, nil
}

// refPath returns the file that holds the ref name.
func (s *Store) refPath(name string) (string, error) {
	enc, err := refFileName(name)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.root, refsDir, enc), nil
}

// refFileName returns the name of the file that holds the ref name, or an error when name is
// empty or too long.
func refFileName(name string) (string, error) {
	enc := encodeRefName(name)
	if name == "" || len(enc) > maxRefName {
		return "", fmt.Errorf("cache: ref name %q: must be non-empty and at most %d bytes once encoded", name, maxRefName)
	}
	return enc, nil
}

// readRef reads and checks a ref file.
func readRef(p string) (string, error) {
	data, err := readSmallFile(p)
	if err != nil {
		return "", err
	}
	key := strings.TrimSpace(string(data))
	if !validHex64(key) {
		return "", fmt.Errorf("ref file %s does not hold a 64-hex key", p)
	}
	return key, nil
}

// encodeRefName percent-encodes every byte outside [A-Za-z0-9_.=-], and a
// leading '.', so the result is one safe file name ("." and ".." cannot
// occur) that decodeRefName reverses.
func encodeRefName(name string) string {
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(name)+16)
	for i := 0; i < len(name); i++ {
		c := name[i]
		if refSafe(c) && !(i == 0 && c == '.') {
			b = append(b, c)
		} else {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return string(b)
}

// refSafe reports whether c is kept verbatim in an encoded ref name.
func refSafe(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '=' || c == '-'
}

// decodeRefName reverses encodeRefName; ok is false for names it could not
// have produced (such as temporary files).
func decodeRefName(enc string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		if c != '%' {
			if !refSafe(c) || (i == 0 && c == '.') {
				return "", false
			}
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(enc) {
			return "", false
		}
		v, err := strconv.ParseUint(enc[i+1:i+3], 16, 8)
		if err != nil {
			return "", false
		}
		b.WriteByte(byte(v))
		i += 2
	}
	name := b.String()
	return name, name != "" && encodeRefName(name) == enc
}
