package cache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/pcamflow/pcamflow/internal/filelock"
)

// Lock polling: LOCK_NB attempts start this far apart and back off to the
// maximum, so a released lock is picked up quickly without busy waiting.
const (
	lockPollMin = time.Millisecond
	lockPollMax = 50 * time.Millisecond
)

// workspaceLockName is the lock file of LockWorkspace under root/locks. Key
// lock files are named <64 hex>.lock and cannot collide with it.
const workspaceLockName = "workspace.lock"

// LockKey takes the exclusive lock of a cache key (64 lowercase hex digits),
// which excludes other goroutines of this process and other processes, also
// on other hosts when root/locks is on a shared file system whose flock is
// honoured across clients (Linux NFS emulates it with fcntl locks). It blocks
// until the lock is acquired or ctx is done, in which case it returns ctx's
// error. The returned function releases the lock; calling it more than once
// is harmless. The kernel releases the lock if the holder dies, even by
// SIGKILL.
func (s *Store) LockKey(ctx context.Context, key string) (unlock func(), err error) {
	if !validHex64(key) {
		return nil, fmt.Errorf("cache: lock key %q: not 64 lowercase hex digits", key)
	}
	sem := s.keySemRef(key)
	if err := sem.lock(ctx, true); err != nil {
		s.keySemUnref(key)
		return nil, fmt.Errorf("cache: lock key %s: %w", key, err)
	}
	p := filepath.Join(s.root, locksDir, key+".lock")
	f, err := flockPoll(ctx, p, syscall.LOCK_EX)
	if err != nil {
		sem.unlock(true)
		s.keySemUnref(key)
		return nil, fmt.Errorf("cache: lock key %s: %w", key, err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			funlock(f)
			sem.unlock(true)
			s.keySemUnref(key)
		})
	}, nil
}

// LockWorkspace takes the workspace-wide lock, shared (runs) or exclusive
// (gc), across goroutines and processes with the same semantics as LockKey.
// Within a process all shared holders share one file description, so that
// on file systems where flock is emulated by per-process fcntl locks (NFS)
// one holder's release cannot drop another's lock.
func (s *Store) LockWorkspace(ctx context.Context, exclusive bool) (unlock func(), err error) {
	ws := &s.ws
	if err := ws.sem.lock(ctx, exclusive); err != nil {
		return nil, fmt.Errorf("cache: lock workspace %s: %w", s.root, err)
	}
	p := filepath.Join(s.root, locksDir, workspaceLockName)
	if err := ws.acquireFile(ctx, p, exclusive); err != nil {
		ws.sem.unlock(exclusive)
		return nil, fmt.Errorf("cache: lock workspace %s: %w", s.root, err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			ws.releaseFile()
			ws.sem.unlock(exclusive)
		})
	}, nil
}

// workspaceLock is the in-process side of LockWorkspace: an RW semaphore and
// the one lock file description shared by all holders in this process.
type workspaceLock struct {
	sem rwSem

	fileMu chan struct{} // a mutex that can be waited for with a context
	holds  int
	f      *os.File
}

// acquireFile takes the file lock for one more in-process holder; the first
// holder opens and locks the file, later (shared) holders reuse it.
func (w *workspaceLock) acquireFile(ctx context.Context, p string, exclusive bool) error {
	select {
	case w.fileMu <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-w.fileMu }()
	if w.holds == 0 {
		how := syscall.LOCK_SH
		if exclusive {
			how = syscall.LOCK_EX
		}
		f, err := flockPoll(ctx, p, how)
		if err != nil {
			return err
		}
		w.f = f
	}
	w.holds++
	return nil
}

// releaseFile drops one in-process holder; the last one unlocks the file.
func (w *workspaceLock) releaseFile() {
	w.fileMu <- struct{}{}
	defer func() { <-w.fileMu }()
	w.holds--
	if w.holds == 0 {
		funlock(w.f)
		w.f = nil
	}
}

// flockPoll opens (creating) the lock file p and takes flock how on it,
// polling with LOCK_NB until it succeeds or ctx is done.
func flockPoll(ctx context.Context, p string, how int) (*os.File, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := filelock.Poll(ctx, f, how, lockPollMin, lockPollMax); err != nil {
		f.Close()
		if err == ctx.Err() {
			return nil, fmt.Errorf("waiting for lock %s: %w", p, err)
		}
		return nil, fmt.Errorf("flock %s: %w", p, err)
	}
	return f, nil
}

// funlock releases a lock taken by flockPoll and closes its file.
func funlock(f *os.File) {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	_ = f.Close()
}

// keySemRef returns the in-process semaphore of key, counting a reference.
func (s *Store) keySemRef(key string) *rwSem {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	ks, ok := s.keyLocks[key]
	if !ok {
		ks = &keySem{}
		s.keyLocks[key] = ks
	}
	ks.refs++
	return &ks.sem
}

// keySemUnref drops a reference taken by keySemRef, forgetting the semaphore
// when no goroutine holds or waits for it.
func (s *Store) keySemUnref(key string) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	ks := s.keyLocks[key]
	ks.refs--
	if ks.refs == 0 {
		delete(s.keyLocks, key)
	}
}

// keySem is a reference-counted in-process semaphore for one key.
type keySem struct {
	sem  rwSem
	refs int
}

// rwSem is a readers-writer semaphore whose waits honour a context.
type rwSem struct {
	mu      sync.Mutex
	readers int
	writer  bool
	wake    chan struct{} // closed and replaced on every release
}

// lock takes the semaphore, exclusively or shared, or fails when ctx is done.
func (r *rwSem) lock(ctx context.Context, exclusive bool) error {
	for {
		r.mu.Lock()
		if !r.writer && (!exclusive || r.readers == 0) {
			if exclusive {
				r.writer = true
			} else {
				r.readers++
			}
			r.mu.Unlock()
			return nil
		}
		if r.wake == nil {
			r.wake = make(chan struct{})
		}
		w := r.wake
		r.mu.Unlock()
		select {
		case <-w:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// unlock releases a hold taken with the same exclusive flag and wakes waiters.
func (r *rwSem) unlock(exclusive bool) {
	r.mu.Lock()
	if exclusive {
		r.writer = false
	} else {
		r.readers--
	}
	if r.wake != nil {
		close(r.wake)
		r.wake = nil
	}
	r.mu.Unlock()
}
