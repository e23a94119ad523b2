package train

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pcamflow/pcamflow/internal/filelock"
)

// lockResume takes an exclusive lock on the resume folder dir (creating it) and returns the
// function that releases it. Every budget of one configuration shares that folder (ChildSpec.Budget)
// while the runner locks each budget's key on its own, so two budgets of one configuration could
// otherwise train into the same checkpoint at once; the second waits for the first instead, then
// continues from where it stopped. The lock is a flock on a file of the folder: it holds between
// processes and between executions in one process, and the operating system drops it when a
// process dies.
func lockResume(ctx context.Context, dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p := filepath.Join(dir, "lock")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking the resume folder: %w", err)
	}
	if err := filelock.Poll(ctx, f, syscall.LOCK_EX, 10*time.Millisecond, time.Second); err != nil {
		f.Close()
		if err == ctx.Err() {
			return nil, err
		}
		return nil, fmt.Errorf("locking the resume folder %s: %w", dir, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}
