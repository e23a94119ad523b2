// Package filelock takes flock(2) locks by polling, so that waiting for a lock can be cancelled.
package filelock

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

// Poll takes the flock how (syscall.LOCK_EX or syscall.LOCK_SH) on f, retrying with LOCK_NB
// after a pause that starts at minWait and doubles up to maxWait, until it succeeds or ctx is
// done. It returns nil once the lock is held, ctx.Err() (unwrapped) when ctx ended first, or the
// flock error when the lock cannot be taken at all. The operating system drops the lock when f is
// closed or the process dies.
func Poll(ctx context.Context, f *os.File, how int, minWait, maxWait time.Duration) error {
	wait := minWait
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		wait = min(2*wait, maxWait)
	}
}
