package runner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFirstDifference(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, a, b, want string
	}{
		{"text line", "{\n \"x\": 1\n}\n", "{\n \"x\": 2\n}\n", `line 2: cached " \"x\": 1", twin " \"x\": 2"`},
		{"longer twin", "a\n", "a\nb\n", `line 2: cached "", twin "b"`},
		{"binary", "\x00\x01\x02", "\x00\x01\x03", "first differing byte at offset 2 (sizes 3 and 3)"},
		{"equal", "same", "same", ""},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := write(c.name+"a", c.a)
			b := write(c.name+"b", c.b)
			if got := firstDifference(a, b); got != c.want {
				t.Errorf("case %d: got %q, want %q", i, got, c.want)
			}
		})
	}
	if got := firstDifference(filepath.Join(dir, "missing"), write("x", "x")); got != "" {
		t.Errorf("a missing file: got %q, want nothing", got)
	}
	if got := firstDifference(dir, dir); got != "" {
		t.Errorf("a folder: got %q, want nothing", got)
	}
	long := strings.Repeat("a", 500)
	if got := firstDifference(write("l1", long), write("l2", long+"b")); !strings.Contains(got, "…") {
		t.Errorf("a long line is not clipped: %q", got)
	}
}
