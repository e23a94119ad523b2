package cache

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// gcFixture is a store with two records: "live" (referenced by a ref, with
// a file output and a tree output) and "dead" (unreferenced, with its own
// file output and one blob shared with the live tree).
type gcFixture struct {
	s                  *Store
	liveFile, liveTree Artifact
	deadFile           Artifact
	liveKey, deadKey   string
}

func newGCFixture(t *testing.T) gcFixture {
	s := openStore(t)
	dir := t.TempDir()
	put := func(rel string, files map[string]string) Artifact {
		for name, content := range files {
			writeFile(t, filepath.Join(dir, rel, name), []byte(content), 0o644)
		}
		p := filepath.Join(dir, rel)
		if len(files) == 1 {
			for name := range files {
				p = filepath.Join(p, name)
			}
		}
		a, err := s.Put(p)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	f := gcFixture{s: s, liveKey: key("live"), deadKey: key("dead")}
	f.liveFile = put("lf", map[string]string{"metrics.json": "live metrics"})
	f.liveTree = put("lt", map[string]string{"a": "shared blob", "b": "only live"})
	f.deadFile = put("df", map[string]string{"x": "dead output, 29 bytes long.."})
	deadTree := put("dt", map[string]string{"c": "shared blob", "d": "dead"})
	rec := func(k string, outs map[string]Artifact) {
		r := &Record{Key: k, Node: "n", Outputs: map[string]Output{}}
		for n, a := range outs {
			r.Outputs[n] = Output{Artifact: a, Path: n}
		}
		if err := s.PutRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	rec(f.liveKey, map[string]Artifact{"m": f.liveFile, "t": f.liveTree})
	rec(f.deadKey, map[string]Artifact{"x": f.deadFile, "t": deadTree})
	if err := s.SetRef("pcam/command.live", f.liveKey); err != nil {
		t.Fatal(err)
	}
	return f
}

// countObjects returns the number of object files in the store.
func countObjects(t *testing.T, s *Store) int {
	n := 0
	forEachShardFile(filepath.Join(s.Root(), objectsDir), func(string, os.FileInfo) error { n++; return nil })
	return n
}

func TestGCRemovesUnreferenced(t *testing.T) {
	f := newGCFixture(t)
	s := f.s
	// Objects: live file, live tree manifest + 2 blobs, dead file, dead
	// manifest + 1 own blob (its other blob is shared) = 7.
	if n := countObjects(t, s); n != 7 {
		t.Fatalf("fixture has %d objects, want 7", n)
	}
	deadRecord, _ := os.Stat(s.recordPath(f.deadKey))
	deadManifest := sha256HexFile(t, s, f.deadKey)
	wantBytes := deadRecord.Size() + int64(len("dead output, 29 bytes long..")) + int64(len("dead")) + deadManifest

	dry, err := s.GC(GCOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := countObjects(t, s); n != 7 {
		t.Fatalf("dry run removed objects: %d left", n)
	}
	st, err := s.GC(GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := GCStats{RecordsRemoved: 1, ObjectsRemoved: 3, BytesFreed: wantBytes}
	if st != want || dry != want {
		t.Fatalf("GC = %+v, dry run %+v; want %+v", st, dry, want)
	}
	if _, ok, _ := s.GetRecord(f.deadKey); ok {
		t.Fatal("unreferenced record survived")
	}
	if r, ok, err := s.GetRecord(f.liveKey); !ok || err != nil {
		t.Fatalf("referenced record lost: %v %v", r, err)
	}
	for _, a := range []Artifact{f.liveFile, f.liveTree} {
		if err := s.Verify(a); err != nil {
			t.Fatalf("live artifact damaged by GC: %v", err)
		}
	}
	if ok, _ := s.Has(f.deadFile); ok {
		t.Fatal("dead object survived")
	}
	if again, _ := s.GC(GCOptions{}); again != (GCStats{}) {
		t.Fatalf("second GC removed more: %+v", again)
	}
}

// sha256HexFile returns the size of the manifest object of the "t" output
// of record k.
func sha256HexFile(t *testing.T, s *Store, k string) int64 {
	r, _, err := s.GetRecord(k)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(s.ObjectPath(r.Outputs["t"].Digest))
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestGCKeepAllRecords(t *testing.T) {
	f := newGCFixture(t)
	st, err := f.s.GC(GCOptions{KeepAllRecords: true})
	if err != nil {
		t.Fatal(err)
	}
	if st.RecordsRemoved != 0 || st.ObjectsRemoved != 0 {
		t.Fatalf("GC with KeepAllRecords removed %+v", st)
	}
	if ok, _ := f.s.Has(f.deadFile); !ok {
		t.Fatal("object of a kept record removed")
	}
}

func TestGCTmp(t *testing.T) {
	s := openStore(t)
	oldDir, _ := s.TempDir("stage-")
	writeFile(t, filepath.Join(oldDir, "ro", "out.bin"), []byte("12345"), 0o444)
	os.Chmod(filepath.Join(oldDir, "ro"), 0o555)
	age(t, oldDir, 2*time.Hour)
	oldFile := filepath.Join(s.Root(), tmpDir, "obj-123")
	writeFile(t, oldFile, []byte("abc"), 0o644)
	age(t, oldFile, 2*time.Hour)
	young, _ := s.TempDir("running-")
	writeFile(t, filepath.Join(young, "x"), []byte("x"), 0o644)
	os.Chtimes(young, time.Now(), time.Now())

	st, err := s.GC(GCOptions{MinTmpAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if st.TmpRemoved != 2 || st.BytesFreed != 8 {
		t.Fatalf("GC = %+v, want 2 tmp entries and 8 bytes", st)
	}
	for _, p := range []string{oldDir, oldFile} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Fatalf("old tmp entry %s survived", p)
		}
	}
	if _, err := os.Stat(filepath.Join(young, "x")); err != nil {
		t.Fatal("young tmp entry removed")
	}
}

func TestGCCorruptKeptRecordAborts(t *testing.T) {
	f := newGCFixture(t)
	p := f.s.recordPath(f.liveKey)
	os.WriteFile(p, []byte("{broken"), 0o644)
	before := countObjects(t, f.s)
	_, err := f.s.GC(GCOptions{})
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("GC = %v, want an error naming %s", err, p)
	}
	if countObjects(t, f.s) != before {
		t.Fatal("GC removed objects although it failed")
	}
	if _, ok, _ := f.s.GetRecord(f.deadKey); !ok {
		t.Fatal("GC removed records although it failed")
	}
}
