package cache

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// simulateCrash makes every publication stop just before its rename, as if
// the process died there, for the duration of the test. Since a real crash
// would not run the error path's clean-up, the finished temporary file is
// first hard-linked to a name that the clean-up does not know.
func simulateCrash(t *testing.T) {
	errCrash := errors.New("simulated crash")
	testHookBeforeRename = func(tmp, _ string) error {
		if err := os.Link(tmp, tmp+"-crashed"); err != nil {
			t.Error(err)
		}
		return errCrash
	}
	t.Cleanup(func() { testHookBeforeRename = nil })
}

func TestCrashBeforeRenameLeavesNoObject(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "tree")
	buildTree(t, src)
	want, err := s.Digest(src)
	if err != nil {
		t.Fatal(err)
	}
	simulateCrash(t)
	if _, err := s.Put(src); err == nil {
		t.Fatal("Put succeeded through a simulated crash")
	}
	if n := countObjects(t, s); n != 0 {
		t.Fatalf("%d objects visible after a crash before rename", n)
	}
	if ok, err := s.Has(want); ok || err != nil {
		t.Fatalf("Has = %v, %v after crash", ok, err)
	}
	if err := s.PutRecord(&Record{Key: key("n"), Outputs: map[string]Output{"o": {Artifact: want}}}); err == nil {
		t.Fatal("PutRecord accepted a record whose objects never landed")
	}
	leftovers, _ := os.ReadDir(filepath.Join(s.Root(), tmpDir))
	if len(leftovers) == 0 {
		t.Fatal("the simulated crash left no temporary file (test does not exercise anything)")
	}

	testHookBeforeRename = nil
	got, err := s.Put(src)
	if err != nil || got != want {
		t.Fatalf("Put after the crash = %+v, %v; want %+v", got, err, want)
	}
	if err := s.Verify(got); err != nil {
		t.Fatal(err)
	}
	for _, l := range leftovers {
		age(t, filepath.Join(s.Root(), tmpDir, l.Name()), 2*time.Hour)
	}
	st, err := s.GC(GCOptions{MinTmpAge: time.Hour, KeepAllRecords: true})
	if err != nil {
		t.Fatal(err)
	}
	if st.TmpRemoved != len(leftovers) {
		t.Fatalf("GC removed %d tmp entries, want %d", st.TmpRemoved, len(leftovers))
	}
}

func TestCrashBeforeRecordRename(t *testing.T) {
	s := openStore(t)
	src := filepath.Join(t.TempDir(), "f")
	writeFile(t, src, []byte("out"), 0o644)
	a, _ := s.Put(src)
	k := key("n")
	if err := s.PutRecord(&Record{Key: k, RunID: "old", Outputs: map[string]Output{"o": {Artifact: a}}}); err != nil {
		t.Fatal(err)
	}
	simulateCrash(t)
	if err := s.PutRecord(&Record{Key: k, RunID: "new", Outputs: map[string]Output{"o": {Artifact: a}}}); err == nil {
		t.Fatal("PutRecord succeeded through a simulated crash")
	}
	if err := s.SetRef("r", k); err == nil {
		t.Fatal("SetRef succeeded through a simulated crash")
	}
	r, ok, err := s.GetRecord(k)
	if err != nil || !ok || r.RunID != "old" {
		t.Fatalf("after a crash the record is %+v, %v, %v; want the old one intact", r, ok, err)
	}
	if _, ok, _ := s.GetRef("r"); ok {
		t.Fatal("a crashed SetRef left a ref")
	}
}

func TestCrashDuringRestoreLeavesDestination(t *testing.T) {
	s := openStore(t)
	src := filepath.Join(t.TempDir(), "f")
	writeFile(t, src, []byte("new"), 0o644)
	a, _ := s.Put(src)
	dst := filepath.Join(t.TempDir(), "dst")
	writeFile(t, dst, []byte("old"), 0o644)
	// A leftover from a restore that died half-way sits next to dst.
	os.WriteFile(filepath.Join(filepath.Dir(dst), ".pcamflow-restore-123"), []byte("ne"), 0o600)
	if got := string(readFile(t, dst)); got != "old" {
		t.Fatalf("dst = %q", got)
	}
	if err := s.Restore(a, dst); err != nil {
		t.Fatal(err)
	}
	if got := string(readFile(t, dst)); got != "new" {
		t.Fatalf("dst = %q, want new", got)
	}
}
