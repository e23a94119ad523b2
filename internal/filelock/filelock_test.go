package filelock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func open(t *testing.T, p string) *os.File {
	t.Helper()
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestPollWaitsForTheHolder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	a, b := open(t, p), open(t, p)
	if err := Poll(context.Background(), a, syscall.LOCK_EX, time.Millisecond, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	go func() {
		time.Sleep(50 * time.Millisecond)
		close(released)
		_ = syscall.Flock(int(a.Fd()), syscall.LOCK_UN)
	}()
	if err := Poll(context.Background(), b, syscall.LOCK_EX, time.Millisecond, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	select {
	case <-released:
	default:
		t.Fatal("the second lock was taken while the first was held")
	}
}

func TestPollSharedLocksCoexist(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	for _, f := range []*os.File{open(t, p), open(t, p)} {
		if err := Poll(context.Background(), f, syscall.LOCK_SH, time.Millisecond, time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPollStopsWhenCancelled(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	a, b := open(t, p), open(t, p)
	if err := Poll(context.Background(), a, syscall.LOCK_EX, time.Millisecond, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := Poll(ctx, b, syscall.LOCK_EX, time.Millisecond, 5*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the context's error", err)
	}
}

func TestPollReportsAnUnlockableFile(t *testing.T) {
	f := open(t, filepath.Join(t.TempDir(), "lock"))
	f.Close()
	if err := Poll(context.Background(), f, syscall.LOCK_EX, time.Millisecond, time.Millisecond); err == nil {
		t.Fatal("a closed file was locked")
	}
}
