package train

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
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
	wait := 10 * time.Millisecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("locking the resume folder %s: %w", dir, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, ctx.Err()
		}
		wait = min(2*wait, time.Second)
	}
}
