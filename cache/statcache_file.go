package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"sort"
	"syscall"
)

// The stat cache file is: magic, uvarint entry count, then per entry a
// uvarint path length, the path bytes and a fixed 81-byte body (device,
// inode, size, mtime, ctime, hashedAt as little-endian 64-bit integers, the
// 32-byte digest, a flags byte), and finally a CRC-32C of everything before.
// Any mismatch makes the whole file ignored.
var statMagic = []byte("PCFSTAT\x01")

const statBodyLen = 6*8 + 32 + 1

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// load replaces the in-memory entries with those of the cache file. A
// missing, unreadable or corrupt file leaves the cache empty.
func (c *statCache) load() {
	m, err := readStatFile(c.path)
	if err != nil {
		m = make(map[string]statEntry)
	}
	c.mu.Lock()
	c.entries = m
	c.dirty = make(map[string]bool)
	c.mu.Unlock()
}

// flush merges the entries set since the last flush into the file under an
// exclusive lock on lockPath, writing through a temporary file in tmpDir.
func (c *statCache) flush(lockPath, tmpDir string) error {
	c.wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.dirty) == 0 {
		return nil
	}
	lf, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("cache: flush stat cache: open lock %s: %w", lockPath, err)
	}
	defer lf.Close()
	if err := flockRetry(lf, syscall.LOCK_EX); err != nil {
		return fmt.Errorf("cache: flush stat cache: lock %s: %w", lockPath, err)
	}
	defer syscall.Flock(int(lf.Fd()), syscall.LOCK_UN)
	merged, err := readStatFile(c.path)
	if err != nil {
		merged = make(map[string]statEntry)
	}
	for p := range c.dirty {
		mine := c.entries[p]
		if theirs, ok := merged[p]; !ok || theirs.hashedAt <= mine.hashedAt {
			merged[p] = mine
		}
	}
	prune(merged, maxStatEntries)
	if err := writeFileAtomic(tmpDir, c.path, encodeStatFile(merged), 0o644); err != nil {
		return fmt.Errorf("cache: flush stat cache %s: %w", c.path, err)
	}
	c.entries = merged
	c.dirty = make(map[string]bool)
	return nil
}

// flockRetry calls flock, retrying when interrupted by a signal.
func flockRetry(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// prune drops the entries hashed longest ago until at most max remain.
func prune(m map[string]statEntry, max int) {
	if len(m) <= max {
		return
	}
	paths := make([]string, 0, len(m))
	for p := range m {
		paths = append(paths, p)
	}
	sort.Slice(paths, func(i, j int) bool { return m[paths[i]].hashedAt < m[paths[j]].hashedAt })
	for _, p := range paths[:len(m)-max] {
		delete(m, p)
	}
}

// encodeStatFile serialises entries in path order (so equal caches give
// equal files).
func encodeStatFile(m map[string]statEntry) []byte {
	paths := make([]string, 0, len(m))
	size := len(statMagic) + binary.MaxVarintLen64 + 4
	for p := range m {
		paths = append(paths, p)
		size += binary.MaxVarintLen64 + len(p) + statBodyLen
	}
	sort.Strings(paths)
	b := make([]byte, 0, size)
	b = append(b, statMagic...)
	b = binary.AppendUvarint(b, uint64(len(paths)))
	for _, p := range paths {
		e := m[p]
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
		for _, v := range []uint64{e.id.dev, e.id.ino, uint64(e.id.size), uint64(e.id.mtime), uint64(e.id.ctime), uint64(e.hashedAt)} {
			b = binary.LittleEndian.AppendUint64(b, v)
		}
		b = append(b, e.digest[:]...)
		b = append(b, e.flags)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

// readStatFile reads and decodes the cache file at path.
func readStatFile(path string) (map[string]statEntry, error) {
	b, err := readStoreFile(path)
	if err != nil {
		return nil, err
	}
	return decodeStatFile(b)
}

// errStatFile reports a stat cache file that does not decode.
var errStatFile = errors.New("malformed stat cache file")

// decodeStatFile parses the format written by encodeStatFile. The paths are
// sliced from one string copy of the file, one allocation for all of them.
func decodeStatFile(b []byte) (map[string]statEntry, error) {
	if len(b) < len(statMagic)+4 || string(b[:len(statMagic)]) != string(statMagic) {
		return nil, errStatFile
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, crcTable) != sum {
		return nil, errStatFile
	}
	r := string(body[len(statMagic):])
	n, k := binary.Uvarint([]byte(r[:min(len(r), binary.MaxVarintLen64)]))
	if k <= 0 || n > uint64(len(r)/statBodyLen) {
		return nil, errStatFile
	}
	m := make(map[string]statEntry, n)
	off := k
	for i := uint64(0); i < n; i++ {
		p, e, next, ok := decodeStatEntry(r, off)
		if !ok {
			return nil, errStatFile
		}
		m[p] = e
		off = next
	}
	if off != len(r) {
		return nil, errStatFile
	}
	return m, nil
}

// decodeStatEntry decodes the entry starting at offset off of r and returns
// it with the offset of the next one.
func decodeStatEntry(r string, off int) (string, statEntry, int, bool) {
	var e statEntry
	l, k := binary.Uvarint([]byte(r[off:min(len(r), off+binary.MaxVarintLen64)]))
	if k <= 0 || l == 0 || uint64(len(r)-off-k) < l+statBodyLen {
		return "", e, 0, false
	}
	off += k
	p := r[off : off+int(l)]
	body := r[off+int(l) : off+int(l)+statBodyLen]
	u := func(i int) uint64 { return binary.LittleEndian.Uint64([]byte(body[8*i : 8*i+8])) }
	e.id = fileID{dev: u(0), ino: u(1), size: int64(u(2)), mtime: int64(u(3)), ctime: int64(u(4))}
	e.hashedAt = int64(u(5))
	copy(e.digest[:], body[48:80])
	e.flags = body[80]
	return p, e, off + int(l) + statBodyLen, true
}
