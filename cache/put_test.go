package cache

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func TestPutRestoreFile(t *testing.T) {
	cases := []struct {
		name string
		data string
		mode os.FileMode
	}{
		{"plain", "hello, world\n", 0o644},
		{"executable", "#!/bin/sh\necho hi\n", 0o755},
		{"empty", "", 0o644},
		{"big", strings.Repeat("0123456789abcdef", 200_000), 0o644}, // > 1 MiB buffer
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t)
			src := filepath.Join(t.TempDir(), "in.txt")
			writeFile(t, src, []byte(tc.data), tc.mode)
			a, err := s.Put(src)
			if err != nil {
				t.Fatal(err)
			}
			want := Artifact{Type: TypeFile, Digest: sha256Hex([]byte(tc.data)), Size: int64(len(tc.data)), Files: 1, Exec: tc.mode&0o100 != 0}
			if a != want {
				t.Fatalf("Put = %+v, want %+v", a, want)
			}
			fi, err := os.Stat(s.ObjectPath(a.Digest))
			if err != nil || fi.Mode().Perm() != 0o444 {
				t.Fatalf("object %s: %v, mode %v; want read-only 0444", s.ObjectPath(a.Digest), err, fi.Mode())
			}
			dst := filepath.Join(t.TempDir(), "sub", "dir", "out.txt")
			if err := s.Restore(a, dst); err != nil {
				t.Fatal(err)
			}
			if got := string(readFile(t, dst)); got != tc.data {
				t.Fatalf("restored content differs: %d bytes, want %d", len(got), len(tc.data))
			}
			dfi, _ := os.Stat(dst)
			if dfi.Mode().Perm() != tc.mode {
				t.Fatalf("restored mode %v, want %v", dfi.Mode().Perm(), tc.mode)
			}
		})
	}
}

// buildTree creates a tree with nested dirs, an executable, an empty file,
// an empty directory and an internal relative symlink.
func buildTree(t *testing.T, root string) {
	writeFile(t, filepath.Join(root, "a.txt"), []byte("alpha"), 0o644)
	writeFile(t, filepath.Join(root, "a", "b", "c.bin"), []byte{0, 1, 2, 3}, 0o644)
	writeFile(t, filepath.Join(root, "bin", "run.sh"), []byte("#!/bin/sh\n"), 0o755)
	writeFile(t, filepath.Join(root, "empty"), nil, 0o644)
	writeFile(t, filepath.Join(root, "dup.txt"), []byte("alpha"), 0o644)
	if err := os.MkdirAll(filepath.Join(root, "void", "deeper"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../a.txt", filepath.Join(root, "bin", "link")); err != nil {
		t.Fatal(err)
	}
}

func TestPutRestoreTree(t *testing.T) {
	s := openStore(t)
	src := filepath.Join(t.TempDir(), "tree")
	buildTree(t, src)
	a, err := s.Put(src)
	if err != nil {
		t.Fatal(err)
	}
	if a.Type != TypeTree || a.Files != 5 || a.Size != 5+4+10+0+5 {
		t.Fatalf("Put tree = %+v, want 5 files, 24 bytes", a)
	}
	d, err := s.Digest(src)
	if err != nil || d != a {
		t.Fatalf("Digest = %+v, %v; want %+v", d, err, a)
	}
	if ok, err := s.Has(a); !ok || err != nil {
		t.Fatalf("Has = %v, %v", ok, err)
	}
	if err := s.Verify(a); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "restored")
	if err := s.Restore(a, dst); err != nil {
		t.Fatal(err)
	}
	if got, want := snapshot(t, dst), snapshot(t, src); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored tree\n%v\nwant\n%v", got, want)
	}
	// The restored tree hashes to the same artifact without being read.
	before := s.HashStats()
	if d, err := s.Digest(dst); err != nil || d != a {
		t.Fatalf("Digest(restored) = %+v, %v; want %+v", d, err, a)
	}
	if after := s.HashStats(); after.BytesHashed != before.BytesHashed || after.FilesHashed != before.FilesHashed {
		t.Fatalf("Digest of a just-restored tree re-read files: %+v -> %+v", before, after)
	}
}

func TestTreeDigestDependsOnStructure(t *testing.T) {
	s := openStore(t)
	base := t.TempDir()
	mk := func(name string, f func(root string)) Artifact {
		root := filepath.Join(base, name)
		writeFile(t, filepath.Join(root, "x"), []byte("x"), 0o644)
		f(root)
		a, err := s.Digest(root)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	ref := mk("ref", func(string) {})
	variants := map[string]func(root string){
		"renamed":   func(r string) { os.Rename(filepath.Join(r, "x"), filepath.Join(r, "y")) },
		"exec":      func(r string) { os.Chmod(filepath.Join(r, "x"), 0o755) },
		"empty dir": func(r string) { os.Mkdir(filepath.Join(r, "d"), 0o755) },
		"symlink":   func(r string) { os.Symlink("x", filepath.Join(r, "l")) },
	}
	for name, f := range variants {
		if a := mk(strings.ReplaceAll(name, " ", "_"), f); a.Digest == ref.Digest {
			t.Errorf("%s: tree digest unchanged", name)
		}
	}
	if again := mk("same", func(string) {}); again.Digest != ref.Digest {
		t.Errorf("identical trees in different places have digests %s and %s", again.Digest, ref.Digest)
	}
}

func TestPutIdempotent(t *testing.T) {
	s := openStore(t)
	src := filepath.Join(t.TempDir(), "tree")
	buildTree(t, src)
	a1, err := s.Put(src)
	if err != nil {
		t.Fatal(err)
	}
	objs := snapshot(t, filepath.Join(s.Root(), objectsDir))
	a2, err := s.Put(src)
	if err != nil || a2 != a1 {
		t.Fatalf("second Put = %+v, %v; want %+v", a2, err, a1)
	}
	if again := snapshot(t, filepath.Join(s.Root(), objectsDir)); !reflect.DeepEqual(again, objs) {
		t.Fatal("second Put changed the object store")
	}
	if n := len(snapshot(t, filepath.Join(s.Root(), tmpDir))); n != 1 { // just tmp itself
		t.Fatalf("tmp holds %d entries after Put, want none", n-1)
	}
}

func TestPutReplacesWrongSizeObject(t *testing.T) {
	s := openStore(t)
	src := filepath.Join(t.TempDir(), "f")
	writeFile(t, src, []byte("content"), 0o644)
	a, err := s.Put(src)
	if err != nil {
		t.Fatal(err)
	}
	obj := s.ObjectPath(a.Digest)
	os.Chmod(obj, 0o644)
	os.WriteFile(obj, []byte("trunc"), 0o444)
	if ok, _ := s.Has(a); ok {
		t.Fatal("Has reports a truncated object as present")
	}
	if _, err := s.Put(src); err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(a); err != nil {
		t.Fatalf("Put did not repair a truncated object: %v", err)
	}
}

func TestDigestErrors(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	if _, err := s.Digest(filepath.Join(dir, "nope")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Digest(missing) = %v, want fs.ErrNotExist", err)
	}
	fifo := filepath.Join(dir, "tree", "fifo")
	os.MkdirAll(filepath.Dir(fifo), 0o755)
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(filepath.Dir(fifo)); err == nil || !strings.Contains(err.Error(), fifo) {
		t.Fatalf("Put(tree with fifo) = %v, want an error naming %s", err, fifo)
	}
	if _, err := s.Put(fifo); err == nil {
		t.Fatal("Put(fifo) succeeded")
	}
}

func TestSymlinks(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	outside := filepath.Join(dir, "outside.txt")
	writeFile(t, outside, []byte("secret"), 0o644)
	cases := []struct {
		name, link, target string
		ok                 bool
	}{
		{"relative inside", "sub/l", "../f", true},
		{"dangling inside", "l", "missing", true},
		{"link to dir inside", "d", "sub", true},
		{"absolute", "l", outside, false},
		{"escaping lexically", "sub/l", "../../outside.txt", false},
		// sub/up -> ".." is the tree root; lexically "sub/up/../../outside.txt"
		// is "outside.txt" inside the tree, but physically it leaves it.
		{"escaping through a link", "l", "sub/up/../../outside.txt", false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(dir, "t", string(rune('a'+i)))
			writeFile(t, filepath.Join(root, "f"), []byte("f"), 0o644)
			os.MkdirAll(filepath.Join(root, "sub"), 0o755)
			if err := os.Symlink("..", filepath.Join(root, "sub", "up")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(tc.target, filepath.Join(root, tc.link)); err != nil {
				t.Fatal(err)
			}
			a, err := s.Put(root)
			if tc.ok != (err == nil) {
				t.Fatalf("Put = %v, want ok=%v", err, tc.ok)
			}
			if !tc.ok {
				return
			}
			dst := filepath.Join(t.TempDir(), "r")
			if err := s.Restore(a, dst); err != nil {
				t.Fatal(err)
			}
			if got, want := snapshot(t, dst), snapshot(t, root); !reflect.DeepEqual(got, want) {
				t.Fatalf("restored %v, want %v", got, want)
			}
		})
	}
	// A symlink given as the top-level path is followed.
	top := filepath.Join(dir, "top")
	os.Symlink(outside, top)
	a, err := s.Put(top)
	if err != nil || a.Digest != sha256Hex([]byte("secret")) {
		t.Fatalf("Put(symlink to file) = %+v, %v", a, err)
	}
}

func TestConcurrentPutDigestRestore(t *testing.T) {
	s := openStore(t)
	src := filepath.Join(t.TempDir(), "tree")
	buildTree(t, src)
	want, err := s.Digest(src)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	errs := make(chan error, 12)
	for i := 0; i < 4; i++ {
		go func() {
			a, err := s.Put(src)
			if err == nil && a != want {
				err = errors.New("concurrent Put gave a different artifact")
			}
			errs <- err
		}()
		go func() { _, err := s.Digest(src); errs <- err }()
		go func(i int) {
			a, err := s.Put(src)
			if err == nil {
				err = s.Restore(a, filepath.Join(out, string(rune('a'+i))))
			}
			errs <- err
		}(i)
	}
	for i := 0; i < 12; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if err := s.Verify(want); err != nil {
		t.Fatal(err)
	}
}
