package cache

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
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
