package runner

import (
	"bytes"
	"fmt"
	"os"
	"unicode/utf8"

	"github.com/pcamflow/pcamflow/cache"
)

// describeDifference says where the twin's output at path first departs from the cached output
// o, reading the cached version from the object store (a command may have overwritten the
// project's copy), or "" for a folder output.
func (r *Runner) describeDifference(o cache.Output, path string) string {
	if o.Type != cache.TypeFile {
		return ""
	}
	return firstDifference(r.store.ObjectPath(o.Digest), path)
}

// maxDiffBytes is the largest file whose first difference verify describes.
const maxDiffBytes = 4 << 20

// firstDifference describes where two versions of an output first differ, for a person who has
// to find out why a node is not reproducible: the line of a small text file, the byte offset of
// a small binary file, or "" when either is not a regular file, is large, or cannot be read.
func firstDifference(cached, twin string) string {
	a, okA := readSmall(cached)
	b, okB := readSmall(twin)
	if !okA || !okB {
		return ""
	}
	if !utf8.Valid(a) || !utf8.Valid(b) || bytes.IndexByte(a, 0) >= 0 || bytes.IndexByte(b, 0) >= 0 {
		i := 0
		for i < len(a) && i < len(b) && a[i] == b[i] {
			i++
		}
		return fmt.Sprintf("first differing byte at offset %d (sizes %d and %d)", i, len(a), len(b))
	}
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := 0; i < len(la) || i < len(lb); i++ {
		var x, y []byte
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if !bytes.Equal(x, y) {
			return fmt.Sprintf("line %d: cached %q, twin %q", i+1, clip(x), clip(y))
		}
	}
	return ""
}

// readSmall reads a regular file of at most maxDiffBytes.
func readSmall(path string) ([]byte, bool) {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() || st.Size() > maxDiffBytes {
		return nil, false
	}
	b, err := os.ReadFile(path)
	return b, err == nil
}

// clip shortens a line for a message.
func clip(b []byte) string {
	const n = 160
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
