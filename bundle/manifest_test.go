package bundle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTree writes files (slash paths => content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestManifestVerify(t *testing.T) {
	files := map[string]string{"a.txt": "alpha", "lib/libx.so.1": "elf", "model/model.ckpt": "weights"}
	for _, c := range []struct {
		name   string
		tamper func(dir string)
		want   []string
	}{
		{"intact", func(string) {}, nil},
		{"flipped byte", func(dir string) {
			_ = os.WriteFile(filepath.Join(dir, "model", "model.ckpt"), []byte("weighus"), 0o644)
		}, []string{"changed: model/model.ckpt"}},
		{"missing", func(dir string) { _ = os.Remove(filepath.Join(dir, "lib", "libx.so.1")) }, []string{"missing: lib/libx.so.1"}},
		{"extra", func(dir string) { _ = os.WriteFile(filepath.Join(dir, "z.txt"), nil, 0o644) }, []string{"extra: z.txt"}},
		{"all three", func(dir string) {
			_ = os.WriteFile(filepath.Join(dir, "a.txt"), []byte("alphA"), 0o644)
			_ = os.Remove(filepath.Join(dir, "model", "model.ckpt"))
			_ = os.WriteFile(filepath.Join(dir, "lib", "new.so"), nil, 0o644)
		}, []string{"changed: a.txt", "extra: lib/new.so", "missing: model/model.ckpt"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, files)
			if err := writeManifest(dir); err != nil {
				t.Fatal(err)
			}
			c.tamper(dir)
			probs, n, err := Verify(dir)
			if err != nil || n != 3 {
				t.Fatalf("Verify: %d files, %v", n, err)
			}
			var got []string
			for _, p := range probs {
				got = append(got, p.State+": "+p.Path)
			}
			if strings.Join(got, "; ") != strings.Join(c.want, "; ") {
				t.Errorf("problems %q, want %q", got, c.want)
			}
		})
	}
}

func TestManifestFormat(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"b": "x", "a/c": ""})
	if err := writeManifest(dir); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, ManifestName))
	want := "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881  b\n"
	if !strings.HasSuffix(string(data), want) || !strings.HasPrefix(string(data), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a/c\n") {
		t.Errorf("manifest is not sha256sum format sorted by path:\n%s", data)
	}
	for _, bad := range []string{"nonsense\n", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  ../etc/passwd\n"} {
		_ = os.WriteFile(filepath.Join(dir, ManifestName), []byte(bad), 0o644)
		if _, _, err := Verify(dir); err == nil {
			t.Errorf("manifest %q accepted", bad)
		}
	}
	if _, _, err := Verify(filepath.Join(dir, "none")); err == nil || !strings.Contains(err.Error(), "has no MANIFEST.sha256") {
		t.Errorf("missing manifest: %v", err)
	}
}
