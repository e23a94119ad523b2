package cache

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestMain runs the helper-process modes used by the cross-process lock
// tests, and removes the benchmark's large input file afterwards.
func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	code := m.Run()
	cleanupBench()
	os.Exit(code)
}

// openStore opens a store in a fresh temporary directory and closes it at
// the end of the test.
func openStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), ".pcamflow"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// writeFile creates p (and its parents) with data and mode, and dates it an
// hour back so that the stat cache trusts it (it is not "racily clean").
func writeFile(t testing.TB, p string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	age(t, p, time.Hour)
}

// age sets p's access and modification times to d ago.
func age(t testing.TB, p string, d time.Duration) {
	t.Helper()
	old := time.Now().Add(-d)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
}

// readFile returns p's content or fails the test.
func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tamper flips one byte of the object at p, keeping its size.
func tamper(t testing.TB, p string) {
	t.Helper()
	b := readFile(t, p)
	if len(b) == 0 {
		t.Fatalf("cannot tamper with empty object %s", p)
	}
	b[0] ^= 0xff
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o444); err != nil {
		t.Fatal(err)
	}
}

// snapshot returns a description of every entry under root (path, type,
// mode, content) for comparing trees.
func snapshot(t testing.TB, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "link:" + target
		case fi.IsDir():
			out[rel] = "dir"
		default:
			b, _ := os.ReadFile(p)
			out[rel] = fi.Mode().Perm().String() + ":" + string(bytes.Clone(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
