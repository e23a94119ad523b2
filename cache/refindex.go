package cache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
	"unsafe"
)

// The ref index (file refs.index at the store root) is a snapshot of every ref together with the
// key components of the record it points to, so that a plan of N changed nodes reads one file
// instead of N refs and N records to say why each will run. It only ever explains: whether a key
// is cached is still decided by the records themselves.
//
// The index names the state of the refs folder it was built from: the folder's device, inode,
// modification and change times. Every ref is written by a rename into that folder, which
// updates those times, so a reader that finds the folder as the index names it knows no ref was
// written, replaced or removed since. One race remains, a rename in the same timestamp tick as
// the state the builder observed: the builder therefore reads the refs only after that tick is
// over (it waits refIndexTick after observing the state), so such a rename is in the snapshot,
// and any later one gives the folder a later time. On a file system whose times have whole
// seconds only (the observed time has no sub-second part) no index is written.
//
// Layout: the magic line, then the folder state and the entries, every string as a uvarint
// length and its bytes, and the CRC-32C of everything before it (as the stat cache: it detects
// damage, and the file is rebuilt from the refs and records whenever it is in doubt). An index that does not parse,
// whose checksum is wrong, or whose state is not the folder's, is ignored.
const (
	refIndexFile  = "refs.index"
	refIndexMagic = "pcamflow-refs-index 2\n"
	// refIndexTick is how long the builder waits after observing the refs folder's state before
	// reading the refs: longer than one tick of the kernel's file time clock (at most 10 ms).
	refIndexTick = 25 * time.Millisecond
)

// testHookRefIndexRead, when set by a test, is called by UpdateRefIndex after it has read the
// refs and before it checks that they did not change meanwhile.
var testHookRefIndexRead func()

// refsState identifies the content of the refs folder: its device, inode, and its modification
// and change times in nanoseconds.
type refsState struct {
	dev, ino            uint64
	mtimeNs, ctimeNs    int64
	subSecondTimestamps bool
}

// statRefs returns the refs folder's state.
func (s *Store) statRefs() (refsState, error) {
	fi, err := os.Stat(filepath.Join(s.root, refsDir))
	if err != nil {
		return refsState{}, err
	}
	id := fileIDOf(fi)
	return refsState{dev: id.dev, ino: id.ino, mtimeNs: id.mtime, ctimeNs: id.ctime,
		subSecondTimestamps: id.mtime%1e9 != 0 || id.ctime%1e9 != 0}, nil
}

// refIndexEntry is one ref of the index: the key it points to and, encoded, the components of
// that key's record.
type refIndexEntry struct {
	key   string
	comps string // uvarint count, then name and value pairs, each a uvarint length and bytes
	file  refFileID
}

// refFileID identifies one version of a ref file: SetRef renames a new file over the old one, so
// a new version has another inode and a later change time. Off Linux the inode and change time
// are not known (see fileIDOf) and every ref is read again.
type refFileID struct {
	ino     uint64
	ctimeNs int64
	size    int64
}

// known reports whether id can tell two versions of a file apart.
func (id refFileID) known() bool { return id.ino != 0 }

// refIndex is a decoded index: by encoded ref name.
type refIndex struct {
	state   refsState
	entries map[string]refIndexEntry
}

// entry returns the entry of an encoded ref name; ok is false when there is none (or no index).
func (ix *refIndex) entry(name string) (e refIndexEntry, ok bool) {
	if ix == nil {
		return refIndexEntry{}, false
	}
	e, ok = ix.entries[name]
	return e, ok
}

// components decodes an entry's components, in name order.
func (e refIndexEntry) components() ([]Component, error) {
	r := stringReader{s: e.comps}
	n := r.uvarint()
	if r.err != nil || n > uint64(len(e.comps)) {
		return nil, errors.New("bad component count")
	}
	comps := make([]Component, n)
	for i := range comps {
		comps[i] = Component{Name: r.str(), Value: r.str()}
	}
	if r.err != nil || r.off != len(e.comps) {
		return nil, errors.New("bad components")
	}
	return comps, nil
}

// Component is one part of a cache key: its name and value (see Record.Components).
type Component struct {
	Name, Value string
}

// SortedComponents returns a record's components as a list in name order.
func SortedComponents(m map[string]string) []Component {
	comps := make([]Component, 0, len(m))
	for name, v := range m {
		comps = append(comps, Component{Name: name, Value: v})
	}
	slices.SortFunc(comps, func(a, b Component) int { return strings.Compare(a.Name, b.Name) })
	return comps
}

// UpdateRefIndex rewrites the ref index when it does not describe the refs folder as it is (see
// refIndexEntries for what it reads again and what it reuses). Refs whose record is missing or
// unreadable are left out: a plan then finds no previous run for them, as it would reading the
// files. When a ref changes while the index is built, nothing is written: the next update tries
// again. Runs call it at their end.
func (s *Store) UpdateRefIndex() error {
	before, err := s.statRefs()
	if err != nil {
		return fmt.Errorf("cache: update ref index: %w", err)
	}
	data, st, _ := s.readRefIndex()
	if data != nil && st == before {
		return nil // checked whole (checksum) without decoding the entries: 0.35 s less at 100k refs
	}
	old := decodeReadIndex(data)
	if !before.subSecondTimestamps {
		return nil
	}
	time.Sleep(refIndexTick)
	entries, err := s.refIndexEntries(old)
	if err != nil {
		return fmt.Errorf("cache: update ref index: %w", err)
	}
	if testHookRefIndexRead != nil {
		testHookRefIndexRead()
	}
	after, err := s.statRefs()
	if err != nil {
		return fmt.Errorf("cache: update ref index: %w", err)
	}
	if after != before {
		return nil // a ref changed meanwhile: the snapshot may mix two states
	}
	if err := writeFileAtomic(filepath.Join(s.root, tmpDir), filepath.Join(s.root, refIndexFile), encodeRefIndex(before, entries), 0o644); err != nil {
		return fmt.Errorf("cache: update ref index: %w", err)
	}
	return nil
}

// refIndexEntries reads the refs folder into index entries. A ref file that is the version the
// old index read (same inode, change time and size) keeps its entry; the others are read, and
// their components come from the old index when it holds their key (a key's components never
// change), else from their record. Refs whose record is missing or unreadable are left out.
func (s *Store) refIndexEntries(old *refIndex) (map[string]refIndexEntry, error) {
	dir := filepath.Join(s.root, refsDir)
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list refs in %s: %w", dir, err)
	}
	byKey := map[string]string{}
	if old != nil {
		for _, e := range old.entries {
			byKey[e.key] = e.comps
		}
	}
	entries := make(map[string]refIndexEntry, len(des))
	for _, de := range des {
		name := de.Name()
		prev, known := old.entry(name)
		if !de.Type().IsRegular() {
			continue
		}
		if !known { // the old index holds only names SetRef writes
			if _, ok := decodeRefName(name); !ok {
				continue // not written by SetRef
			}
		}
		p := filepath.Join(dir, name)
		// The file's identity before its content: a version renamed in between is read with the
		// older identity, so the next update reads it again (the other order could keep an old key).
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		fid := fileIDOf(fi)
		id := refFileID{ino: fid.ino, ctimeNs: fid.ctime, size: fid.size}
		if known && id.known() && prev.file == id {
			entries[name] = prev
			continue
		}
		key, err := readRef(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		comps, ok := byKey[key]
		if !ok {
			rec, found, err := s.GetRecord(key)
			if err != nil || !found {
				continue
			}
			comps = string(encodeComponents(nil, rec.Components))
			byKey[key] = comps
		}
		entries[name] = refIndexEntry{key: key, comps: comps, file: id}
	}
	return entries, nil
}

// readRefIndex reads the index file and checks it (magic and checksum), returning its bytes and
// the refs folder state it was built for; data is nil without error when there is no file.
func (s *Store) readRefIndex() (data []byte, st refsState, err error) {
	p := filepath.Join(s.root, refIndexFile)
	data, err = readStoreFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, refsState{}, nil
	}
	if err != nil {
		return nil, refsState{}, err
	}
	if st, _, err = checkRefIndex(data); err != nil {
		return nil, refsState{}, fmt.Errorf("ref index %s: %w", p, err)
	}
	return data, st, nil
}

// decodeReadIndex decodes the entries of an index that readRefIndex read; nil for no file or a
// file that does not decode.
func decodeReadIndex(data []byte) *refIndex {
	if data == nil {
		return nil
	}
	ix, err := decodeRefIndex(data)
	if err != nil {
		return nil
	}
	return ix
}

// currentRefIndex returns the index when it describes the refs folder as it is now, else nil.
// The entries are decoded only then.
func (s *Store) currentRefIndex() *refIndex {
	data, st, err := s.readRefIndex()
	if err != nil || data == nil {
		return nil
	}
	if now, err := s.statRefs(); err != nil || now != st {
		return nil
	}
	return decodeReadIndex(data)
}

// encodeRefIndex encodes an index of the refs folder in state st, entries in name order.
func encodeRefIndex(st refsState, entries map[string]refIndexEntry) []byte {
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	b := []byte(refIndexMagic)
	b = binary.AppendUvarint(b, st.dev)
	b = binary.AppendUvarint(b, st.ino)
	b = binary.AppendVarint(b, st.mtimeNs)
	b = binary.AppendVarint(b, st.ctimeNs)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, n := range names {
		e := entries[n]
		b = appendString(b, n)
		b = appendString(b, e.key)
		b = appendString(b, e.comps)
		b = binary.AppendUvarint(b, e.file.ino)
		b = binary.AppendVarint(b, e.file.ctimeNs)
		b = binary.AppendVarint(b, e.file.size)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

// checkRefIndex checks an index file's magic and checksum and reads its header: the refs folder
// state, and a reader positioned at the entry count.
func checkRefIndex(data []byte) (refsState, stringReader, error) {
	if len(data) < len(refIndexMagic)+4 || !bytes.HasPrefix(data, []byte(refIndexMagic)) {
		return refsState{}, stringReader{}, errors.New("not a ref index")
	}
	body := data[:len(data)-4]
	if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(data[len(body):]) {
		return refsState{}, stringReader{}, errors.New("checksum mismatch")
	}
	// The entries' strings are substrings of the file's bytes, which nothing writes after this.
	rest := body[len(refIndexMagic):]
	r := stringReader{s: unsafe.String(unsafe.SliceData(rest), len(rest))}
	st := refsState{dev: r.uvarint(), ino: r.uvarint(), mtimeNs: r.varint(), ctimeNs: r.varint(), subSecondTimestamps: true}
	if r.err != nil {
		return refsState{}, stringReader{}, errors.New("bad header")
	}
	return st, r, nil
}

// decodeRefIndex parses an index file; it checks the checksum and the shape of every entry
// (components are decoded when asked for).
func decodeRefIndex(data []byte) (*refIndex, error) {
	st, r, err := checkRefIndex(data)
	if err != nil {
		return nil, err
	}
	ix := &refIndex{state: st}
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.s)) {
		return nil, errors.New("bad entry count")
	}
	ix.entries = make(map[string]refIndexEntry, n)
	for range n {
		name, key, comps := r.str(), r.str(), r.str()
		file := refFileID{ino: r.uvarint(), ctimeNs: r.varint(), size: r.varint()}
		if r.err != nil || !validHex64(key) {
			return nil, errors.New("bad entry")
		}
		ix.entries[name] = refIndexEntry{key: key, comps: comps, file: file}
	}
	if r.off != len(r.s) {
		return nil, errors.New("trailing bytes")
	}
	return ix, nil
}

// encodeComponents appends a component map, names in order.
func encodeComponents(b []byte, comps map[string]string) []byte {
	names := make([]string, 0, len(comps))
	for n := range comps {
		names = append(names, n)
	}
	sort.Strings(names)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, n := range names {
		b = appendString(b, n)
		b = appendString(b, comps[n])
	}
	return b
}

// appendString appends s as a uvarint length and its bytes.
func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// stringReader decodes uvarints and length-prefixed strings from s, remembering the first error;
// strings are substrings of s (no copies).
type stringReader struct {
	s   string
	off int
	err error
}

func (r *stringReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	var v uint64
	for i, shift := 0, uint(0); i < binary.MaxVarintLen64 && r.off < len(r.s); i, shift = i+1, shift+7 {
		c := r.s[r.off]
		r.off++
		if c < 0x80 {
			return v | uint64(c)<<shift
		}
		v |= uint64(c&0x7f) << shift
	}
	r.err = errors.New("bad number")
	return 0
}

func (r *stringReader) varint() int64 {
	u := r.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (r *stringReader) str() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.s)-r.off) {
		r.err = errors.New("string past the end")
		return ""
	}
	s := r.s[r.off : r.off+int(n)]
	r.off += int(n)
	return s
}

// LastComponents returns the key components of the record the ref name points to (the last run
// of a node), in name order, as GetRef followed by GetRecord would give them; ok is false when
// there is no ref or no record, and errors are GetRef's and GetRecord's. When the ref index
// describes the refs folder as it is, the answer comes from the index (a record is taken to exist
// when the listing of its shard holds its key) and no ref or record file is opened.
func (l *Listing) LastComponents(name string) ([]Component, bool, error) {
	enc, err := refFileName(name)
	if err != nil {
		return nil, false, err
	}
	if ix := l.refIndex(); ix != nil {
		e, ok := ix.entries[enc]
		if !ok {
			return nil, false, nil
		}
		if keys := l.shard(e.key[:2]); keys != nil {
			if !keys[e.key] {
				return nil, false, nil
			}
			if comps, err := e.components(); err == nil {
				return comps, true, nil
			}
		}
	}
	key, ok, err := l.GetRef(name)
	if err != nil || !ok {
		return nil, false, err
	}
	rec, ok, err := l.GetRecord(key)
	if err != nil || !ok {
		return nil, false, err
	}
	return SortedComponents(rec.Components), true, nil
}

// refIndex returns the ref index if it is current, reading it on first use (other look-ups of
// the listing do not wait for it).
func (l *Listing) refIndex() *refIndex {
	l.indexOnce.Do(func() { l.index = l.s.currentRefIndex() })
	return l.index
}

// PrefetchRefIndex reads the ref index on another goroutine, so that it is ready when the first
// LastComponents asks for it.
func (l *Listing) PrefetchRefIndex() {
	go l.refIndex()
}
