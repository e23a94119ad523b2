package cache

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRefsOddNames(t *testing.T) {
	s := openStore(t)
	names := []string{
		"pcam/command.prep",
		"pcam/sweep.hpo[3]",
		"pcam/train.mlp[seed=2]",
		".", "..", ".hidden", "a..b",
		"100%", "%41", "with space", "ünïcödé", "back\\slash", "new\nline",
	}
	want := map[string]string{}
	for i, n := range names {
		k := key(n)
		if err := s.SetRef(n, k); err != nil {
			t.Fatalf("SetRef(%q): %v", n, err)
		}
		want[n] = k
		if i%2 == 0 { // overwrite half of them
			k = key(n + "2")
			if err := s.SetRef(n, k); err != nil {
				t.Fatal(err)
			}
			want[n] = k
		}
	}
	for _, n := range names {
		got, ok, err := s.GetRef(n)
		if err != nil || !ok || got != want[n] {
			t.Errorf("GetRef(%q) = %q, %v, %v; want %q", n, got, ok, err, want[n])
		}
	}
	all, err := s.Refs()
	if err != nil || !reflect.DeepEqual(all, want) {
		t.Fatalf("Refs = %v, %v; want %v", all, err, want)
	}
	des, _ := os.ReadDir(filepath.Join(s.Root(), refsDir))
	if len(des) != len(names) {
		t.Fatalf("refs directory holds %d entries, want %d (one file per ref, no subdirectories)", len(des), len(names))
	}
	if _, ok, err := s.GetRef("absent"); ok || err != nil {
		t.Fatalf("GetRef(absent) = %v, %v", ok, err)
	}
}

func TestRefErrors(t *testing.T) {
	s := openStore(t)
	if err := s.SetRef("", key("x")); err == nil {
		t.Error("SetRef accepted an empty name")
	}
	if err := s.SetRef(strings.Repeat("/", 100), key("x")); err == nil {
		t.Error("SetRef accepted a name too long to be a file name")
	}
	if err := s.SetRef("n", "not-a-key"); err == nil {
		t.Error("SetRef accepted an invalid key")
	}
	p := filepath.Join(s.Root(), refsDir, "broken")
	os.WriteFile(p, []byte("garbage\n"), 0o644)
	if _, _, err := s.GetRef("broken"); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("GetRef(broken) = %v, want an error naming %s", err, p)
	}
	if _, err := s.Refs(); err == nil {
		t.Error("Refs ignored a malformed ref file")
	}
}

// TestEncodeRefNameIsStable pins the file names of refs: they are on disk in every workspace, so
// the encoding must never change.
func TestEncodeRefNameIsStable(t *testing.T) {
	tests := map[string]string{
		"p.hcl/command.a":          "p.hcl%2Fcommand.a",
		`p.hcl/command.shard["0"]`: "p.hcl%2Fcommand.shard%5B%220%22%5D",
		".hidden":                  "%2Ehidden",
		"a.b":                      "a.b",
		"x=1_y-2":                  "x=1_y-2",
		"\x00\x7f\xff %":           "%00%7F%FF%20%25",
		"train.mlp[\"über\"]":      "train.mlp%5B%22%C3%BCber%22%5D",
	}
	for name, want := range tests {
		if got := encodeRefName(name); got != want {
			t.Errorf("encodeRefName(%q) = %q, want %q", name, got, want)
		}
		if back, ok := decodeRefName(want); !ok || back != name {
			t.Errorf("decodeRefName(%q) = %q, %v; want %q", want, back, ok, name)
		}
	}
}
