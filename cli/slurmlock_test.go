package cli_test

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

var clusterLockOnce sync.Once

// lockCluster serialises the tests of every package that use the one local Slurm cluster (`go test
// -p 2` runs packages at once, and some tests drain the node): the first cluster test of a test
// process takes an exclusive lock on a file in the temp folder and keeps it until the process
// exits. The slurm package's tests take the same lock.
func lockCluster(t testing.TB) {
	t.Helper()
	clusterLockOnce.Do(func() {
		f, err := os.OpenFile(filepath.Join(os.TempDir(), "pcamflow-slurm-tests.lock"), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			t.Logf("not serialising with other packages' Slurm tests: %v", err)
			return
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			t.Logf("not serialising with other packages' Slurm tests: %v", err)
		}
		// f stays open (and locked) until the test process exits.
	})
}
