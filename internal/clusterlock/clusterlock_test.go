package clusterlock

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestLockSurvivesGarbageCollection checks from another process (flock -n) that the lock is still
// held after garbage collections: an unreferenced *os.File would be closed by its finalizer.
func TestLockSurvivesGarbageCollection(t *testing.T) {
	flock, err := exec.LookPath("flock")
	if err != nil {
		t.Skip("flock (util-linux) is not installed")
	}
	t.Setenv("TMPDIR", t.TempDir()) // a private lock file: never wait for real cluster tests
	Lock(t)
	for range 3 {
		runtime.GC()
		time.Sleep(50 * time.Millisecond) // finalizers run on their own goroutine
	}
	err = exec.Command(flock, "-n", filepath.Join(os.TempDir(), "pcamflow-slurm-tests.lock"), "true").Run()
	if err == nil {
		t.Fatal("another process took the cluster lock while this test process holds it")
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("flock -n: %v, want exit status 1 (lock busy)", err)
	}
}
