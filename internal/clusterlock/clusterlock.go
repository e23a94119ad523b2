// Package clusterlock serialises tests that use the one local Slurm cluster across test processes:
// `go test -p 2` runs packages at once, and some of their tests drain the cluster's only node.
package clusterlock

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

var (
	once sync.Once
	// held keeps the locked file reachable: an unreachable *os.File is closed by its finalizer at
	// the next garbage collection, which would release the lock in the middle of a test run.
	held *os.File
)

// Lock takes, on the first call of a test process, an exclusive lock on a file in the temp folder
// and keeps it until the process exits, so the cluster tests of different packages do not overlap.
func Lock(t testing.TB) {
	t.Helper()
	once.Do(func() {
		f, err := os.OpenFile(filepath.Join(os.TempDir(), "pcamflow-slurm-tests.lock"), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			t.Logf("not serialising with other packages' Slurm tests: %v", err)
			return
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			t.Logf("not serialising with other packages' Slurm tests: %v", err)
		}
		held = f // stays open, and locked, until the test process exits
	})
}
