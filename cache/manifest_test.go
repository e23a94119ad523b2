package cache

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRestoreRejectsHostileManifest stores manifests that hash correctly but
// describe entries that would escape the destination or are malformed, and
// checks that Restore refuses them with ErrCorrupt and writes nothing.
func TestRestoreRejectsHostileManifest(t *testing.T) {
	blob := sha256Hex([]byte("x"))
	file := func(p string) string {
		return `{"path":"` + p + `","type":"file","digest":"` + blob + `","size":1}`
	}
	cases := map[string]string{
		"parent path":       file("../evil"),
		"absolute path":     file("/tmp/evil"),
		"dot path":          file("."),
		"unclean path":      file("a//b"),
		"absolute link":     `{"path":"l","type":"symlink","target":"/etc/passwd"}`,
		"escaping link":     `{"path":"a/l","type":"symlink","target":"../../x"}`,
		"empty link":        `{"path":"l","type":"symlink"}`,
		"unknown type":      `{"path":"d","type":"device"}`,
		"bad digest":        `{"path":"f","type":"file","digest":"zz","size":1}`,
		"negative size":     `{"path":"f","type":"file","digest":"` + blob + `","size":-1}`,
		"dir with digest":   `{"path":"d","type":"dir","digest":"` + blob + `"}`,
		"duplicate":         file("f") + "," + file("f"),
		"unsorted":          file("b") + "," + file("a"),
		"unknown field":     `{"path":"f","type":"dir","mode":"0777"}`,
		"link with content": `{"path":"l","type":"symlink","target":"x","size":3}`,
	}
	for name, entries := range cases {
		t.Run(name, func(t *testing.T) {
			s := openStore(t)
			if err := s.putBlob(blob, []byte("x")); err != nil {
				t.Fatal(err)
			}
			data := []byte(`{"format":"` + manifestFormat + `","entries":[` + entries + `]}`)
			d := sha256Hex(data)
			if err := s.putBlob(d, data); err != nil {
				t.Fatal(err)
			}
			parent := t.TempDir()
			dst := filepath.Join(parent, "sub", "dst")
			err := s.Restore(Artifact{Type: TypeTree, Digest: d}, dst)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), s.ObjectPath(d)) {
				t.Fatalf("Restore = %v, want ErrCorrupt naming the manifest object", err)
			}
			if des, _ := os.ReadDir(filepath.Join(parent, "sub")); len(des) != 0 {
				t.Fatalf("a rejected Restore wrote %v", des)
			}
			if _, err := os.Lstat(filepath.Join(parent, "evil")); err == nil {
				t.Fatal("a hostile manifest wrote outside the destination")
			}
		})
	}
	t.Run("wrong format", func(t *testing.T) {
		if _, err := decodeManifest([]byte(`{"format":"v0","entries":[]}`)); err == nil {
			t.Fatal("accepted an unknown manifest format")
		}
	})
}

func TestStatCachePrune(t *testing.T) {
	m := map[string]statEntry{}
	for i, p := range []string{"/c", "/a", "/d", "/b"} {
		m[p] = statEntry{hashedAt: int64(i)}
	}
	prune(m, 2)
	if len(m) != 2 || m["/d"].hashedAt != 2 || m["/b"].hashedAt != 3 {
		t.Fatalf("prune kept %v, want the two hashed last (/d, /b)", m)
	}
}

func TestRefsIgnoresForeignFiles(t *testing.T) {
	s := openStore(t)
	if err := s.SetRef("a/b", key("k")); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"%zz", "%4", ".tmp", "%2f", "bad space"} {
		os.WriteFile(filepath.Join(s.Root(), refsDir, n), []byte(key("k")+"\n"), 0o644)
	}
	refs, err := s.Refs()
	if err != nil || len(refs) != 1 || refs["a/b"] != key("k") {
		t.Fatalf("Refs = %v, %v; want only a/b", refs, err)
	}
}
