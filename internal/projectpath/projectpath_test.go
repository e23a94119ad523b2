package projectpath

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// layout builds, under a temporary folder:
//
//	outside/victim.txt           a file that must never be touched
//	proj/real/file.txt           a folder inside the project
//	proj/in -> real              a relative link that stays inside
//	proj/absin -> <abs>/real     an absolute link that stays inside
//	proj/out -> ../outside       a relative link that leaves
//	proj/absout -> <abs>/outside an absolute link that leaves
//	proj/chain -> in2, in2 -> out  a chain of links that ends outside
//	proj/loop -> loop            a loop
//	proj/real/up -> ..           a link to the project root
//
// and returns the project folder and the outside folder.
func layout(t *testing.T) (proj, outside string) {
	t.Helper()
	base := t.TempDir()
	proj, outside = filepath.Join(base, "proj"), filepath.Join(base, "outside")
	must(t, os.MkdirAll(filepath.Join(proj, "real"), 0o755))
	must(t, os.MkdirAll(outside, 0o755))
	must(t, os.WriteFile(filepath.Join(outside, "victim.txt"), []byte("precious"), 0o644))
	must(t, os.WriteFile(filepath.Join(proj, "real", "file.txt"), []byte("x"), 0o644))
	for link, target := range map[string]string{
		"in": "real", "absin": filepath.Join(proj, "real"), "out": "../outside",
		"absout": outside, "chain": "in2", "in2": "out", "loop": "loop", "real/up": "..",
	} {
		must(t, os.Symlink(target, filepath.Join(proj, link)))
	}
	return proj, outside
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestResolve(t *testing.T) {
	proj, _ := layout(t)
	realProj, _ := filepath.EvalSymlinks(proj)
	cases := []struct {
		rel        string
		followLast bool
		want       string // relative to the project; "" when an error is expected
		wantErr    string
	}{
		{rel: "real/file.txt", want: "real/file.txt"},
		{rel: "in/file.txt", want: "real/file.txt"},
		{rel: "absin/new/deeper.txt", want: "real/new/deeper.txt"},
		{rel: "real/up/in/x", want: "real/x"},
		{rel: "missing/a/../b", want: "missing/b"},
		{rel: "in", want: "in"},                                      // the last component is a name
		{rel: "in", followLast: true, want: "real"},                  // ... unless followed
		{rel: "out", want: "out"},                                    // removing or replacing the link itself is fine
		{rel: "out", followLast: true, wantErr: "out -> ../outside"}, // reading through it is not
		{rel: "out/victim.txt", wantErr: "out/victim.txt leaves the project through the symbolic link out -> ../outside"},
		{rel: "absout/victim.txt", wantErr: "through the symbolic link absout -> "},
		{rel: "chain/victim.txt", wantErr: "through the symbolic link out -> ../outside"},
		{rel: "in/../../outside/victim.txt", wantErr: "leaves the project"},
		{rel: "/etc/passwd", wantErr: "leaves the project"},
		{rel: "loop/x", wantErr: "too many levels of symbolic links"},
	}
	for _, tc := range cases {
		t.Run(tc.rel, func(t *testing.T) {
			got, err := resolve(proj, tc.rel, tc.followLast)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("resolve(%q) = %q, %v; want an error containing %q", tc.rel, got, err, tc.wantErr)
				}
				if !strings.Contains(tc.wantErr, "too many") && !errors.Is(err, ErrEscape) {
					t.Fatalf("error %v does not wrap ErrEscape", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(realProj, tc.want); got != want {
				t.Fatalf("resolve(%q) = %q, want %q", tc.rel, got, want)
			}
		})
	}
}

func TestRemoveAllStaysInside(t *testing.T) {
	proj, outside := layout(t)
	victim := filepath.Join(outside, "victim.txt")
	for _, rel := range []string{"out/victim.txt", "absout/victim.txt", "chain/victim.txt", "../outside/victim.txt", victim} {
		if err := RemoveAll(proj, rel); !errors.Is(err, ErrEscape) {
			t.Errorf("RemoveAll(%q) = %v, want an escape error", rel, err)
		}
	}
	if _, err := os.Stat(victim); err != nil {
		t.Fatalf("the file outside the project was removed: %v", err)
	}
	// A link as the last component is removed itself, not its target.
	must(t, RemoveAll(proj, "out"))
	if _, err := os.Lstat(filepath.Join(proj, "out")); !os.IsNotExist(err) {
		t.Fatalf("the link out is still there: %v", err)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Fatalf("removing the link removed its target: %v", err)
	}
	// Through a link that stays inside, the file is removed.
	must(t, RemoveAll(proj, "in/file.txt"))
	if _, err := os.Stat(filepath.Join(proj, "real", "file.txt")); !os.IsNotExist(err) {
		t.Fatalf("in/file.txt was not removed: %v", err)
	}
	must(t, RemoveAll(proj, "missing/nothing")) // nothing to remove is fine
	if err := RemoveAll(proj, "."); err == nil {
		t.Fatal("RemoveAll(.) removed the project")
	}
}

func TestMkdirAllAndOpenParent(t *testing.T) {
	proj, outside := layout(t)
	must(t, MkdirAll(proj, "in/a/b"))
	if fi, err := os.Stat(filepath.Join(proj, "real", "a", "b")); err != nil || !fi.IsDir() {
		t.Fatalf("in/a/b was not created under real: %v", err)
	}
	if err := MkdirAll(proj, "out/new"); !errors.Is(err, ErrEscape) {
		t.Fatalf("MkdirAll(out/new) = %v, want an escape error", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "new")); !os.IsNotExist(err) {
		t.Fatal("MkdirAll created a folder outside the project")
	}
	r, name, err := OpenParent(proj, "absin/c/file.bin")
	must(t, err)
	defer r.Close()
	must(t, r.WriteFile(name, []byte("data"), 0o644))
	if b, err := os.ReadFile(filepath.Join(proj, "real", "c", "file.bin")); err != nil || string(b) != "data" {
		t.Fatalf("OpenParent wrote elsewhere: %q, %v", b, err)
	}
	for _, rel := range []string{"out/victim.txt", "..", "/abs"} {
		if _, _, err := OpenParent(proj, rel); !errors.Is(err, ErrEscape) {
			t.Errorf("OpenParent(%q) = %v, want an escape error", rel, err)
		}
	}
}

// TestSwappedLink is the race: a folder checked as inside is replaced by a link out of the
// project after OpenParent returned; writes through the returned root still land inside.
func TestSwappedLink(t *testing.T) {
	proj, outside := layout(t)
	r, name, err := OpenParent(proj, "work/victim.txt")
	must(t, err)
	defer r.Close()
	must(t, os.Rename(filepath.Join(proj, "work"), filepath.Join(proj, "work.old")))
	must(t, os.Symlink(outside, filepath.Join(proj, "work")))
	must(t, r.WriteFile(name, []byte("new"), 0o644))
	if b, _ := os.ReadFile(filepath.Join(outside, "victim.txt")); string(b) != "precious" {
		t.Fatalf("the write followed the swapped link: outside file is %q", b)
	}
	// A path resolved afresh sees the link and refuses it.
	if err := RemoveAll(proj, "work/victim.txt"); !errors.Is(err, ErrEscape) {
		t.Fatalf("RemoveAll after the swap = %v, want an escape error", err)
	}
}

func TestWithin(t *testing.T) {
	for _, tc := range []struct {
		p    string
		want bool
	}{{"/p", true}, {"/p/a/b", true}, {"/pa", false}, {"/", false}, {"/p/../q", false}} {
		if _, ok := Within("/p", filepath.Clean(tc.p)); ok != tc.want {
			t.Errorf("Within(/p, %s) = %v, want %v", tc.p, ok, tc.want)
		}
	}
}
