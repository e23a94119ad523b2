package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"
)

// bufSize is the read buffer used for hashing and copying: large enough that
// the per-read overhead is negligible next to SHA-256.
const bufSize = 1 << 20

var bufPool = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// hashReader streams r through SHA-256 (and, if w is not nil, copies it to w)
// using a pooled 1 MiB buffer. It returns the hex digest and the byte count.
func hashReader(r io.Reader, w io.Writer) (string, int64, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	h := sha256.New()
	var n int64
	for {
		k, err := r.Read(buf)
		if k > 0 {
			h.Write(buf[:k])
			if w != nil {
				if _, werr := w.Write(buf[:k]); werr != nil {
					return "", n, fmt.Errorf("write copy: %w", werr)
				}
			}
			n += int64(k)
		}
		if errors.Is(err, io.EOF) {
			return hexSum(h), n, nil
		}
		if err != nil {
			return "", n, err
		}
	}
}

// hexSum returns the lowercase hex form of h's sum.
func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// sha256Hex returns the hex SHA-256 of data.
func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// hashObject re-hashes the object file at path, copying its content to w if w
// is not nil, and checks it against digest and, if size >= 0, size. A missing
// file yields ErrMissing, a mismatch ErrCorrupt; both name the object path.
func (s *Store) hashObject(path, digest string, size int64, w io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("object %s (digest %s): %w", path, digest, ErrMissing)
		}
		return fmt.Errorf("open object %s: %w", path, err)
	}
	defer f.Close()
	got, n, err := hashReader(f, w)
	s.objsVerified.Add(1)
	s.bytesVerified.Add(n)
	if err != nil {
		return fmt.Errorf("read object %s: %w", path, err)
	}
	if got != digest {
		return fmt.Errorf("object %s: content hashes to %s, expected %s: %w", path, got, digest, ErrCorrupt)
	}
	if size >= 0 && n != size {
		return fmt.Errorf("object %s: size %d, expected %d: %w", path, n, size, ErrCorrupt)
	}
	return nil
}
