package cache

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pcamflow/pcamflow/internal/projectpath"
)

func TestRestoreReplacesExisting(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	writeFile(t, file, []byte("new file"), 0o644)
	fa, _ := s.Put(file)
	tree := filepath.Join(dir, "tree")
	buildTree(t, tree)
	ta, _ := s.Put(tree)

	cases := []struct {
		name  string
		a     Artifact
		setup func(dst string)
	}{
		{"file over file", fa, func(d string) { writeFile(t, d, []byte("old"), 0o644) }},
		{"file over dir", fa, func(d string) { writeFile(t, filepath.Join(d, "x"), []byte("old"), 0o644) }},
		{"tree over dir", ta, func(d string) { writeFile(t, filepath.Join(d, "stale"), []byte("old"), 0o644) }},
		{"tree over file", ta, func(d string) { writeFile(t, d, []byte("old"), 0o644) }},
		{"tree over read-only dir", ta, func(d string) {
			writeFile(t, filepath.Join(d, "ro", "x"), []byte("old"), 0o444)
			os.Chmod(filepath.Join(d, "ro"), 0o555)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dst := filepath.Join(parent, "dst")
			tc.setup(dst)
			if err := s.Restore(tc.a, dst); err != nil {
				t.Fatal(err)
			}
			src := file
			if tc.a.Type == TypeTree {
				src = tree
			}
			if got, want := snapshot(t, dst), snapshot(t, src); !reflect.DeepEqual(got, want) {
				t.Fatalf("restored %v, want %v", got, want)
			}
			if des, _ := os.ReadDir(parent); len(des) != 1 {
				t.Fatalf("Restore left siblings behind: %v", des)
			}
		})
	}
}

func TestRestoreCorrupt(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	writeFile(t, file, []byte("precious"), 0o644)
	tree := filepath.Join(dir, "tree")
	buildTree(t, tree)
	cases := []struct {
		name   string
		src    string
		damage func(s *Store, a Artifact) string // returns the damaged object path
		want   error
	}{
		{"tampered file", file, func(s *Store, a Artifact) string { p := s.ObjectPath(a.Digest); tamper(t, p); return p }, ErrCorrupt},
		{"missing file", file, func(s *Store, a Artifact) string { p := s.ObjectPath(a.Digest); os.Remove(p); return p }, ErrMissing},
		{"tampered manifest", tree, func(s *Store, a Artifact) string { p := s.ObjectPath(a.Digest); tamper(t, p); return p }, ErrCorrupt},
		{"tampered tree blob", tree, func(s *Store, a Artifact) string {
			p := s.ObjectPath(sha256Hex([]byte("#!/bin/sh\n")))
			tamper(t, p)
			return p
		}, ErrCorrupt},
		{"missing tree blob", tree, func(s *Store, a Artifact) string {
			p := s.ObjectPath(sha256Hex([]byte{0, 1, 2, 3}))
			os.Remove(p)
			return p
		}, ErrMissing},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t)
			a, err := s.Put(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			obj := tc.damage(s, a)
			parent := t.TempDir()
			dst := filepath.Join(parent, "dst")
			writeFile(t, filepath.Join(dst, "keep"), []byte("old"), 0o644)
			before := snapshot(t, parent)

			err = s.Restore(a, dst)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), obj) {
				t.Fatalf("Restore = %v, want %v naming %s", err, tc.want, obj)
			}
			if after := snapshot(t, parent); !reflect.DeepEqual(after, before) {
				t.Fatalf("failed Restore changed the destination: %v, was %v", after, before)
			}
			if err := s.Verify(a); !errors.Is(err, tc.want) || !strings.Contains(err.Error(), obj) {
				t.Fatalf("Verify = %v, want %v naming %s", err, tc.want, obj)
			}
			ok, err := s.Has(a)
			if tc.want == ErrMissing && (ok || err != nil) {
				t.Fatalf("Has = %v, %v; want false, nil", ok, err)
			}
		})
	}
}

func TestInvalidArtifact(t *testing.T) {
	s := openStore(t)
	bad := []Artifact{
		{Type: "blob", Digest: strings.Repeat("a", 64)},
		{Type: TypeFile, Digest: "../../etc/passwd"},
		{Type: TypeTree, Digest: strings.Repeat("A", 64)},
	}
	for _, a := range bad {
		if err := s.Restore(a, filepath.Join(t.TempDir(), "x")); err == nil {
			t.Errorf("Restore(%+v) succeeded", a)
		}
		if _, err := s.Has(a); err == nil {
			t.Errorf("Has(%+v) succeeded", a)
		}
		if err := s.Verify(a); err == nil {
			t.Errorf("Verify(%+v) succeeded", a)
		}
	}
	if p := s.ObjectPath("../x"); p != "" {
		t.Errorf("ObjectPath(invalid) = %q, want empty", p)
	}
}

// TestRestoreConfined: after ConfineRestores(project), Restore writes inside the project (also
// through links that stay inside) and in the store, and refuses any destination whose folders lead
// out of the project through a link, or that lies outside, without writing anything there.
func TestRestoreConfined(t *testing.T) {
	s := openStore(t)
	base := t.TempDir()
	proj, outside := filepath.Join(base, "proj"), filepath.Join(base, "outside")
	writeFile(t, filepath.Join(outside, "victim.txt"), []byte("precious"), 0o644)
	writeFile(t, filepath.Join(proj, "real", "keep"), []byte("k"), 0o644)
	for link, target := range map[string]string{"link": "../outside", "abslink": outside, "in": "real"} {
		if err := os.Symlink(target, filepath.Join(proj, link)); err != nil {
			t.Fatal(err)
		}
	}
	src := filepath.Join(base, "src")
	writeFile(t, src, []byte("cached bytes"), 0o644)
	fa, _ := s.Put(src)
	tree := filepath.Join(base, "tree")
	buildTree(t, tree)
	ta, _ := s.Put(tree)
	if err := s.ConfineRestores(proj); err != nil {
		t.Fatal(err)
	}
	for _, dst := range []string{
		filepath.Join(proj, "link", "victim.txt"),
		filepath.Join(proj, "abslink", "victim.txt"),
		filepath.Join(proj, "link", "new", "tree"),
		filepath.Join(outside, "victim.txt"),
		filepath.Join(proj, "..", "outside", "victim.txt"),
	} {
		for _, a := range []Artifact{fa, ta} {
			if err := s.Restore(a, dst); !errors.Is(err, projectpath.ErrEscape) {
				t.Errorf("Restore(%s, %s) = %v, want an escape error", a.Type, dst, err)
			}
		}
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "victim.txt")); string(b) != "precious" {
		t.Fatalf("the file outside the project was overwritten: %q", b)
	}
	if des, _ := os.ReadDir(outside); len(des) != 1 {
		t.Fatalf("Restore left entries outside the project: %v", des)
	}
	for _, dst := range []string{
		filepath.Join(proj, "in", "f"), filepath.Join(proj, "out", "deep", "f"),
		filepath.Join(s.Root(), "out", "node", "f"),
	} {
		if err := s.Restore(fa, dst); err != nil {
			t.Fatalf("Restore to %s: %v", dst, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(proj, "real", "f")); string(b) != "cached bytes" {
		t.Fatalf("restore through the in-project link: got %q", b)
	}
	// A link as the destination itself is replaced, not followed.
	if err := s.Restore(fa, filepath.Join(proj, "link")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(filepath.Join(proj, "link")); fi == nil || !fi.Mode().IsRegular() {
		t.Fatalf("the link at the destination was not replaced by the file: %v", fi)
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "victim.txt")); string(b) != "precious" {
		t.Fatalf("the file outside the project was overwritten: %q", b)
	}
}
