package cache

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// digestCost digests p and returns the artifact and how many bytes were read.
func digestCost(t *testing.T, s *Store, p string) (Artifact, int64) {
	t.Helper()
	before := s.HashStats().BytesHashed
	a, err := s.Digest(p)
	if err != nil {
		t.Fatal(err)
	}
	return a, s.HashStats().BytesHashed - before
}

func TestStatCacheSkipsUnchangedFile(t *testing.T) {
	s := openStore(t)
	p := filepath.Join(t.TempDir(), "big")
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	writeFile(t, p, data, 0o644)
	a1, n1 := digestCost(t, s, p)
	a2, n2 := digestCost(t, s, p)
	if n1 != int64(len(data)) || n2 != 0 || a1 != a2 {
		t.Fatalf("first digest read %d bytes, second %d (want %d, 0); artifacts %v %v", n1, n2, len(data), a1, a2)
	}
	if hs := s.HashStats(); hs.StatHits != 1 || hs.FilesHashed != 1 {
		t.Fatalf("HashStats = %+v, want 1 hashed, 1 hit", hs)
	}
}

func TestStatCacheDetectsChanges(t *testing.T) {
	cases := []struct {
		name       string
		change     func(t *testing.T, p string)
		sameDigest bool
	}{
		{"content, same size, same mtime", func(t *testing.T, p string) {
			fi, _ := os.Stat(p)
			os.WriteFile(p, []byte("HELLO"), 0o644)
			os.Chtimes(p, fi.ModTime(), fi.ModTime()) // ctime still changes
		}, false},
		{"content and size", func(t *testing.T, p string) { writeFile(t, p, []byte("hello world"), 0o644) }, false},
		{"touch", func(t *testing.T, p string) { age(t, p, 30*time.Minute) }, true},
		{"replaced by rename", func(t *testing.T, p string) {
			q := p + ".new"
			writeFile(t, q, []byte("hello"), 0o644)
			os.Rename(q, p)
		}, true},
		{"chmod +x", func(t *testing.T, p string) { os.Chmod(p, 0o755) }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t)
			p := filepath.Join(t.TempDir(), "f")
			writeFile(t, p, []byte("hello"), 0o644)
			a1, _ := digestCost(t, s, p)
			tc.change(t, p)
			a2, n := digestCost(t, s, p)
			if n == 0 {
				t.Fatal("change not detected: file was not re-read")
			}
			if (a1.Digest == a2.Digest) != tc.sameDigest {
				t.Fatalf("digest %s -> %s, want same=%v", a1.Digest, a2.Digest, tc.sameDigest)
			}
		})
	}
}

func TestStatCacheRacilyClean(t *testing.T) {
	s := openStore(t)
	p := filepath.Join(t.TempDir(), "fresh")
	if err := os.WriteFile(p, []byte("just written"), 0o644); err != nil {
		t.Fatal(err)
	}
	digestCost(t, s, p)
	if _, n := digestCost(t, s, p); n == 0 {
		t.Fatal("a file modified within the racy window was trusted from the stat cache")
	}
	age(t, p, time.Hour)
	digestCost(t, s, p)
	if _, n := digestCost(t, s, p); n != 0 {
		t.Fatal("an old file was re-read")
	}
}

func TestStatCachePersistence(t *testing.T) {
	root := filepath.Join(t.TempDir(), "ws")
	dir := t.TempDir()
	var paths []string
	for _, n := range []string{"a", "b", "c"} {
		p := filepath.Join(dir, n)
		writeFile(t, p, []byte("content "+n), 0o644)
		paths = append(paths, p)
	}
	s1, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths[:2] {
		s1.Digest(p)
	}
	// A second process-like store flushes a different entry meanwhile.
	s2, _ := Open(root)
	s2.Digest(paths[2])
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	s3, _ := Open(root)
	defer s3.Close()
	if n := s3.stats.len(); n != 3 {
		t.Fatalf("reopened stat cache has %d entries, want 3 (merged from both stores)", n)
	}
	for _, p := range paths {
		if _, n := digestCost(t, s3, p); n != 0 {
			t.Fatalf("%s re-read after reopening", p)
		}
	}
}

func TestStatCacheCorruptFileTolerated(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	writeFile(t, p, []byte("data"), 0o644)
	root := filepath.Join(t.TempDir(), "ws")
	s, _ := Open(root)
	s.Digest(p)
	s.Close()
	valid := readFile(t, filepath.Join(root, statFileName))
	flipped := append([]byte(nil), valid...)
	flipped[len(flipped)/2] ^= 1
	cases := map[string][]byte{
		"garbage":   []byte("this is not a stat cache"),
		"empty":     {},
		"truncated": valid[:len(valid)-10],
		"bit flip":  flipped,
		"huge count": append(append([]byte(nil), statMagic...),
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(root, statFileName), content, 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := Open(root)
			if err != nil {
				t.Fatalf("Open with a corrupt stat cache: %v", err)
			}
			if a, n := digestCost(t, s, p); n != 4 || a.Digest != sha256Hex([]byte("data")) {
				t.Fatalf("digest %v read %d bytes, want a fresh hash of 4 bytes", a, n)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close rebuilt cache: %v", err)
			}
			if m, err := readStatFile(filepath.Join(root, statFileName)); err != nil || len(m) != 1 {
				t.Fatalf("rebuilt stat cache: %d entries, %v", len(m), err)
			}
		})
	}
}

func TestStatCacheSkipsTmp(t *testing.T) {
	s := openStore(t)
	stage, err := s.TempDir("stage-")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(stage, "out")
	writeFile(t, p, []byte("staged"), 0o644)
	if _, err := s.Put(p); err != nil {
		t.Fatal(err)
	}
	if n := s.stats.len(); n != 0 {
		t.Fatalf("stat cache holds %d entries for staged files, want 0", n)
	}
}
